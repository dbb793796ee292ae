package payment

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

// newFixture serves the payment service with the default limit and PAYPAL declined.
func newFixture(t testing.TB) fixture {
	t.Helper()
	s := platformtest.NewService(t, "payment", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		rules := Rules{DeclineAbove: DefaultDeclineAbove, DeclinedMethods: []string{"PAYPAL"}}
		return Register(srv, db, Config{Rules: rules, Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: s.Client, db: s.DB}
}

func (f fixture) count(t testing.TB) int64 {
	t.Helper()
	return platformtest.Count(t, f.db, "payments")
}

func paymentBody(amount, method string) map[string]any {
	return map[string]any{"orderId": "ord-1", "customerId": "c-1", "amount": amount, "currency": "USD", "method": method}
}
