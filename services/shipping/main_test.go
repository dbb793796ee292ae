package shipping

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
	c  *platformtest.Client
	db *mongo.Database
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	s := platformtest.NewService(t, "shipping", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		return Register(srv, db, Config{Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: s.Client, db: s.DB}
}

func (f fixture) count(t testing.TB) int64 {
	t.Helper()
	return platformtest.Count(t, f.db, "shipments")
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
