package notification

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

// newFixture serves the notification service; deliveries to customer "c-bounce" fail.
func newFixture(t testing.TB) fixture {
	t.Helper()
	s := platformtest.NewService(t, "notification", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		cfg := Config{Delivery: Delivery{FailCustomers: []string{"c-bounce"}}, Now: func() time.Time { return t0 }}
		return Register(srv, db, cfg).SetUp(ctx)
	})
	return fixture{c: s.Client, db: s.DB}
}

func (f fixture) count(t testing.TB) int64 {
	t.Helper()
	return platformtest.Count(t, f.db, "notifications")
}

func notificationBody(customer, typ string, data map[string]string) map[string]any {
	return map[string]any{"orderId": "ord-1", "customerId": customer, "type": typ, "data": data}
}
