package inventory

import (
	"net/http"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestReleaseGivesBackExactlyOnce(t *testing.T) {
	f := newFixture(t)
	body := reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 3})
	f.Do(http.MethodPut, "/v1/reservations/res-1", body).Want(t, http.StatusCreated, nil)
	for i := range 3 {
		var r Reservation
		f.Do(http.MethodPost, "/v1/reservations/res-1/release", `{"reason":"payment declined"}`).Want(t, http.StatusOK, &r)
		if r.Status != Released || r.Reason != "payment declined" {
			t.Errorf("release %d = %+v, want RELEASED with the reason", i, r)
		}
	}
	if l, p := f.stock(t, "LAP-001"), f.stock(t, "PHN-001"); l != 50 || p != 100 {
		t.Errorf("stock after three releases = %d/%d, want 50/100 (given back once)", l, p)
	}
	// A replay of the reserve after its release returns the first answer and takes nothing.
	f.Do(http.MethodPut, "/v1/reservations/res-1", body).Want(t, http.StatusCreated, nil)
	if l := f.stock(t, "LAP-001"); l != 50 {
		t.Errorf("stock after replaying a released reserve = %d, want 50", l)
	}
}

func TestReleaseOfFailedReservationChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 51})).WantError(t, http.StatusConflict, CodeOutOfStock, "")
	var r Reservation
	f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, &r)
	if r.Status != Failed {
		t.Errorf("status = %s, want FAILED (unchanged)", r.Status)
	}
	if l := f.stock(t, "LAP-001"); l != 50 {
		t.Errorf("stock = %d, want 50", l)
	}
}

func TestReleaseBeforeReserveLeavesTombstone(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		got := f.Do(http.MethodPost, "/v1/reservations/res-9/release", "")
		var r Reservation
		got.Want(t, http.StatusOK, &r)
		if r.Status != Released || !r.Tombstone {
			t.Errorf("release of an unknown reservation = %s, want a RELEASED tombstone", got.Body)
		}
	}
	f.Do(http.MethodPut, "/v1/reservations/res-9", reserveBody("ord-9", Item{"LAP-001", 1})).
		WantError(t, http.StatusConflict, platform.CodeAlreadyCompensated, "")
	if l := f.stock(t, "LAP-001"); l != 50 {
		t.Errorf("stock after a late reserve = %d, want 50 (nothing leaked)", l)
	}
	f.Do(http.MethodGet, "/v1/reservations/nope", nil).WantError(t, http.StatusNotFound, CodeReservationNotFound, "reservationId")
}

// TestCrashMidReleaseIsFinishedOnce gives back the first product and stops, as a crash
// would; the next release finishes the job without giving the first product back twice.
func TestCrashMidReleaseIsFinishedOnce(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 2}, Item{"PHN-001", 3})).Want(t, http.StatusCreated, nil)
	ok, d, err := f.store.claim(t.Context(), "res-1", Reserved, bson.D{{Key: "status", Value: Releasing}, {Key: "releaseMode", Value: modeReserved}})
	if err != nil || !ok {
		t.Fatalf("claim RELEASING: ok=%v err=%v", ok, err)
	}
	half := d
	half.Items = d.Items[:1]
	if err := f.store.giveBackAll(t.Context(), half); err != nil {
		t.Fatalf("give back the first item: %v", err)
	}
	f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, nil)
	if l, p := f.stock(t, "LAP-001"), f.stock(t, "PHN-001"); l != 50 || p != 100 {
		t.Errorf("stock = %d/%d, want 50/100", l, p)
	}
}

// TestSweepCompactsProducts checks that compaction moves the record of every stock move
// from the product to the ledger, and that releases before and after it give back exactly
// once.
func TestSweepCompactsProducts(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 2})).Want(t, http.StatusCreated, nil)
	f.Do(http.MethodPut, "/v1/reservations/res-2", reserveBody("ord-2", Item{"LAP-001", 1})).Want(t, http.StatusCreated, nil)
	if tok := f.tokens(t, "LAP-001"); len(tok) != 2 {
		t.Fatalf("tokens before the sweep = %v, want the two takes", tok)
	}
	if n, err := f.store.Sweep(t.Context()); err != nil || n != 2 {
		t.Fatalf("sweep: n=%d err=%v, want 2 tokens", n, err)
	}
	if tok := f.tokens(t, "LAP-001"); len(tok) != 0 {
		t.Errorf("tokens after the sweep = %v, want none", tok)
	}
	if held := f.held(t, "LAP-001"); held != 3 {
		t.Errorf("the ledger holds %d units of LAP-001, want 3", held)
	}
	// Release after the sweep still gives back exactly once; its token is swept later.
	for range 2 {
		f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, nil)
	}
	if l := f.stock(t, "LAP-001"); l != 49 {
		t.Errorf("stock = %d, want 49 (res-2 still holds 1)", l)
	}
	if n, err := f.store.Sweep(t.Context()); err != nil || n != 1 {
		t.Fatalf("sweep of the release: n=%d err=%v, want 1 token", n, err)
	}
	f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, nil)
	if l, held, tok := f.stock(t, "LAP-001"), f.held(t, "LAP-001"), f.tokens(t, "LAP-001"); l != 49 || held != 1 || len(tok) != 0 {
		t.Errorf("after a third release: stock %d, held %d, tokens %v; want 49, 1, none", l, held, tok)
	}
}

func TestListReservationsByOrder(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/reservations/res-a", reserveBody("ord-1", Item{"LAP-001", 1})).Want(t, http.StatusCreated, nil)
	f.Do(http.MethodPut, "/v1/reservations/res-b", reserveBody("ord-2", Item{"LAP-001", 1})).Want(t, http.StatusCreated, nil)
	var list platform.ListResponse[Reservation]
	f.Do(http.MethodGet, "/v1/reservations?orderId=ord-2", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].ReservationID != "res-b" {
		t.Errorf("reservations of ord-2 = %+v, want res-b", list.Items)
	}
	f.Do(http.MethodGet, "/v1/reservations?orderId=bad%20id", nil).WantError(t, http.StatusBadRequest, platform.CodeInvalidArgument, "orderId")
}
