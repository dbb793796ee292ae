package consistency

import (
	"maps"
	"slices"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Check returns every inconsistency in s, most urgent first. now is the time of the
// snapshot (for the age rules); it reads no clock and makes no calls, so equal inputs
// give equal findings.
//
// Every order is judged once, by its goal: fulfilled (its saga is Completed, or it is
// CONFIRMED) means paid for its total, stock reserved, shipment scheduled and the customer
// told; undone (its saga is Compensated, or it is CANCELLED) means refunded, released,
// cancelled. A terminal saga decides the goal over its order's status, so that one wrong
// document gives one finding; a Failed saga decides nothing (SAGA_FAILED already says a
// person must act). The two goals differ in flight: ConfirmOrder runs after the steps it
// vouches for, so a CONFIRMED order is judged at once, but a rollback cancels the order
// first (the fence, ADR 0011) and undoes the other steps after it, so a CANCELLED order is
// judged only once its rollback has ended.
func Check(s Snapshot, now time.Time, opts Options) []Finding {
	opts = opts.withDefaults()
	ix := newIndex(s)
	out := make([]Finding, 0) //nolint:prealloc // non-nil so that no findings encode as []; the count is known only after the rules ran
	for _, sg := range s.Sagas {
		out = append(out, checkSaga(ix, sg, now, opts)...)
	}
	for _, id := range ix.orderIDs() {
		out = append(out, checkOrder(ix, ix.goalOf(id, now, opts))...)
	}
	out = append(out, checkStock(s.Products)...)
	out = append(out, checkRefunds(s.Payments)...)
	out = append(out, checkDuplicates(ix)...)
	sortFindings(out)
	return out
}

// index holds the snapshot by order ID.
type index struct {
	orders        map[string]Order
	sagas         map[string]Saga
	reservations  map[string][]Reservation
	payments      map[string][]Payment
	shipments     map[string][]Shipment
	notifications map[string][]Notification
}

func newIndex(s Snapshot) *index {
	ix := &index{
		orders:        map[string]Order{},
		sagas:         map[string]Saga{},
		reservations:  groupBy(s.Reservations, func(r Reservation) string { return r.OrderID }),
		payments:      groupBy(s.Payments, func(p Payment) string { return p.OrderID }),
		shipments:     groupBy(s.Shipments, func(p Shipment) string { return p.OrderID }),
		notifications: groupBy(s.Notifications, func(n Notification) string { return n.OrderID }),
	}
	for _, o := range s.Orders {
		ix.orders[o.OrderID] = o
	}
	for _, sg := range s.Sagas {
		ix.sagas[sg.OrderID] = sg
	}
	return ix
}

func groupBy[T any](items []T, key func(T) string) map[string][]T {
	out := map[string][]T{}
	for _, it := range items {
		out[key(it)] = append(out[key(it)], it)
	}
	return out
}

// orderIDs returns, sorted, the IDs of every order that exists or that a saga owns.
func (ix *index) orderIDs() []string {
	ids := slices.Collect(maps.Keys(ix.orders))
	for id := range ix.sagas {
		if _, ok := ix.orders[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// goal is what an order's effects must look like.
type goal int

const (
	// goalNone: nothing to expect yet (PENDING, in flight, or a Failed saga).
	goalNone goal = iota
	// goalFulfilled: paid for its total, stock reserved, shipment scheduled, customer told.
	goalFulfilled
	// goalUndone: no capture left, no stock held, no shipment scheduled.
	goalUndone
)

// orderGoal is the verdict on one order ID: what must hold, why, and whether its saga
// may still be working on it.
type orderGoal struct {
	id    string
	order *Order
	saga  *Saga
	goal  goal
	// why says who decides the goal, for messages: "its saga default/o-1 is Completed".
	why string
	// inFlight: the saga is not terminal (or no saga is known and the order changed within
	// Options.Settle), so steps after the order's last change may still come: the
	// confirmation after ConfirmOrder, every compensation after the order's cancel.
	inFlight bool
}

// goalOf judges the order id: a terminal saga decides, else the order's own status.
func (ix *index) goalOf(id string, now time.Time, opts Options) orderGoal {
	g := orderGoal{id: id}
	if o, ok := ix.orders[id]; ok {
		g.order = &o
	}
	if sg, ok := ix.sagas[id]; ok {
		g.saga = &sg
	}
	switch {
	case g.saga != nil && g.saga.Phase == v1.PhaseCompleted:
		g.goal, g.why = goalFulfilled, "its saga "+sagaRef(*g.saga)+" is Completed"
	case g.saga != nil && g.saga.Phase == v1.PhaseCompensated:
		g.goal, g.why = goalUndone, "its saga "+sagaRef(*g.saga)+" is Compensated"
	case g.saga != nil && g.saga.Phase == v1.PhaseFailed, g.order == nil: // no goal
	case g.order.Status == OrderConfirmed:
		g.goal, g.why = goalFulfilled, "it is CONFIRMED"
	case g.order.Status == OrderCancelled:
		g.goal, g.why = goalUndone, "it is CANCELLED"
	}
	switch {
	case g.saga != nil:
		g.inFlight = !g.saga.Phase.IsTerminal()
	case g.order != nil:
		g.inFlight = now.Sub(g.order.UpdatedAt) < opts.Settle
	}
	return g
}

func sagaRef(s Saga) string { return s.Namespace + "/" + s.Name }

func sagaObject(s Saga) string { return "ordersaga/" + s.Namespace + "/" + s.Name }

func orderObject(id string) string { return "order/" + id }
