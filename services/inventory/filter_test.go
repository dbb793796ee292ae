package inventory

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/internal/testmongo"
)

// TestTakeFilterIsTheGuard pins the exact update that keeps stock from going negative: the
// stock check, the discontinued check and the once-per-reservation token are all in the
// filter of one single-document update, which MongoDB applies atomically.
func TestTakeFilterIsTheGuard(t *testing.T) {
	want := bson.D{
		{Key: "_id", Value: "LAP-001"},
		{Key: "discontinued", Value: false},
		{Key: "stock", Value: bson.D{{Key: "$gte", Value: 3}}},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: "r:res-1"}}},
	}
	if diff := cmp.Diff(want, takeFilter("LAP-001", 3, reserveToken("res-1"))); diff != "" {
		t.Errorf("takeFilter: -want +got:\n%s", diff)
	}
	wantUpdate := bson.D{
		{Key: "$inc", Value: bson.D{{Key: "stock", Value: -3}}},
		{Key: "$push", Value: bson.D{{Key: "pending", Value: "r:res-1"}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: t0}}},
	}
	if diff := cmp.Diff(wantUpdate, takeUpdate(3, "r:res-1", t0)); diff != "" {
		t.Errorf("takeUpdate: -want +got:\n%s", diff)
	}
}

// TestTakeFilterRefuses runs the filter against the server, one update at a time: what
// it lets through and what it refuses.
func TestTakeFilterRefuses(t *testing.T) {
	f := newFixture(t)
	f.c.Do(http.MethodPut, "/v1/products/P-5", `{"name":"Five","price":"1.00","stock":5}`).Want(t, http.StatusCreated, nil)
	products := f.db.Collection("products")
	take := func(q int, token string) bool {
		res, err := products.UpdateOne(t.Context(), takeFilter("P-5", q, token), takeUpdate(q, token, t0))
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		return res.ModifiedCount == 1
	}
	steps := []struct {
		name  string
		q     int
		token string
		want  bool
		stock int
	}{
		{"TakesWhenEnough", 3, "r:a", true, 2},
		{"SameReservationAgainIsRefused", 1, "r:a", false, 2},
		{"MoreThanLeftIsRefused", 3, "r:b", false, 2},
		{"ExactlyWhatIsLeft", 2, "r:b", true, 0},
		{"NothingLeft", 1, "r:c", false, 0},
	}
	for _, s := range steps {
		if got := take(s.q, s.token); got != s.want {
			t.Errorf("%s: took = %v, want %v", s.name, got, s.want)
		}
		if got := f.stock(t, "P-5"); got != s.stock {
			t.Errorf("%s: stock = %d, want %d", s.name, got, s.stock)
		}
	}
	f.c.Do(http.MethodPut, "/v1/products/P-5", `{"name":"Five","price":"1.00","stock":5,"discontinued":true}`).Want(t, http.StatusOK, nil)
	if take(1, "r:d") {
		t.Error("a discontinued product was taken")
	}
}

// TestConcurrentReservationsNeverOversell needs a real MongoDB (see RequireRealMongo).
func TestConcurrentReservationsNeverOversell(t *testing.T) {
	testmongo.RequireRealMongo(t)
	assertNoOversell(t, newFixture(t))
}

// TestConcurrentReservationsInOneProcessNeverOversell runs on any Mongo-compatible
// server: one inventory process serializes its own writes per document (docLocks), so
// even a server whose conditional updates are not atomic (FerretDB, used by the local
// stack) does not oversell.
func TestConcurrentReservationsInOneProcessNeverOversell(t *testing.T) {
	assertNoOversell(t, newFixture(t))
}

func assertNoOversell(t *testing.T, f fixture) {
	t.Helper()
	const stock, buyers = 10, 40
	f.c.Do(http.MethodPut, "/v1/products/HOT-1", fmt.Sprintf(`{"name":"Hot","price":"1.00","stock":%d}`, stock)).Want(t, http.StatusCreated, nil)
	statuses := make([]int, buyers)
	var wg sync.WaitGroup
	for i := range buyers {
		wg.Go(func() {
			// Two items, so that partial takes must be undone under contention too.
			body := reserveBody(fmt.Sprintf("ord-%d", i), Item{"HOT-1", 1}, Item{"PHN-001", 1})
			statuses[i] = f.c.Do(http.MethodPut, fmt.Sprintf("/v1/reservations/res-%d", i), body).Status
		})
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("status %d, want 201 or 409", s)
		}
	}
	if won != stock {
		t.Errorf("%d reservations won, want exactly %d", won, stock)
	}
	if got := f.stock(t, "HOT-1"); got != 0 {
		t.Errorf("stock of HOT-1 = %d, want 0", got)
	}
	if got := f.stock(t, "PHN-001"); got != 100-won {
		t.Errorf("stock of PHN-001 = %d, want %d", got, 100-won)
	}
}
