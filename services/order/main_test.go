package order

import (
	"context"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fixture struct {
	c   *platformtest.Client
	db  *mongo.Database
	srv *platform.Server
}

// newFixture serves the order service on a database of its own with the clock fixed at t0.
func newFixture(t *testing.T) fixture {
	t.Helper()
	s := platformtest.NewService(t, "order", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		return Register(srv, db, Config{Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: s.Client, db: s.DB, srv: s.Server}
}

func (f fixture) count(t *testing.T) int64 {
	t.Helper()
	return platformtest.Count(t, f.db, "orders")
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
