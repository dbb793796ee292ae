package mongoserver

import (
	"context"
	"errors"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

func TestStartServesAndStopLeavesNothing(t *testing.T) {
	if os.Getenv(EnvURI) != "" {
		t.Skip("MONGO_TEST_URI is set: no FerretDB to start")
	}
	srv, err := Start(t.Context(), Options{})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	client, err := mongo.Connect(options.Client().ApplyURI(srv.URI))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	if _, err := client.Database("mongoserver_test").Collection("c").InsertOne(t.Context(), bson.D{{Key: "_id", Value: 1}}); err != nil {
		t.Fatalf("insert: %v", err)
	}
	_ = client.Disconnect(t.Context()) // an open connection makes FerretDB's shutdown wait a few seconds
	pid, dir := srv.cmd.Process.Pid, srv.dataDir
	if err := srv.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if err := syscall.Kill(-pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Errorf("process group %d still exists after Stop (kill 0: %v)", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("data dir %s still exists after Stop", dir)
	}
	addr := strings.TrimSuffix(strings.TrimPrefix(srv.URI, "mongodb://"), "/")
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil { //nolint:gosec,noctx // G704: the address of the server this test started
		_ = c.Close()
		t.Errorf("%s still accepts connections after Stop", addr)
	}
}

func TestExternalServerIsUsedAsIs(t *testing.T) {
	t.Setenv(EnvURI, "mongodb://example.invalid:27017/")
	srv, err := Start(context.Background(), Options{})
	if err != nil || !srv.External || srv.URI != "mongodb://example.invalid:27017/" {
		t.Fatalf("Start with %s = %+v, %v", EnvURI, srv, err)
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("Stop of an external server: %v", err)
	}
}

// A server killed with SIGKILL and started again on its address and data directory comes
// back with what was written before the kill, and clients reconnect to the same URI.
func TestRestartOnSameAddrAndDataDirKeepsData(t *testing.T) {
	if os.Getenv(EnvURI) != "" {
		t.Skip("MONGO_TEST_URI is set: no FerretDB to start")
	}
	dir := t.TempDir()
	first, err := Start(t.Context(), Options{DataDir: dir})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() { _ = first.Stop() })
	client, err := mongo.Connect(options.Client().ApplyURI(first.URI).SetServerSelectionTimeout(20 * time.Second))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	coll := client.Database("mongoserver_test").Collection("c")
	if _, err := coll.InsertOne(t.Context(), bson.D{{Key: "_id", Value: "before-the-kill"}}); err != nil {
		t.Fatalf("insert: %v", err)
	}

	if err := syscall.Kill(first.PID(), syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	select {
	case <-first.Done():
	case <-time.After(time.Minute):
		t.Fatal("Done not closed a minute after SIGKILL")
	}
	if err := first.Err(); err == nil || err.Error() != "signal: killed" {
		t.Errorf("Err after SIGKILL = %v, want signal: killed", err)
	}
	if err := first.Stop(); err != nil {
		t.Errorf("Stop after the process died: %v", err)
	}
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("Stop removed the caller's data dir: %v", err)
	}

	second, err := Start(t.Context(), Options{Addr: first.Addr(), DataDir: dir})
	if err != nil {
		t.Fatalf("Start again on %s: %v", first.Addr(), err)
	}
	t.Cleanup(func() { _ = second.Stop() })
	if second.URI != first.URI || second.PID() == first.PID() {
		t.Errorf("second server: URI %s PID %d, first: URI %s PID %d", second.URI, second.PID(), first.URI, first.PID())
	}
	// The first client, not a new one: its connections died with the first server.
	n, err := coll.CountDocuments(t.Context(), bson.D{{Key: "_id", Value: "before-the-kill"}})
	if err != nil || n != 1 {
		t.Errorf("document written before the kill: count %d, %v; want 1", n, err)
	}
	_ = client.Disconnect(t.Context()) // an open connection makes FerretDB's shutdown wait a few seconds
}
