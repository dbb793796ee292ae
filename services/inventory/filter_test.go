package inventory

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// TestTakeFilterIsTheGuard pins the exact update that keeps stock from going negative: the
// stock check, the discontinued check, the once-per-reservation token and the generation
// are all in the filter of one single-document update, which MongoDB applies atomically.
func TestTakeFilterIsTheGuard(t *testing.T) {
	t0 := platformtest.T0()
	want := bson.D{
		{Key: "_id", Value: "LAP-001"},
		{Key: "gen", Value: int64(7)},
		{Key: "discontinued", Value: false},
		{Key: "stock", Value: bson.D{{Key: "$gte", Value: 3}}},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: "r:res-1"}}},
	}
	if diff := cmp.Diff(want, takeFilter("LAP-001", 3, 7, reserveToken("res-1"))); diff != "" {
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
	wantBack := bson.D{
		{Key: "_id", Value: "LAP-001"},
		{Key: "gen", Value: int64(7)},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: "u:res-1"}}},
	}
	if diff := cmp.Diff(wantBack, giveBackFilter("LAP-001", 7, releaseToken("res-1"))); diff != "" {
		t.Errorf("giveBackFilter: -want +got:\n%s", diff)
	}
}

// TestTakeFilterRefuses runs the filter against the server, one update at a time: what
// it lets through and what it refuses.
func TestTakeFilterRefuses(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/products/P-5", `{"name":"Five","price":"1.00","stock":5}`).Want(t, http.StatusCreated, nil)
	products := f.DB.Collection("products")
	take := func(q int, gen int64, token string) bool {
		res, err := products.UpdateOne(t.Context(), takeFilter("P-5", q, gen, token), takeUpdate(q, token, platformtest.T0()))
		if err != nil {
			t.Fatalf("update: %v", err)
		}
		return res.ModifiedCount == 1
	}
	steps := []struct {
		name  string
		q     int
		gen   int64
		token string
		want  bool
		stock int
	}{
		{"TakesWhenEnough", 3, 0, "r:a", true, 2},
		{"SameReservationAgainIsRefused", 1, 0, "r:a", false, 2},
		{"MoreThanLeftIsRefused", 3, 0, "r:b", false, 2},
		{"ExactlyWhatIsLeft", 2, 0, "r:b", true, 0},
		{"NothingLeft", 1, 0, "r:c", false, 0},
	}
	for _, s := range steps {
		if got := take(s.q, s.gen, s.token); got != s.want {
			t.Errorf("%s: took = %v, want %v", s.name, got, s.want)
		}
		if got := f.stock(t, "P-5"); got != s.stock {
			t.Errorf("%s: stock = %d, want %d", s.name, got, s.stock)
		}
	}
	f.Do(http.MethodPut, "/v1/products/P-5", `{"name":"Five","price":"1.00","stock":5,"discontinued":true}`).Want(t, http.StatusOK, nil)
	if take(1, 0, "r:d") {
		t.Error("a discontinued product was taken")
	}
	f.Do(http.MethodPut, "/v1/products/P-5", `{"name":"Five","price":"1.00","stock":5}`).Want(t, http.StatusOK, nil)
	if _, err := products.UpdateOne(t.Context(), bson.D{{Key: "_id", Value: "P-5"}}, bson.D{{Key: "$inc", Value: bson.D{{Key: "gen", Value: 1}}}}); err != nil {
		t.Fatalf("bump gen: %v", err)
	}
	if take(1, 0, "r:e") {
		t.Error("a take that read the product before a compaction (stale gen) went through")
	}
	if !take(1, 1, "r:e") {
		t.Error("a take with the current gen was refused")
	}
}
