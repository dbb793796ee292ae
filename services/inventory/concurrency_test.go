package inventory

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
	"github.com/ordersaga/ordersaga/internal/testing/mongotest"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// TestConcurrentReservationsNeverOversell runs two inventory processes on ONE database in
// SerializeNone, the mode meant for MongoDB: only the store's atomic conditional updates
// keep 40 concurrent buyers of 10 units from overselling. The test server cannot honour
// that mode, so it runs on a real MongoDB only.
func TestConcurrentReservationsNeverOversell(t *testing.T) {
	requireAtomicUpdates(t, SerializeNone)
	f := newFixtureWith(t, SerializeNone)
	assertNoOversell(t, f, f.Client, f.replica(t, SerializeNone))
}

// TestConcurrentReservationsInOneProcessNeverOversell runs on any Mongo-compatible
// server: in SerializeProcess one inventory process serializes its own writes per
// document, so even a server whose conditional updates are not atomic (FerretDB, used by
// the local stack) does not oversell.
func TestConcurrentReservationsInOneProcessNeverOversell(t *testing.T) {
	f := newFixture(t)
	assertNoOversell(t, f, f.Client)
}

// TestFerretDBCannotHonourModeNone documents why SerializeProcess exists: FerretDB, the
// test server and the local stack's, runs a conditional update as a read plus a write, so
// in SerializeNone concurrent buyers take the same units and more than the stock is sold.
// Should this start failing, FerretDB's updates became atomic and
// TestConcurrentReservationsNeverOversell could run on it.
func TestFerretDBCannotHonourModeNone(t *testing.T) {
	if mongotest.RealMongo() {
		t.Skip("skipped: documents a FerretDB limitation; MongoDB's conditional updates are atomic")
	}
	f := newFixtureWith(t, SerializeNone)
	won := 0
	for _, s := range reserveHotConcurrently(t, f, f.Client, f.replica(t, SerializeNone)) {
		if s == http.StatusCreated {
			won++
		}
	}
	if won <= hotStock {
		t.Errorf("%d reservations of %d units won in mode none on FerretDB; want more (the oversell that mode process prevents)", won, hotStock)
	}
	t.Logf("mode none on FerretDB: %d reservations won %d units", won, hotStock)
}

// requireAtomicUpdates skips t when the test server cannot honour ws: SerializeNone relies
// on atomic conditional updates, which FerretDB (the default test server) does not have.
func requireAtomicUpdates(t *testing.T, ws WriteSerialization) {
	t.Helper()
	if ws == SerializeNone && !mongotest.RealMongo() {
		t.Skipf("skipped: write serialization %q relies on the store's atomic conditional updates; the test server "+
			"(FerretDB) runs a conditional update as a read plus a write, so it cannot honour that mode. "+
			"Set %s=mongodb://... to run this test on MongoDB", ws, mongoserver.EnvURI)
	}
}

const hotStock, hotBuyers = 10, 40

// assertNoOversell sends hotBuyers concurrent reservations of one unit of a product with
// hotStock units (and one of PHN-001), spread over clients, and checks that exactly
// hotStock win.
func assertNoOversell(t *testing.T, f fixture, clients ...*platformtest.Client) {
	t.Helper()
	won := 0
	for _, s := range reserveHotConcurrently(t, f, clients...) {
		switch s {
		case http.StatusCreated:
			won++
		case http.StatusConflict:
		default:
			t.Errorf("status %d, want 201 or 409", s)
		}
	}
	if won != hotStock {
		t.Errorf("%d reservations won, want exactly %d", won, hotStock)
	}
	if got := f.stock(t, "HOT-1"); got != 0 {
		t.Errorf("stock of HOT-1 = %d, want 0", got)
	}
	if got := f.stock(t, "PHN-001"); got != 100-won {
		t.Errorf("stock of PHN-001 = %d, want %d", got, 100-won)
	}
	f.sweep(t)
	if got := f.held(t, "HOT-1"); got != won {
		t.Errorf("the ledger holds %d units of HOT-1, want %d", got, won)
	}
}

// reserveHotConcurrently creates HOT-1 and races the buyers; it returns their statuses.
func reserveHotConcurrently(t *testing.T, f fixture, clients ...*platformtest.Client) []int {
	t.Helper()
	f.Do(http.MethodPut, "/v1/products/HOT-1", fmt.Sprintf(`{"name":"Hot","price":"1.00","stock":%d}`, hotStock)).Want(t, http.StatusCreated, nil)
	statuses := make([]int, hotBuyers)
	var wg sync.WaitGroup
	for i := range hotBuyers {
		wg.Go(func() {
			// Two items, so that partial takes must be undone under contention too.
			body := reserveBody(fmt.Sprintf("ord-%d", i), Item{"HOT-1", 1}, Item{"PHN-001", 1})
			statuses[i] = clients[i%len(clients)].Do(http.MethodPut, fmt.Sprintf("/v1/reservations/res-%d", i), body).Status
		})
	}
	wg.Wait()
	return statuses
}

// TestModeNoneOnFerretDBWarns checks the start-up log: the mode and its guarantee always,
// and a warning when mode none meets FerretDB.
func TestModeNoneOnFerretDBWarns(t *testing.T) {
	f := newFixture(t)
	for _, ws := range WriteSerializations() {
		var logs bytes.Buffer
		platformtest.NewServerWith(t, platform.Options{Service: "inventory", Logger: slog.New(slog.NewJSONHandler(&logs, nil))},
			func(ctx context.Context, srv *platform.Server) error {
				return Register(srv, f.DB, testConfig(ws)).SetUp(ctx)
			})
		if !strings.Contains(logs.String(), ws.Guarantee()) {
			t.Errorf("mode %s: start-up log does not state the guarantee:\n%s", ws, logs.String())
		}
		warned := strings.Contains(logs.String(), `"level":"WARN"`)
		if want := ws == SerializeNone && !mongotest.RealMongo(); warned != want {
			t.Errorf("mode %s: warned = %v, want %v:\n%s", ws, warned, want, logs.String())
		}
	}
}
