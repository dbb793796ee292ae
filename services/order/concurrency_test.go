package order

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/ordersaga/ordersaga/services/platform"
)

// raceOrders is how many fresh orders TestConfirmAndCancelExcludeEachOther races on.
const raceOrders = 60

// TestConfirmAndCancelExcludeEachOther fires a Confirm and a Cancel at once at each of many
// fresh PENDING orders and checks that exactly one of each pair wins: the other is refused
// with the winner's code, and the order ends in the winner's status. The saga's fence
// (docs/adr/0011) depends on it. On the test server, FerretDB, a conditional update is a
// read followed by a write, so this holds only because the Store serializes an order's
// transitions itself (Store.locks); without that lock both calls succeed on some orders.
func TestConfirmAndCancelExcludeEachOther(t *testing.T) {
	f := newFixture(t)
	st, ctx := f.Svc.store, t.Context()
	spec := Spec{CustomerID: "c-1", Currency: "USD", Items: []Line{{ProductID: "LAP-001", Quantity: 1, UnitPrice: 99999}}}
	for i := range raceOrders {
		if _, _, err := st.Create(ctx, fmt.Sprintf("ord-%d", i), spec, ""); err != nil {
			t.Fatalf("create ord-%d: %v", i, err)
		}
	}
	type outcome struct {
		confirmed, cancelled        bool
		confirmErr, cancelErr       error
		confirmStatus, cancelStatus Status
	}
	outcomes := make([]outcome, raceOrders)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range raceOrders {
		id, o := fmt.Sprintf("ord-%d", i), &outcomes[i]
		wg.Go(func() {
			<-start
			var d Document
			d, o.confirmed, o.confirmErr = st.Confirm(ctx, id)
			o.confirmStatus = d.Status
		})
		wg.Go(func() {
			<-start
			var d Document
			d, o.cancelled, o.cancelErr = st.Cancel(ctx, id, "race")
			o.cancelStatus = d.Status
		})
	}
	close(start)
	wg.Wait()
	both := 0
	for i, o := range outcomes {
		id := fmt.Sprintf("ord-%d", i)
		stored, err := st.Get(ctx, id)
		if err != nil {
			t.Fatalf("get %s: %v", id, err)
		}
		switch {
		case o.confirmErr == nil && o.cancelErr == nil:
			both++
			t.Errorf("%s: Confirm answered %s (changed %t) and Cancel answered %s (changed %t), both successes; the order is %s",
				id, o.confirmStatus, o.confirmed, o.cancelStatus, o.cancelled, stored.Status)
		case o.confirmErr == nil:
			checkLoser(t, id, "Cancel", o.cancelErr, CodeOrderConfirmed, o.confirmed, stored.Status, Confirmed)
		case o.cancelErr == nil:
			checkLoser(t, id, "Confirm", o.confirmErr, CodeOrderCancelled, o.cancelled, stored.Status, Cancelled)
		default:
			t.Errorf("%s: both failed: Confirm %v, Cancel %v", id, o.confirmErr, o.cancelErr)
		}
	}
	if both > 0 {
		t.Errorf("Confirm and Cancel both succeeded on %d of %d orders", both, raceOrders)
	}
}

// checkLoser checks one race: the winner changed the order, which is stored in the
// winner's status want, and the loser (name) was refused with code.
func checkLoser(t *testing.T, id, name string, err error, code string, winnerChanged bool, stored, want Status) {
	t.Helper()
	var e *platform.APIError
	if !errors.As(err, &e) || e.Code != code {
		t.Errorf("%s: %s failed with %v, want %s", id, name, err, code)
	}
	if !winnerChanged || stored != want {
		t.Errorf("%s: the winner changed the order: %t; stored status %s; want true and %s", id, winnerChanged, stored, want)
	}
}
