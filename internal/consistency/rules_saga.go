package consistency

import (
	"fmt"
	"slices"
	"strings"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// checkSaga: SAGA_FAILED, LONG_RUNNING_SAGA, ORPHANED_SAGA, SAGA_ORDER_MISMATCH.
func checkSaga(ix *index, s Saga, now time.Time, opts Options) []Finding {
	var out []Finding
	obj := sagaObject(s)
	if s.Phase == v1.PhaseFailed {
		out = append(out, Finding{SagaFailed, Critical, obj,
			fmt.Sprintf("saga %s is Failed and a person must act: %s (then run `sagactl retry %s`)", sagaRef(s), orNone(s.Message), s.Name)})
	}
	if f, ok := longRunning(s, now, opts); ok {
		out = append(out, f)
	}
	order, exists := ix.orders[s.OrderID]
	switch {
	case !exists && (s.OrderCreated || s.Phase == v1.PhaseCompleted):
		out = append(out, Finding{OrphanedSaga, Critical, obj,
			fmt.Sprintf("saga %s is %s and created order %s, which the order service does not have", sagaRef(s), s.Phase, s.OrderID)})
	case !exists:
	case s.Phase == v1.PhaseCompleted && order.Status != OrderConfirmed:
		out = append(out, Finding{SagaOrderMismatch, Critical, obj,
			fmt.Sprintf("saga %s is Completed but its order %s is %s, not CONFIRMED", sagaRef(s), s.OrderID, order.Status)})
	case s.Phase == v1.PhaseCompensated && order.Status != OrderCancelled:
		out = append(out, Finding{SagaOrderMismatch, Critical, obj,
			fmt.Sprintf("saga %s is Compensated but its order %s is %s, not CANCELLED", sagaRef(s), s.OrderID, order.Status)})
	}
	return out
}

// longRunning: a saga not terminal after opts.LongRunning, counted from its start (or its
// creation when it never started).
func longRunning(s Saga, now time.Time, opts Options) (Finding, bool) {
	if s.Phase.IsTerminal() {
		return Finding{}, false
	}
	since := s.StartedAt
	if since.IsZero() {
		since = s.CreatedAt
	}
	age := now.Sub(since)
	if age <= opts.LongRunning {
		return Finding{}, false
	}
	phase := s.Phase
	if phase == "" {
		phase = v1.PhasePending
	}
	note := ""
	if s.Suspended {
		note = " (suspended)"
	}
	return Finding{LongRunningSaga, Warning, sagaObject(s),
		fmt.Sprintf("saga %s is still %s%s after %s (threshold %s): %s",
			sagaRef(s), phase, note, age.Round(time.Second), opts.LongRunning, orNone(s.Message))}, true
}

// checkStock: NEGATIVE_STOCK. Stock is the number of units available, so the original's
// EXCESSIVE_RESERVATION (reserved > quantity) is this same rule here.
func checkStock(products []Product) []Finding {
	var out []Finding
	for _, p := range products {
		if p.Stock < 0 {
			out = append(out, Finding{NegativeStock, Critical, "product/" + p.ProductID,
				fmt.Sprintf("product %s (%s) has %d units available", p.ProductID, p.Name, p.Stock)})
		}
	}
	return out
}

// checkRefunds: EXCESSIVE_REFUND. A refund is part of its payment here, so the original's
// ORPHANED_REFUND cannot happen.
func checkRefunds(payments []Payment) []Finding {
	var out []Finding
	for _, p := range payments {
		if p.RefundedAmount > p.Amount {
			out = append(out, Finding{ExcessiveRefund, Critical, "payment/" + p.PaymentID,
				fmt.Sprintf("payment %s refunded %s %s but captured only %s", p.PaymentID, p.RefundedAmount, p.Currency, p.Amount)})
		}
	}
	return out
}

// checkDuplicates: more than one live capture, stock-holding reservation or scheduled
// shipment for one order: an effect that should have happened once happened twice.
func checkDuplicates(ix *index) []Finding {
	var out []Finding
	for id, ps := range ix.payments {
		out = appendDuplicate(out, DuplicatePayment, "captured payments", id, ids(ps, func(p Payment) (string, bool) {
			return p.PaymentID, p.Status == PaymentCaptured
		}))
	}
	for id, rs := range ix.reservations {
		out = appendDuplicate(out, DuplicateReservation, "reservations holding stock", id, ids(rs, func(r Reservation) (string, bool) {
			return r.ReservationID, r.Status != ReservationFailed && r.Status != ReservationReleased
		}))
	}
	for id, ss := range ix.shipments {
		out = appendDuplicate(out, DuplicateShipment, "scheduled shipments", id, ids(ss, func(s Shipment) (string, bool) {
			return s.ShipmentID, s.Status == ShipmentScheduled
		}))
	}
	return out
}

func appendDuplicate(out []Finding, rule, what, orderID string, live []string) []Finding {
	if len(live) < 2 || orderID == "" {
		return out
	}
	return append(out, Finding{rule, Critical, orderObject(orderID),
		fmt.Sprintf("order %s has %d %s: %s", orderID, len(live), what, strings.Join(live, ", "))})
}

// ids returns, sorted, the IDs of the items keep accepts.
func ids[T any](items []T, keep func(T) (string, bool)) []string {
	var out []string
	for _, it := range items {
		if id, ok := keep(it); ok {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func orNone(msg string) string {
	if msg == "" {
		return "no message"
	}
	return msg
}
