package platformtest

import (
	"context"
	"os"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/internal/testing/mongotest"
	"github.com/ordersaga/ordersaga/services/platform"
)

// mongoURI is set once by Main: one FerretDB (or MONGO_TEST_URI) serves the test binary,
// that is one package.
var mongoURI string //nolint:gochecknoglobals // the test binary's one server, set by Main before any test runs: the TestMain fixture that .golangci.yml exempts in _test.go files, here in the helper package the five service packages share

// Main is the TestMain of a service package whose tests use NewService:
//
//	func TestMain(m *testing.M) { platformtest.Main(m) }
func Main(m *testing.M) { os.Exit(mongotest.RunMain(m, &mongoURI)) }

// Service is a service under test, served over httptest on a database of its own. Its
// Client is embedded: tests send requests with s.Do.
type Service struct {
	*Client
	Server *platform.Server
	DB     *mongo.Database
}

// NewService serves service (see NewServer) on a database of its own, dropped when t ends;
// register adds the service's routes to srv on db and sets up its store. The package's
// TestMain must be Main.
func NewService(t testing.TB, service string, register func(ctx context.Context, srv *platform.Server, db *mongo.Database) error) Service {
	t.Helper()
	if mongoURI == "" {
		t.Fatal("platformtest.NewService: the package's TestMain must call platformtest.Main")
	}
	db := mongotest.Database(t, mongoURI)
	c, srv := NewServer(t, service, func(ctx context.Context, srv *platform.Server) error {
		return register(ctx, srv, db)
	})
	return Service{Client: c, Server: srv, DB: db}
}

// Count returns the number of documents in the service's collection coll.
func (s Service) Count(t testing.TB, coll string) int64 {
	t.Helper()
	n, err := s.DB.Collection(coll).CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count %s: %v", coll, err)
	}
	return n
}
