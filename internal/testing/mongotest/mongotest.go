// Package mongotest gives a test package one MongoDB wire-protocol server (internal/mongoserver)
// and a private database per test.
package mongotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// RunMain is the body of a package's TestMain: it starts one server for the whole package,
// stores its URI in *uri, runs the tests and stops the server. It returns the exit code.
//
//	func TestMain(m *testing.M) { os.Exit(mongotest.RunMain(m, &mongoURI)) }
func RunMain(m *testing.M, uri *string) int {
	flag.Parse()
	if f := flag.Lookup("test.fuzzworker"); f != nil && f.Value.String() == "true" {
		return m.Run() // fuzz workers run fuzz targets only, which need no database
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a cold launcher build takes ~3.5 min
	var opts mongoserver.Options
	if os.Getenv("MONGOTEST_VERBOSE") != "" { // show the server's own log, for debugging
		opts.Log = os.Stderr
	}
	srv, err := mongoserver.Start(ctx, opts)
	cancel()
	if err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
		return 1
	}
	*uri = srv.URI
	code := m.Run()
	if err := srv.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "mongotest:", err)
	}
	return code
}

// Connect returns a client for uri that is disconnected when t ends.
func Connect(t testing.TB, uri string) *mongo.Client {
	t.Helper()
	c, err := mongo.Connect(options.Client().ApplyURI(uri).SetServerSelectionTimeout(10 * time.Second))
	if err != nil {
		t.Fatalf("connect to %s: %v", uri, err)
	}
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return c
}

// Database returns a database of its own for t on the server at uri (with a fresh client),
// dropped when t ends.
func Database(t testing.TB, uri string) *mongo.Database {
	t.Helper()
	db := Connect(t, uri).Database(DatabaseName(t))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = db.Drop(ctx)
	})
	return db
}

// DatabaseName returns a unique, valid database name derived from t's name.
func DatabaseName(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	for _, r := range strings.ToLower(t.Name()) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	name := b.String()
	if len(name) > 40 {
		name = name[:40]
	}
	var suffix [4]byte
	_, _ = rand.Read(suffix[:])
	return "t_" + name + "_" + hex.EncodeToString(suffix[:])
}

// RealMongo reports whether tests run against the server named by MONGO_TEST_URI.
func RealMongo() bool { return os.Getenv(mongoserver.EnvURI) != "" }

// RequireRealMongo skips t unless MONGO_TEST_URI names a real MongoDB: FerretDB's concurrent
// findOneAndUpdate/$inc are not atomic, so a concurrency property can neither pass nor fail
// meaningfully on it.
func RequireRealMongo(t testing.TB) {
	t.Helper()
	if !RealMongo() {
		t.Skipf("skipped: needs a real MongoDB (set %s=mongodb://...): FerretDB's concurrent $inc/findOneAndUpdate are not atomic, so this concurrency test cannot pass or fail meaningfully on it", mongoserver.EnvURI)
	}
}
