package e2e

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// world is what the services hold, read through their list endpoints and grouped by order.
type world struct {
	orders        map[string]order
	reservations  map[string][]reservation
	payments      map[string][]payment
	shipments     map[string][]shipment
	notifications map[string][]notification
}

// readWorld lists every order, reservation, payment, shipment and notification. Call it
// with fault injection off: the list routes are faulted like every business route.
func readWorld(ctx context.Context) world {
	GinkgoHelper()
	w := world{orders: map[string]order{}}
	for _, o := range listAll[order](ctx, "order", "/v1/orders", url.Values{}) {
		w.orders[o.OrderID] = o
	}
	w.reservations = group(listAll[reservation](ctx, "inventory", "/v1/reservations", url.Values{}), func(r reservation) string { return r.OrderID })
	w.payments = group(listAll[payment](ctx, "payment", "/v1/payments", url.Values{}), func(p payment) string { return p.OrderID })
	w.shipments = group(listAll[shipment](ctx, "shipping", "/v1/shipments", url.Values{}), func(s shipment) string { return s.OrderID })
	w.notifications = group(listAll[notification](ctx, "notification", "/v1/notifications", url.Values{}), func(n notification) string { return n.OrderID })
	return w
}

func group[T any](items []T, key func(T) string) map[string][]T {
	out := map[string][]T{}
	for _, it := range items {
		out[key(it)] = append(out[key(it)], it)
	}
	return out
}

// orderID is the order service's ID of a saga's order: derived from the saga's UID.
func orderID(s v1.OrderSaga) string { return "ord-" + string(s.UID) }

// violations returns every way in which the services disagree with what the terminal
// sagas say happened. Per order: at most one reservation, payment and shipment (no
// duplicate effect); a Completed saga's order is CONFIRMED, paid for its total exactly
// once, reserved, shipped and confirmed to the customer; a Compensated saga left no
// capture unrefunded, no stock held, no shipment scheduled and its order CANCELLED. A
// saga that is not Completed or Compensated is itself a violation.
func violations(w world, sagas []v1.OrderSaga) []string {
	var out []string
	for _, s := range sagas {
		id := orderID(s)
		bad := func(format string, args ...any) {
			out = append(out, fmt.Sprintf("%s/%s (%s, %s): ", s.Namespace, s.Name, s.Status.Phase, id)+fmt.Sprintf(format, args...))
		}
		if s.Status.OrderID != "" && s.Status.OrderID != id {
			bad("status.orderId is %q", s.Status.OrderID)
		}
		e := w.effects(id)
		if len(e.res) > 1 || len(e.pays) > 1 || len(e.ships) > 1 {
			bad("duplicate effects: %d reservations, %d payments, %d shipments", len(e.res), len(e.pays), len(e.ships))
		}
		switch s.Status.Phase {
		case v1.PhaseCompleted:
			fulfilled(e, s.Status.Total, bad)
		case v1.PhaseCompensated:
			undone(e, bad)
		default:
			bad("not Completed or Compensated: %s", s.Status.Message)
		}
	}
	return out
}

// effects is what the services hold for one order.
type effects struct {
	order    order
	hasOrder bool
	res      []reservation
	pays     []payment
	ships    []shipment
	notes    map[string]int // notifications per type
}

func (w world) effects(id string) effects {
	e := effects{res: w.reservations[id], pays: w.payments[id], ships: w.shipments[id], notes: map[string]int{}}
	e.order, e.hasOrder = w.orders[id]
	for _, n := range w.notifications[id] {
		e.notes[n.Type]++
	}
	return e
}

// fulfilled reports how the effects of a Completed saga's order fall short: CONFIRMED for
// total, paid exactly once for it, reserved, shipped, and the customer told.
func fulfilled(e effects, total string, bad func(string, ...any)) {
	if !e.hasOrder || e.order.Status != "CONFIRMED" || e.order.Total != total {
		bad("order is %+v (present %v), want CONFIRMED for %s", e.order, e.hasOrder, total)
	}
	if n := countWhere(e.pays, func(p payment) bool {
		return p.Status == "CAPTURED" && p.Amount == total && p.RefundedAmount == "0.00"
	}); n != 1 {
		bad("%d payments CAPTURED for %s, want 1: %+v", n, total, e.pays)
	}
	if countWhere(e.res, func(r reservation) bool { return r.Status == "RESERVED" }) != 1 {
		bad("reservations %+v, want one RESERVED", e.res)
	}
	if countWhere(e.ships, func(x shipment) bool { return x.Status == "SCHEDULED" }) != 1 {
		bad("shipments %+v, want one SCHEDULED", e.ships)
	}
	if e.notes["ORDER_CONFIRMED"] != 1 || e.notes["ORDER_CANCELLED"] != 0 {
		bad("notifications %v, want one ORDER_CONFIRMED", e.notes)
	}
}

// undone reports what a Compensated saga's order still holds: a charge, stock, a
// scheduled shipment, an order not CANCELLED, or a confirmation sent.
func undone(e effects, bad func(string, ...any)) {
	if e.hasOrder && e.order.Status != "CANCELLED" {
		bad("order is %s, want CANCELLED", e.order.Status)
	}
	for _, p := range e.pays {
		if p.Status == "CAPTURED" || (p.Status == "REFUNDED" && p.RefundedAmount != p.Amount) {
			bad("payment left charged: %+v", p)
		}
	}
	if countWhere(e.res, func(r reservation) bool { return r.Status != "RELEASED" && r.Status != "FAILED" }) > 0 {
		bad("reservation still holds stock: %+v", e.res)
	}
	if countWhere(e.ships, func(x shipment) bool { return x.Status == "SCHEDULED" }) > 0 {
		bad("shipment still scheduled: %+v", e.ships)
	}
	if e.notes["ORDER_CONFIRMED"] != 0 {
		bad("the customer was told the order is confirmed: %v", e.notes)
	}
}

func countWhere[T any](items []T, pred func(T) bool) int {
	n := 0
	for _, it := range items {
		if pred(it) {
			n++
		}
	}
	return n
}

// expectConsistent reads the services and fails the spec on any violation.
func expectConsistent(ctx context.Context, sagas []v1.OrderSaga) {
	GinkgoHelper()
	Expect(violations(readWorld(ctx), sagas)).To(BeEmpty())
}

// expectedOutcome is how a saga must end on a healthy system, judged from its spec alone:
// rolled back for an unsupported destination (AQ) or a declined payment (above
// 5000.00), else Completed.
func expectedOutcome(s v1.OrderSaga) (v1.Phase, string) {
	cents := 0
	for _, it := range s.Spec.Items {
		whole, frac, _ := strings.Cut(it.UnitPrice, ".")
		w, _ := strconv.Atoi(whole)
		f, _ := strconv.Atoi((frac + "00")[:2])
		cents += int(it.Quantity) * (100*w + f)
	}
	switch {
	case s.Spec.Shipping.Address.Country == "AQ":
		return v1.PhaseCompensated, v1.ReasonUnsupportedDestination
	case cents > 500000:
		return v1.PhaseCompensated, v1.ReasonPaymentDeclined
	}
	return v1.PhaseCompleted, v1.ReasonCompleted
}

// expectOutcomes checks that every saga ended as expectedOutcome says, with that reason.
func expectOutcomes(sagas []v1.OrderSaga) {
	GinkgoHelper()
	var wrong []string
	for _, s := range sagas {
		phase, reason := expectedOutcome(s)
		c := meta.FindStatusCondition(s.Status.Conditions, v1.ConditionSucceeded)
		if s.Status.Phase != phase || c == nil || c.Reason != reason {
			wrong = append(wrong, fmt.Sprintf("%s: %s (%v), want %s (%s): %s", s.Name, s.Status.Phase, c, phase, reason, s.Status.Message))
		}
	}
	Expect(wrong).To(BeEmpty(), "outcomes %v", byPhase(sagas))
}

// expectSettledClean checks the end of a scenario once its faults are off: the services
// agree with every saga, each product's stock moved by exactly what Completed sagas took,
// and `sagactl check` finds nothing.
//
//nolint:unparam // each scenario chooses its stock; today they all start from 5 units
func expectSettledClean(ctx context.Context, sagas []v1.OrderSaga, initialStock int, productIDs ...string) {
	GinkgoHelper()
	expectConsistent(ctx, sagas)
	expectStock(ctx, initialStock, sagas, productIDs...)
	expectCheckClean(ctx)
}

// expectStock checks that each product's stock is its initial stock less exactly the
// units of the Completed sagas: every unit a rolled-back saga took came back, once.
func expectStock(ctx context.Context, initial int, sagas []v1.OrderSaga, productIDs ...string) {
	GinkgoHelper()
	sold := map[string]int{}
	for _, s := range sagas {
		for _, it := range s.Spec.Items {
			if s.Status.Phase == v1.PhaseCompleted {
				sold[it.ProductID] += int(it.Quantity)
			}
		}
	}
	var wrong []string
	for _, id := range productIDs {
		if got := stockOf(ctx, id); got != initial-sold[id] {
			wrong = append(wrong, fmt.Sprintf("%s: stock %d, want %d (initial %d less %d sold)", id, got, initial-sold[id], initial, sold[id]))
		}
	}
	Expect(wrong).To(BeEmpty(), "stock after %v", byPhase(sagas))
}
