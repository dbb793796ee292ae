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
	if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		c.Close()
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
