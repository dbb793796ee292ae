package inventory

import (
	"context"
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// fixture is the service fixture with the store at hand, for tests that stop or repair
// runs on purpose.
type fixture struct {
	platformtest.Fixture[*Service]
	store *Store
}

// newFixture serves the inventory service, seeded with DefaultCatalog, with the sweeper
// off and SerializeProcess, which every test server honours.
func newFixture(t testing.TB) fixture {
	t.Helper()
	return newFixtureWith(t, SerializeProcess)
}

// newFixtureWith is newFixture with write serialization ws.
func newFixtureWith(t testing.TB, ws WriteSerialization) fixture {
	t.Helper()
	f := platformtest.NewFixture(t, "inventory", Register, testConfig(ws))
	return fixture{Fixture: f, store: f.Svc.store}
}

func testConfig(ws WriteSerialization) Config {
	return Config{Catalog: DefaultCatalog(), WriteSerialization: ws, SweepInterval: -1, Now: platformtest.T0}
}

// replica serves another inventory process on f's database, as a second replica of the
// service would run, and returns its client.
func (f fixture) replica(t testing.TB, ws WriteSerialization) *platformtest.Client {
	t.Helper()
	c, _ := platformtest.NewServer(t, "inventory", func(ctx context.Context, srv *platform.Server) error {
		return Register(srv, f.DB, testConfig(ws)).SetUp(ctx)
	})
	return c
}

func (f fixture) stock(t testing.TB, id string) int {
	t.Helper()
	var p Product
	f.Do(http.MethodGet, "/v1/products/"+id, nil).Want(t, http.StatusOK, &p)
	return p.Stock
}

// tokens returns the stock-move tokens left on product id.
func (f fixture) tokens(t testing.TB, id string) []string {
	t.Helper()
	var p ProductDocument
	if err := f.DB.Collection("products").FindOne(t.Context(), bson.D{{Key: "_id", Value: id}}).Decode(&p); err != nil {
		t.Fatalf("read product %s: %v", id, err)
	}
	return p.Pending
}

// sweep compacts every product, as the sweeper does.
func (f fixture) sweep(t testing.TB) {
	t.Helper()
	if _, err := f.store.Sweep(t.Context()); err != nil {
		t.Fatalf("sweep: %v", err)
	}
}

// held returns the units of product id that the ledger records as taken and not given back.
func (f fixture) held(t testing.TB, id string) int {
	t.Helper()
	cur, err := f.DB.Collection("moves").Find(t.Context(), bson.D{{Key: "productId", Value: id}, {Key: "state", Value: moveTaken}})
	if err != nil {
		t.Fatalf("read moves of %s: %v", id, err)
	}
	var moves []move
	if err := cur.All(t.Context(), &moves); err != nil {
		t.Fatalf("read moves of %s: %v", id, err)
	}
	n := 0
	for _, m := range moves {
		n += m.Quantity
	}
	return n
}

func reserveBody(order string, items ...Item) map[string]any {
	list := make([]any, 0, len(items))
	for _, it := range items {
		list = append(list, map[string]any{"productId": it.ProductID, "quantity": it.Quantity})
	}
	return map[string]any{"orderId": order, "items": list}
}
