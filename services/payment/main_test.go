package payment

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

// newFixture serves the payment service with the default limit and PAYPAL declined.
func newFixture(t testing.TB) fixture {
	t.Helper()
	db := testmongo.Database(t, mongoURI)
	c, _ := platformtest.NewServer(t, "payment", func(ctx context.Context, srv *platform.Server) error {
		rules := Rules{DeclineAbove: DefaultDeclineAbove, DeclinedMethods: []string{"PAYPAL"}}
		return Register(srv, db, Config{Rules: rules, Now: func() time.Time { return t0 }}).SetUp(ctx)
	})
	return fixture{c: c, db: db}
}

func (f fixture) count(t testing.TB) int64 {
	t.Helper()
	n, err := f.db.Collection("payments").CountDocuments(t.Context(), bson.D{})
	if err != nil {
		t.Fatalf("count payments: %v", err)
	}
	return n
}

func paymentBody(amount, method string) map[string]any {
	return map[string]any{"orderId": "ord-1", "customerId": "c-1", "amount": amount, "currency": "USD", "method": method}
}
