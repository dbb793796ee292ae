package consistency

import (
	"fmt"
	"strings"
)

// checkOrder applies the rules of the order's goal to its effects.
func checkOrder(ix *index, g orderGoal) []Finding {
	switch g.goal {
	case goalFulfilled:
		out := checkPaid(g, ix.payments[g.id])
		out = append(out, checkReserved(g, ix.reservations[g.id])...)
		out = append(out, checkShipped(g, ix.shipments[g.id])...)
		if !g.inFlight { // the confirmation is sent after the order is confirmed
			out = append(out, checkConfirmationSent(g, ix.notifications[g.id])...)
		}
		return out
	case goalUndone:
		// A rollback cancels the order first (the fence, ADR 0011), then cancels the
		// shipment, refunds the payment, releases the stock and sends the notice. A
		// CANCELLED order whose rollback may still run (its saga is not terminal, or no
		// saga is known and the order changed within Options.Settle) is therefore no proof
		// that any of them is due yet: only an ended rollback is judged.
		if g.inFlight {
			return nil
		}
		out := checkRefunded(g, ix.payments[g.id])
		out = append(out, checkReleased(g, ix.reservations[g.id])...)
		out = append(out, checkShipmentCancelled(g, ix.shipments[g.id])...)
		if g.order != nil && g.order.Status == OrderCancelled {
			out = append(out, checkCancellationSent(g, ix.notifications[g.id])...)
		}
		return out
	case goalNone:
	}
	return nil
}

// checkPaid: MISSING_PAYMENT, PAYMENT_STATUS_MISMATCH, AMOUNT_MISMATCH. Unlike the
// original, every payment of the order is looked at, not only the first one found.
func checkPaid(g orderGoal, payments []Payment) []Finding {
	var captured []Payment
	states := make([]string, 0, len(payments))
	for _, p := range payments {
		states = append(states, p.PaymentID+" is "+p.Status)
		if p.Status == PaymentCaptured {
			captured = append(captured, p)
		}
	}
	switch {
	case len(payments) == 0:
		return []Finding{{MissingPayment, Critical, orderObject(g.id),
			fmt.Sprintf("order %s must be paid (%s) but has no payment", g.id, g.why)}}
	case len(captured) == 0:
		return []Finding{{PaymentStatusMismatch, Critical, orderObject(g.id),
			fmt.Sprintf("order %s must be paid (%s) but no payment is CAPTURED: %s", g.id, g.why, strings.Join(states, ", "))}}
	case len(captured) == 1: // more than one is DUPLICATE_PAYMENT
		return checkAmount(g, captured[0])
	}
	return nil
}

// checkAmount compares the one capture with the order's total and, when a Completed saga
// decides, with the saga's total (what it asked the payment service to charge).
func checkAmount(g orderGoal, p Payment) []Finding {
	type want struct{ what, total, currency string }
	var wants []want
	if g.order != nil {
		wants = append(wants, want{"order total", g.order.Total.String(), g.order.Currency})
	}
	if g.saga != nil && g.goal == goalFulfilled && g.saga.Total != "" {
		wants = append(wants, want{"total of saga " + sagaRef(*g.saga), g.saga.Total, g.saga.Currency})
	}
	for _, w := range wants {
		total, err := ParseMoney(w.total)
		sameCurrency := w.currency == "" || p.Currency == "" || w.currency == p.Currency
		if err == nil && total == p.Amount && sameCurrency {
			continue
		}
		return []Finding{{AmountMismatch, Critical, orderObject(g.id),
			fmt.Sprintf("payment %s captured %s %s for order %s, but the %s is %s %s",
				p.PaymentID, p.Amount, p.Currency, g.id, w.what, w.total, w.currency)}}
	}
	return nil
}

// checkReserved: MISSING_RESERVATION. A fulfilled order keeps its reservation RESERVED:
// the stock it took is the stock it sold.
func checkReserved(g orderGoal, rs []Reservation) []Finding {
	states := make([]string, 0, len(rs))
	for _, r := range rs {
		if r.Status == ReservationReserved {
			return nil
		}
		states = append(states, r.ReservationID+" is "+r.Status)
	}
	return []Finding{{MissingReservation, Critical, orderObject(g.id),
		fmt.Sprintf("order %s must hold its stock (%s) but has no RESERVED reservation%s", g.id, g.why, listed(states))}}
}

// checkShipped: MISSING_SHIPMENT (any shipment status other than SCHEDULED counts as missing).
func checkShipped(g orderGoal, ss []Shipment) []Finding {
	states := make([]string, 0, len(ss))
	for _, s := range ss {
		if s.Status == ShipmentScheduled {
			return nil
		}
		states = append(states, s.ShipmentID+" is "+s.Status)
	}
	return []Finding{{MissingShipment, Critical, orderObject(g.id),
		fmt.Sprintf("order %s must be shipped (%s) but has no SCHEDULED shipment%s", g.id, g.why, listed(states))}}
}

// checkConfirmationSent: MISSING_ORDER_CONFIRMATION, with the type the notification
// service really writes (ORDER_CONFIRMED), and a FAILED delivery counted as not sent.
func checkConfirmationSent(g orderGoal, ns []Notification) []Finding {
	n, ok := notificationOf(ns, NotificationConfirmed)
	switch {
	case !ok:
		return []Finding{{MissingOrderConfirmation, Warning, orderObject(g.id),
			fmt.Sprintf("order %s is confirmed (%s) but the customer was never sent %s", g.id, g.why, NotificationConfirmed)}}
	case n.Status != NotificationSent:
		return []Finding{{MissingOrderConfirmation, Warning, orderObject(g.id),
			fmt.Sprintf("order %s is confirmed (%s) but notification %s was not delivered (%s%s)",
				g.id, g.why, n.NotificationID, n.Status, prefixed(": ", n.FailureReason))}}
	}
	return nil
}

// checkRefunded: UNREFUNDED_PAYMENT, for every capture of an undone order.
func checkRefunded(g orderGoal, ps []Payment) []Finding {
	var out []Finding
	for _, p := range ps {
		if p.Status == PaymentCaptured {
			out = append(out, Finding{UnrefundedPayment, Critical, "payment/" + p.PaymentID,
				fmt.Sprintf("payment %s still holds %s %s of order %s, which was undone (%s)", p.PaymentID, p.Amount, p.Currency, g.id, g.why)})
		}
	}
	return out
}

// checkReleased: UNRELEASED_RESERVATION. The original flagged RESERVED reservations of
// CANCELLED orders only after two hours; here only an ended rollback is judged (its saga
// Compensated, or a CANCELLED order without a known saga that settled), and it released
// the stock before it ended, so any reservation still holding stock is a leak at once.
func checkReleased(g orderGoal, rs []Reservation) []Finding {
	var out []Finding
	for _, r := range rs {
		if r.Status != ReservationFailed && r.Status != ReservationReleased {
			out = append(out, Finding{UnreleasedReservation, Critical, "reservation/" + r.ReservationID,
				fmt.Sprintf("reservation %s is %s and still holds stock of order %s, which was undone (%s)", r.ReservationID, r.Status, g.id, g.why)})
		}
	}
	return out
}

// checkShipmentCancelled: UNCANCELLED_SHIPMENT, for every scheduled shipment of an undone order.
func checkShipmentCancelled(g orderGoal, ss []Shipment) []Finding {
	var out []Finding
	for _, s := range ss {
		if s.Status == ShipmentScheduled {
			out = append(out, Finding{UncancelledShipment, Critical, "shipment/" + s.ShipmentID,
				fmt.Sprintf("shipment %s is still SCHEDULED for order %s, which was undone (%s)", s.ShipmentID, g.id, g.why)})
		}
	}
	return out
}

// checkCancellationSent: MISSING_CANCELLATION_NOTICE. The notice is best effort, so
// its absence is only info.
func checkCancellationSent(g orderGoal, ns []Notification) []Finding {
	if _, ok := notificationOf(ns, NotificationCancelled); ok {
		return nil
	}
	return []Finding{{MissingCancellationNotice, Info, orderObject(g.id),
		fmt.Sprintf("order %s was cancelled (%s) but the customer was never sent %s", g.id, g.why, NotificationCancelled)}}
}

func notificationOf(ns []Notification, typ string) (Notification, bool) {
	for _, n := range ns {
		if n.Type == typ {
			return n, true
		}
	}
	return Notification{}, false
}

func listed(states []string) string {
	if len(states) == 0 {
		return ""
	}
	return " (" + strings.Join(states, ", ") + ")"
}

func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}
