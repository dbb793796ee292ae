package order

import (
	"context"
	"os"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/internal/testmongo"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// mongoURI is set once by TestMain: one FerretDB (or MONGO_TEST_URI) serves the package.
var mongoURI string

func TestMain(m *testing.M) { os.Exit(testmongo.RunMain(m, &mongoURI)) }

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fixture struct {
	c   *platformtest.Client
	db  *mongo.Database
	srv *platform.Server
}

// newFixture serves the order service on a database of its own with the clock fixed at t0.
func newFixture(t *testing.T) fixture {
	t.Helper()
	db := testmongo.Database(t, mongoURI)
	c, srv := platformtest.NewServer(t, "order", func(ctx context.Context, srv *platform.Server) error {
		return Register(srv, db, Config{Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: c, db: db, srv: srv}
}

func (f fixture) count(t *testing.T) int64 {
	t.Helper()
	n, err := f.db.Collection("orders").CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count orders: %v", err)
	}
	return n
}

func laptopOrder() map[string]any {
	return map[string]any{
		"customerId": "c-1",
		"currency":   "USD",
		"items": []any{
			map[string]any{"productId": "LAP-001", "quantity": 2, "unitPrice": "999.99"},
			map[string]any{"productId": "PHN-001", "quantity": 1, "unitPrice": "699.9"},
		},
	}
}
