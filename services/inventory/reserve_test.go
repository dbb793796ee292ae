package inventory

import (
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestReserveTakesStockAndReplays(t *testing.T) {
	f := newFixture(t)
	body := reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 3})
	first := f.Do(http.MethodPut, "/v1/reservations/res-1", body, "Idempotency-Key", "uid/ReserveInventory/action")
	var got Reservation
	first.Want(t, http.StatusCreated, &got)
	want := Reservation{ReservationID: "res-1", OrderID: "ord-1", Status: Reserved,
		Items: []Item{{"LAP-001", 2}, {"PHN-001", 3}}, CreatedAt: "2026-11-28T12:00:00Z", UpdatedAt: "2026-11-28T12:00:00Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reserve: -want +got:\n%s", diff)
	}
	for range 2 {
		f.Do(http.MethodPut, "/v1/reservations/res-1", body).WantSame(t, first)
	}
	if l, p := f.stock(t, "LAP-001"), f.stock(t, "PHN-001"); l != 48 || p != 97 {
		t.Errorf("stock after reserve and replays = %d/%d, want 48/97 (taken once)", l, p)
	}
	other := reserveBody("ord-1", Item{"LAP-001", 3})
	f.Do(http.MethodPut, "/v1/reservations/res-1", other).WantError(t, http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	if l := f.stock(t, "LAP-001"); l != 48 {
		t.Errorf("stock after refused key reuse = %d, want 48", l)
	}
}

func TestReserveOutOfStockLeavesNoTrace(t *testing.T) {
	f := newFixture(t)
	body := reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 101}, Item{"TAB-001", 31})
	first := f.Do(http.MethodPut, "/v1/reservations/res-1", body)
	e := first.WantError(t, http.StatusConflict, CodeOutOfStock, "")
	wantDetails := map[string]any{"items": []any{
		map[string]any{"productId": "PHN-001", "requested": 101.0, "available": 100.0},
		map[string]any{"productId": "TAB-001", "requested": 31.0, "available": 30.0},
	}}
	if diff := cmp.Diff(wantDetails, e.Details); diff != "" {
		t.Errorf("details: -want +got:\n%s", diff)
	}
	assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 100, "TAB-001": 30})
	// The outcome sticks: more stock later does not turn the replay into a success.
	f.Do(http.MethodPut, "/v1/products/PHN-001", `{"name":"Smartphone","price":"699.99","stock":500}`).Want(t, http.StatusOK, nil)
	f.Do(http.MethodPut, "/v1/reservations/res-1", body).WantSame(t, first)
	var r Reservation
	f.Do(http.MethodGet, "/v1/reservations/res-1", nil).Want(t, http.StatusOK, &r)
	if r.Status != Failed || r.Failure != CodeOutOfStock {
		t.Errorf("stored reservation = %+v, want FAILED with OUT_OF_STOCK", r)
	}
}

// TestReserveUndoesPartialTakes makes the second item run short after the first was taken
// (another order won it in between): the first take is given back.
func TestReserveUndoesPartialTakes(t *testing.T) {
	f := newFixture(t)
	f.store.beforeTake = func(i int) error {
		if i == 1 {
			f.Do(http.MethodPut, "/v1/products/PHN-001", `{"name":"Smartphone","price":"699.99","stock":1}`).Want(t, http.StatusOK, nil)
		}
		return nil
	}
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 3})).
		WantError(t, http.StatusConflict, CodeOutOfStock, "")
	assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 1})
}

func TestReserveRefusesUnknownAndDiscontinued(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		items []Item
		code  string
		field string
	}{
		"Unknown":      {[]Item{{"LAP-001", 1}, {"NOPE-1", 1}}, CodeUnknownProduct, "items[1].productId"},
		"Discontinued": {[]Item{{"OLD-001", 1}, {"LAP-001", 1}}, CodeProductDiscontinued, "items[0].productId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := "/v1/reservations/res-" + name
			first := f.Do(http.MethodPut, path, reserveBody("ord-1", tc.items...))
			first.WantError(t, http.StatusUnprocessableEntity, tc.code, tc.field)
			f.Do(http.MethodPut, path, reserveBody("ord-1", tc.items...)).WantSame(t, first)
		})
	}
	assertUntouched(t, f, map[string]int{"LAP-001": 50, "OLD-001": 10})
}

// TestCrashMidReserveIsRepaired stops a run after its first take, as a crash would. A
// replay resumes it (each product taken once); a release instead gives the take back.
func TestCrashMidReserveIsRepaired(t *testing.T) {
	crash := errors.New("simulated crash")
	body := reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 3})
	crashAfterFirstTake := func(t *testing.T) fixture {
		t.Helper()
		f := newFixture(t)
		f.store.beforeTake = func(i int) error {
			if i == 1 {
				return crash
			}
			return nil
		}
		f.Do(http.MethodPut, "/v1/reservations/res-1", body).WantError(t, http.StatusInternalServerError, platform.CodeInternal, "")
		f.store.beforeTake = nil
		if l, p := f.stock(t, "LAP-001"), f.stock(t, "PHN-001"); l != 48 || p != 100 {
			t.Fatalf("stock after the crash = %d/%d, want 48/100", l, p)
		}
		return f
	}
	t.Run("ReplayResumes", func(t *testing.T) {
		f := crashAfterFirstTake(t)
		f.Do(http.MethodPut, "/v1/reservations/res-1", body).Want(t, http.StatusCreated, nil)
		if l, p := f.stock(t, "LAP-001"), f.stock(t, "PHN-001"); l != 48 || p != 97 {
			t.Errorf("stock after resume = %d/%d, want 48/97", l, p)
		}
	})
	t.Run("ReleaseRepairs", func(t *testing.T) {
		f := crashAfterFirstTake(t)
		var r Reservation
		f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, &r)
		if r.Status != Released {
			t.Errorf("status = %s, want RELEASED", r.Status)
		}
		assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 100})
		f.Do(http.MethodPut, "/v1/reservations/res-1", body).WantError(t, http.StatusConflict, platform.CodeAlreadyCompensated, "")
		assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 100})
	})
}

// assertUntouched checks stock levels and that no reservation holds any of the products:
// once compacted, no product holds a token, and the ledger holds no unit of them.
func assertUntouched(t *testing.T, f fixture, stock map[string]int) {
	t.Helper()
	f.sweep(t)
	for id, want := range stock {
		if got := f.stock(t, id); got != want {
			t.Errorf("stock of %s = %d, want %d", id, got, want)
		}
		if tok := f.tokens(t, id); len(tok) != 0 {
			t.Errorf("product %s still records stock moves %v", id, tok)
		}
		if n := f.held(t, id); n != 0 {
			t.Errorf("the ledger holds %d units of %s, want none", n, id)
		}
	}
	var list platform.ListResponse[Reservation]
	f.Do(http.MethodGet, "/v1/reservations", nil).Want(t, http.StatusOK, &list)
	for _, r := range list.Items {
		if r.Status == Reserved {
			t.Errorf("reservation %s is RESERVED, want none", r.ReservationID)
		}
	}
}
