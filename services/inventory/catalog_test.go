package inventory

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestSeedCatalogIsIdempotent(t *testing.T) {
	f := newFixture(t)
	var list platform.ListResponse[Product]
	f.Do(http.MethodGet, "/v1/products", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != len(DefaultCatalog()) {
		t.Fatalf("catalog has %d products, want %d", len(list.Items), len(DefaultCatalog()))
	}
	want := Product{ProductID: "LAP-001", Name: "Laptop", Price: 99999, Stock: 50, UpdatedAt: "2026-11-28T12:00:00Z"}
	var got Product
	f.Do(http.MethodGet, "/v1/products/LAP-001", nil).Want(t, http.StatusOK, &got)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("LAP-001: -want +got:\n%s", diff)
	}
	if raw := f.Do(http.MethodGet, "/v1/products/PHN-001", nil).Object(t); raw["price"] != "699.99" || raw["stock"] != 100.0 {
		t.Errorf("PHN-001 = %v, want price \"699.99\" and stock 100", raw)
	}
	// A restart seeds again: sold stock and catalog changes survive.
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 5})).Want(t, http.StatusCreated, nil)
	if err := f.Svc.SetUp(t.Context()); err != nil {
		t.Fatalf("second set-up: %v", err)
	}
	if got := f.stock(t, "LAP-001"); got != 45 {
		t.Errorf("stock after re-seed = %d, want 45", got)
	}
}

func TestPutProduct(t *testing.T) {
	f := newFixture(t)
	var created Product
	f.Do(http.MethodPut, "/v1/products/CAM-001", `{"name":"Camera","price":"249.5","stock":7}`).Want(t, http.StatusCreated, &created)
	want := Product{ProductID: "CAM-001", Name: "Camera", Price: 24950, Stock: 7, UpdatedAt: "2026-11-28T12:00:00Z"}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("create: -want +got:\n%s", diff)
	}
	var updated Product
	f.Do(http.MethodPut, "/v1/products/CAM-001", `{"name":"Camera","price":"249.50","stock":7,"discontinued":true}`).Want(t, http.StatusOK, &updated)
	if !updated.Discontinued {
		t.Errorf("update did not discontinue: %+v", updated)
	}
	// An update that changes nothing is still a 200 (the original answered 404).
	f.Do(http.MethodPut, "/v1/products/CAM-001", `{"name":"Camera","price":"249.50","stock":7,"discontinued":true}`).Want(t, http.StatusOK, nil)
	f.Do(http.MethodGet, "/v1/products/NOPE", nil).WantError(t, http.StatusNotFound, CodeProductNotFound, "productId")

	for body, field := range map[string]string{
		`{"price":"1.00","stock":1}`:                             "name",
		`{"name":"x","stock":1}`:                                 "price",
		`{"name":"x","price":"0","stock":1}`:                     "price",
		`{"name":"x","price":"1.00"}`:                            "stock",
		`{"name":"x","price":"1.00","stock":-1}`:                 "stock",
		`{"name":"x","price":"1.00","stock":"1"}`:                "stock",
		`{"name":"x","price":"1.00","stock":1,"a":1}`:            "a",
		`{"name":"x","price":"1.00","stock":1.5}`:                "stock",
		`{"name":"x","price":1,"stock":1}`:                       "price",
		`{"name":"x","price":"1","stock":1,"discontinued":"no"}`: "discontinued",
	} {
		e := f.Do(http.MethodPut, "/v1/products/NEW-1", body)
		if e.Status != http.StatusBadRequest || e.Object(t)["error"].(map[string]any)["field"] != field {
			t.Errorf("PUT %s = %d %s, want 400 naming %s", body, e.Status, e.Body, field)
		}
	}
	f.Do(http.MethodGet, "/v1/products/NEW-1", nil).WantError(t, http.StatusNotFound, CodeProductNotFound, "productId")
}
