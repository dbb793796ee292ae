package inventory

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// pausedRun starts reservation id's first run through the store and holds it before its
// first take, after it read the products; resume lets it go on and returns its outcome.
// Runs of the same reservation meanwhile are not held. crashAt, when >= 0, stops the first
// run before that item once resumed, as a crash would.
func pausedRun(t *testing.T, f fixture, id string, spec ReserveSpec, crashAt int) (resume func() (platform.StoredResponse, error)) {
	t.Helper()
	paused, goOn := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	var resumed atomic.Bool
	f.store.beforeTake = func(i int) error {
		if i == 0 && calls.Add(1) == 1 {
			close(paused)
			<-goOn
			return nil
		}
		if resumed.Load() && i == crashAt {
			return errors.New("simulated crash")
		}
		return nil
	}
	type outcome struct {
		resp platform.StoredResponse
		err  error
	}
	done := make(chan outcome, 1)
	go func() {
		resp, _, err := f.store.Reserve(context.WithoutCancel(t.Context()), id, spec, "")
		done <- outcome{resp, err}
	}()
	<-paused
	return func() (platform.StoredResponse, error) {
		resumed.Store(true)
		close(goOn)
		o := <-done
		f.store.beforeTake = nil
		return o.resp, o.err
	}
}

// TestStaleRunAfterCompactionTakesNothing holds a first run after it read the product; a
// replay then completes the reservation and the sweeper compacts the product, so that the
// first run's token check alone would let it take again. The gen it read refuses it.
func TestStaleRunAfterCompactionTakesNothing(t *testing.T) {
	f := newFixture(t)
	spec := ReserveSpec{OrderID: "ord-1", Items: []Item{{"LAP-001", 2}}}
	resume := pausedRun(t, f, "res-1", spec, -1)
	f.Do(http.MethodPut, "/v1/reservations/res-1", reserveBody("ord-1", Item{"LAP-001", 2})).Want(t, http.StatusCreated, nil)
	f.sweep(t)
	if tok := f.tokens(t, "LAP-001"); len(tok) != 0 {
		t.Fatalf("tokens after the sweep = %v, want none (the stale run must not see the take)", tok)
	}
	resp, err := resume()
	if err != nil || resp.Status != http.StatusCreated {
		t.Fatalf("stale run = %+v, %v; want the stored 201", resp, err)
	}
	if l, held := f.stock(t, "LAP-001"), f.held(t, "LAP-001"); l != 48 || held != 2 {
		t.Errorf("stock %d, ledger holds %d; want 48 and 2 (taken once)", l, held)
	}
}

// TestLateTakeAfterReleaseIsGivenBack holds a first run before its take while the
// reservation is released; the run then takes, loses to the release and gives it back -
// or, when it crashes right after the late take, the sweeper or a repeated release does.
func TestLateTakeAfterReleaseIsGivenBack(t *testing.T) {
	spec := ReserveSpec{OrderID: "ord-1", Items: []Item{{"LAP-001", 2}, {"PHN-001", 3}}}
	cases := map[string]struct {
		crashAt int
		repair  func(t *testing.T, f fixture)
	}{
		"RunGivesItBack":       {crashAt: -1},
		"SweepRepairsACrash":   {crashAt: 1, repair: sweepAgain},
		"ReleaseRepairsACrash": {crashAt: 1, repair: releaseAgain},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			resume := pausedRun(t, f, "res-1", spec, tc.crashAt)
			var r Reservation
			f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, &r)
			if r.Status != Released {
				t.Fatalf("release = %+v, want RELEASED", r)
			}
			_, err := resume()
			if e, ok := errors.AsType[*platform.APIError](err); tc.crashAt < 0 && (!ok || e.Code != platform.CodeAlreadyCompensated) {
				t.Errorf("late run = %v, want ALREADY_COMPENSATED", err)
			}
			if tc.repair != nil {
				if l := f.stock(t, "LAP-001"); l != 48 {
					t.Fatalf("stock of LAP-001 after the crashed late take = %d, want 48", l)
				}
				tc.repair(t, f)
			}
			assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 100})
		})
	}
}

func sweepAgain(t *testing.T, f fixture) {
	t.Helper()
	f.sweep(t)
}

func releaseAgain(t *testing.T, f fixture) {
	t.Helper()
	f.Do(http.MethodPost, "/v1/reservations/res-1/release", nil).Want(t, http.StatusOK, nil)
}

// TestUpgradeFromTokensOnly starts on a database written before the ledger (no gen, the
// tokens of settled reservations swept) and checks that every reservation still gives
// back exactly what it holds.
func TestUpgradeFromTokensOnly(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	products := f.DB.Collection("products")
	legacy := []struct {
		product string
		stock   int
		tokens  []string
	}{
		{"LAP-001", 48, nil},                    // res-kept holds 2, res-back gave its 1 back; swept
		{"PHN-001", 97, []string{"r:res-late"}}, // res-late took 3 after it FAILED, never undone
		{"TAB-001", 29, []string{"r:res-open"}}, // res-open is PENDING and took 1
	}
	for _, p := range legacy {
		set, unset := bson.D{{Key: "stock", Value: p.stock}}, bson.D{{Key: "gen", Value: ""}}
		if p.tokens != nil {
			set = append(set, bson.E{Key: "pending", Value: p.tokens})
		} else {
			unset = append(unset, bson.E{Key: "pending", Value: ""})
		}
		_, err := products.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.product}}, bson.D{{Key: "$set", Value: set}, {Key: "$unset", Value: unset}})
		if err != nil {
			t.Fatalf("write legacy %s: %v", p.product, err)
		}
	}
	t0 := platformtest.T0()
	docs := []any{
		ReservationDocument{ID: "res-kept", Items: []Item{{"LAP-001", 2}}, Status: Reserved, CreatedAt: t0, UpdatedAt: t0},
		ReservationDocument{ID: "res-back", Items: []Item{{"LAP-001", 1}}, Status: Released, ReleaseMode: modeReserved, CreatedAt: t0, UpdatedAt: t0},
		ReservationDocument{ID: "res-late", Items: []Item{{"PHN-001", 3}}, Status: Failed, CreatedAt: t0, UpdatedAt: t0},
		ReservationDocument{ID: "res-open", Items: []Item{{"TAB-001", 1}}, Status: Pending, CreatedAt: t0, UpdatedAt: t0},
	}
	if _, err := f.DB.Collection("reservations").InsertMany(ctx, docs); err != nil {
		t.Fatalf("write legacy reservations: %v", err)
	}
	if err := f.store.SetUp(ctx); err != nil {
		t.Fatalf("set-up (upgrade): %v", err)
	}
	if held := f.held(t, "LAP-001"); held != 2 {
		t.Errorf("after the upgrade the ledger holds %d units of LAP-001, want res-kept's 2", held)
	}
	for _, id := range []string{"res-kept", "res-back", "res-late", "res-open", "res-kept"} {
		f.Do(http.MethodPost, "/v1/reservations/"+id+"/release", nil).Want(t, http.StatusOK, nil)
	}
	assertUntouched(t, f, map[string]int{"LAP-001": 50, "PHN-001": 100, "TAB-001": 30})
	f.Do(http.MethodPut, "/v1/reservations/res-new", reserveBody("ord-9", Item{"LAP-001", 1})).Want(t, http.StatusCreated, nil)
}
