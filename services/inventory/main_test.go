package inventory

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

type fixture struct {
	c     *platformtest.Client
	db    *mongo.Database
	svc   *Service
	store *Store
}

// newFixture serves the inventory service, seeded with DefaultCatalog, on a database of
// its own with the clock fixed at t0 and the sweeper off.
func newFixture(t testing.TB) fixture {
	t.Helper()
	var svc *Service
	s := platformtest.NewService(t, "inventory", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		svc = Register(srv, db, Config{Catalog: DefaultCatalog(), SweepInterval: -1, Now: func() time.Time { return t0 }})
		return svc.SetUp(ctx)
	})
	return fixture{c: s.Client, db: s.DB, svc: svc, store: svc.store}
}

func (f fixture) stock(t testing.TB, id string) int {
	t.Helper()
	var p Product
	f.c.Do(http.MethodGet, "/v1/products/"+id, nil).Want(t, http.StatusOK, &p)
	return p.Stock
}

// tokens returns the stock-move tokens left on product id.
func (f fixture) tokens(t testing.TB, id string) []string {
	t.Helper()
	var p product
	if err := f.db.Collection("products").FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&p); err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return p.Pending
}

func (f fixture) countReservations(t testing.TB) int64 {
	t.Helper()
	return platformtest.Count(t, f.db, "reservations")
}

func reserveBody(order string, items ...Item) map[string]any {
	list := []any{}
	for _, it := range items {
		list = append(list, map[string]any{"productId": it.ProductID, "quantity": it.Quantity})
	}
	return map[string]any{"orderId": order, "items": list}
}
