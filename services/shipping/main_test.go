package shipping

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
	c  *platformtest.Client
	db *mongo.Database
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	db := testmongo.Database(t, mongoURI)
	c, _ := platformtest.NewServer(t, "shipping", func(ctx context.Context, srv *platform.Server) error {
		return Register(srv, db, Config{Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: c, db: db}
}

func (f fixture) count(t testing.TB) int64 {
	t.Helper()
	n, err := f.db.Collection("shipments").CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count shipments: %v", err)
	}
	return n
}

func shipmentBody(method, country string) map[string]any {
	return map[string]any{
		"orderId": "ord-1",
		"method":  method,
		"address": map[string]any{"name": "Ada Lovelace", "line1": "12 Example Street", "city": "London",
			"postalCode": "N1 9GU", "country": country},
		"items": []any{map[string]any{"productId": "LAP-001", "quantity": 1}},
	}
}
