package consistency

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

var (
	t0  = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	now = t0.Add(time.Hour)
)

// healthy is a consistent system: a completed saga (u1), a saga compensated when stock
// ran out (u2), one compensated when shipping refused the destination (u3), a saga in
// flight between ConfirmOrder and SendNotification (u4), and an order whose saga is gone
// (ttlSecondsAfterFinished) with everything in place (u9).
func healthy() Snapshot {
	return Snapshot{
		Sagas: []Saga{
			saga("o-1", "u1", v1.PhaseCompleted, "1999.98", t0),
			saga("o-2", "u2", v1.PhaseCompensated, "699.99", t0),
			saga("o-3", "u3", v1.PhaseCompensated, "449.99", t0),
			saga("o-4", "u4", v1.PhaseRunning, "149.99", now.Add(-time.Minute)),
		},
		Orders: []Order{
			order("u1", OrderConfirmed, 199998), order("u2", OrderCancelled, 69999), order("u3", OrderCancelled, 44999),
			order("u4", OrderConfirmed, 14999), order("u9", OrderConfirmed, 29999),
		},
		Products: []Product{{ProductID: "LAP-001", Name: "Laptop", Stock: 48}, {ProductID: "OLD-001", Name: "Legacy Phone", Stock: 0}},
		Reservations: []Reservation{
			{"res-u1", "ord-u1", ReservationReserved}, {"res-u2", "ord-u2", ReservationFailed},
			{"res-u3", "ord-u3", ReservationReleased}, {"res-u4", "ord-u4", ReservationReserved}, {"res-u9", "ord-u9", ReservationReserved},
		},
		Payments: []Payment{
			payment("u1", PaymentCaptured, 199998, 0), payment("u3", PaymentRefunded, 44999, 44999),
			payment("u4", PaymentCaptured, 14999, 0), payment("u9", PaymentCaptured, 29999, 0),
		},
		Shipments: []Shipment{
			{"shp-u1", "ord-u1", ShipmentScheduled}, {"shp-u3", "ord-u3", "REJECTED"},
			{"shp-u4", "ord-u4", ShipmentScheduled}, {"shp-u9", "ord-u9", ShipmentScheduled},
		},
		Notifications: []Notification{
			notice("u1", NotificationConfirmed), notice("u2", NotificationCancelled),
			notice("u3", NotificationCancelled), notice("u9", NotificationConfirmed),
		},
	}
}

func saga(name, uid string, phase v1.Phase, total string, started time.Time) Saga {
	return Saga{Namespace: "shop", Name: name, Phase: phase, OrderID: "ord-" + uid, OrderCreated: true,
		Total: total, Currency: "USD", CreatedAt: started.Add(-time.Second), StartedAt: started, Message: "msg of " + name}
}

func order(uid, status string, total Money) Order {
	return Order{OrderID: "ord-" + uid, CustomerID: "c-1", Status: status, Currency: "USD", Total: total, CreatedAt: t0, UpdatedAt: t0}
}

func payment(uid, status string, amount, refunded Money) Payment {
	return Payment{PaymentID: "pay-" + uid, OrderID: "ord-" + uid, Status: status, Amount: amount, RefundedAmount: refunded, Currency: "USD"}
}

func notice(uid, typ string) Notification {
	suffix := "-confirmed"
	if typ == NotificationCancelled {
		suffix = "-cancelled"
	}
	return Notification{NotificationID: "ntf-" + uid + suffix, OrderID: "ord-" + uid, Type: typ, Status: NotificationSent}
}

// where returns a pointer to the first element of xs that match accepts. The snapshot
// is the fixed healthy() one, so a miss is a mistake in the table: it panics.
func where[T any](xs []T, match func(T) bool) *T {
	for i := range xs {
		if match(xs[i]) {
			return &xs[i]
		}
	}
	panic("where: no element matches")
}

func byOrder[T interface{ orderID() string }](id string) func(T) bool {
	return func(x T) bool { return x.orderID() == id }
}

func (o Order) orderID() string        { return o.OrderID }
func (r Reservation) orderID() string  { return r.OrderID }
func (p Payment) orderID() string      { return p.OrderID }
func (s Shipment) orderID() string     { return s.OrderID }
func (n Notification) orderID() string { return n.OrderID }
func (s Saga) orderID() string         { return s.OrderID }

func without[T interface{ orderID() string }](xs []T, id string) []T {
	var out []T
	for _, x := range xs {
		if x.orderID() != id {
			out = append(out, x)
		}
	}
	return out
}

// fencedOnly puts the order of u3 where a rollback is right after its fence (ADR 0011):
// the order is CANCELLED, nothing else is undone yet (payment CAPTURED, reservation
// RESERVED, shipment SCHEDULED) and no notice was sent; its saga, started a minute ago,
// is in phase.
func fencedOnly(s *Snapshot, phase v1.Phase) {
	sg := where(s.Sagas, byOrder[Saga]("ord-u3"))
	sg.Phase, sg.StartedAt = phase, now.Add(-time.Minute)
	p := where(s.Payments, byOrder[Payment]("ord-u3"))
	p.Status, p.RefundedAmount = PaymentCaptured, 0
	where(s.Reservations, byOrder[Reservation]("ord-u3")).Status = ReservationReserved
	where(s.Shipments, byOrder[Shipment]("ord-u3")).Status = ShipmentScheduled
	s.Notifications = without(s.Notifications, "ord-u3")
}

func TestCheck(t *testing.T) {
	cases := map[string]struct {
		reason string
		mutate func(s *Snapshot)
		opts   Options
		want   []Finding
	}{
		"Healthy": {
			reason: "A consistent system, with a saga in flight and an order whose saga is gone, has no finding.",
			mutate: func(*Snapshot) {},
			want:   []Finding{},
		},
		"MissingPayment": {
			reason: "A Completed saga's order without any payment is MISSING_PAYMENT.",
			mutate: func(s *Snapshot) { s.Payments = without(s.Payments, "ord-u1") },
			want: []Finding{{MissingPayment, Critical, "order/ord-u1",
				"order ord-u1 must be paid (its saga shop/o-1 is Completed) but has no payment"}},
		},
		"PaymentStatusMismatch": {
			reason: "A CONFIRMED order (no saga) whose payments are all refunded is PAYMENT_STATUS_MISMATCH.",
			mutate: func(s *Snapshot) {
				p := where(s.Payments, byOrder[Payment]("ord-u9"))
				p.Status, p.RefundedAmount = PaymentRefunded, p.Amount
			},
			want: []Finding{{PaymentStatusMismatch, Critical, "order/ord-u9",
				"order ord-u9 must be paid (it is CONFIRMED) but no payment is CAPTURED: pay-u9 is REFUNDED"}},
		},
		"AmountMismatchWithOrder": {
			reason: "The one capture of a confirmed order must equal the order total.",
			mutate: func(s *Snapshot) { where(s.Payments, byOrder[Payment]("ord-u9")).Amount = 100 },
			want: []Finding{{AmountMismatch, Critical, "order/ord-u9",
				"payment pay-u9 captured 1.00 USD for order ord-u9, but the order total is 299.99 USD"}},
		},
		"AmountMismatchWithSaga": {
			reason: "A Completed saga's capture must also equal status.total, what the saga charged.",
			mutate: func(s *Snapshot) { where(s.Sagas, byOrder[Saga]("ord-u1")).Total = "1000.00" },
			want: []Finding{{AmountMismatch, Critical, "order/ord-u1",
				"payment pay-u1 captured 1999.98 USD for order ord-u1, but the total of saga shop/o-1 is 1000.00 USD"}},
		},
		"AmountMismatchInCurrency": {
			reason: "An amount in another currency is not the same amount.",
			mutate: func(s *Snapshot) { where(s.Payments, byOrder[Payment]("ord-u9")).Currency = "EUR" },
			want: []Finding{{AmountMismatch, Critical, "order/ord-u9",
				"payment pay-u9 captured 299.99 EUR for order ord-u9, but the order total is 299.99 USD"}},
		},
		"MissingShipment": {
			reason: "A fulfilled order whose shipment was cancelled has no SCHEDULED shipment.",
			mutate: func(s *Snapshot) {
				where(s.Shipments, byOrder[Shipment]("ord-u1")).Status = ShipmentCancelled
			},
			want: []Finding{{MissingShipment, Critical, "order/ord-u1",
				"order ord-u1 must be shipped (its saga shop/o-1 is Completed) but has no SCHEDULED shipment (shp-u1 is CANCELLED)"}},
		},
		"MissingReservation": {
			reason: "A fulfilled order whose stock went back was sold without stock.",
			mutate: func(s *Snapshot) {
				where(s.Reservations, byOrder[Reservation]("ord-u1")).Status = ReservationReleased
			},
			want: []Finding{{MissingReservation, Critical, "order/ord-u1",
				"order ord-u1 must hold its stock (its saga shop/o-1 is Completed) but has no RESERVED reservation (res-u1 is RELEASED)"}},
		},
		"NegativeStock": {
			reason: "Stock is units available; below zero means the product was oversold.",
			mutate: func(s *Snapshot) { s.Products[0].Stock = -2 },
			want:   []Finding{{NegativeStock, Critical, "product/LAP-001", "product LAP-001 (Laptop) has -2 units available"}},
		},
		"UnreleasedReservation": {
			reason: "A Compensated saga's reservation that still holds stock leaks it, at once (no two-hour grace).",
			mutate: func(s *Snapshot) {
				where(s.Reservations, byOrder[Reservation]("ord-u3")).Status = ReservationReserved
			},
			want: []Finding{{UnreleasedReservation, Critical, "reservation/res-u3",
				"reservation res-u3 is RESERVED and still holds stock of order ord-u3, which was undone (its saga shop/o-3 is Compensated)"}},
		},
		"UnreleasedReservationOfCancelledOrder": {
			reason: "Without a saga, a CANCELLED order decides: a reservation stuck PENDING still holds stock.",
			mutate: func(s *Snapshot) {
				s.Sagas = without(s.Sagas, "ord-u3")
				where(s.Reservations, byOrder[Reservation]("ord-u3")).Status = "PENDING"
			},
			want: []Finding{{UnreleasedReservation, Critical, "reservation/res-u3",
				"reservation res-u3 is PENDING and still holds stock of order ord-u3, which was undone (it is CANCELLED)"}},
		},
		"UnrefundedPayment": {
			reason: "A Compensated saga must leave no capture.",
			mutate: func(s *Snapshot) {
				p := where(s.Payments, byOrder[Payment]("ord-u3"))
				p.Status, p.RefundedAmount = PaymentCaptured, 0
			},
			want: []Finding{{UnrefundedPayment, Critical, "payment/pay-u3",
				"payment pay-u3 still holds 449.99 USD of order ord-u3, which was undone (its saga shop/o-3 is Compensated)"}},
		},
		"UncancelledShipment": {
			reason: "A Compensated saga must leave no scheduled shipment.",
			mutate: func(s *Snapshot) {
				where(s.Shipments, byOrder[Shipment]("ord-u3")).Status = ShipmentScheduled
			},
			want: []Finding{{UncancelledShipment, Critical, "shipment/shp-u3",
				"shipment shp-u3 is still SCHEDULED for order ord-u3, which was undone (its saga shop/o-3 is Compensated)"}},
		},
		"ExcessiveRefund": {
			reason: "A refund above the capture gives away money.",
			mutate: func(s *Snapshot) {
				where(s.Payments, byOrder[Payment]("ord-u3")).RefundedAmount = 45000
			},
			want: []Finding{{ExcessiveRefund, Critical, "payment/pay-u3", "payment pay-u3 refunded 450.00 USD but captured only 449.99"}},
		},
		"MissingOrderConfirmation": {
			reason: "A Completed saga's customer must have been sent ORDER_CONFIRMED (the type the service writes).",
			mutate: func(s *Snapshot) { s.Notifications = without(s.Notifications, "ord-u1") },
			want: []Finding{{MissingOrderConfirmation, Warning, "order/ord-u1",
				"order ord-u1 is confirmed (its saga shop/o-1 is Completed) but the customer was never sent ORDER_CONFIRMED"}},
		},
		"UndeliveredOrderConfirmation": {
			reason: "A confirmation recorded FAILED was not sent either.",
			mutate: func(s *Snapshot) {
				n := where(s.Notifications, byOrder[Notification]("ord-u9"))
				n.Status, n.FailureReason = "FAILED", "mailbox full"
			},
			want: []Finding{{MissingOrderConfirmation, Warning, "order/ord-u9",
				"order ord-u9 is confirmed (it is CONFIRMED) but notification ntf-u9-confirmed was not delivered (FAILED: mailbox full)"}},
		},
		"ConfirmationOfRecentOrderWithoutSagaIsAwaited": {
			reason: "An order without a known saga that changed within Settle may still get its notification.",
			mutate: func(s *Snapshot) {
				s.Notifications = without(s.Notifications, "ord-u9")
				where(s.Orders, byOrder[Order]("ord-u9")).UpdatedAt = now.Add(-30 * time.Second)
			},
			want: []Finding{},
		},
		"MissingCancellationNotice": {
			reason: "A cancelled order's customer should hear of it; the notice is best effort, so info.",
			mutate: func(s *Snapshot) { s.Notifications = without(s.Notifications, "ord-u2") },
			want: []Finding{{MissingCancellationNotice, Info, "order/ord-u2",
				"order ord-u2 was cancelled (its saga shop/o-2 is Compensated) but the customer was never sent ORDER_CANCELLED"}},
		},
		"LongRunningSaga": {
			reason: "A saga not terminal after the threshold is a warning, whatever its step.",
			mutate: func(s *Snapshot) {
				where(s.Sagas, byOrder[Saga]("ord-u4")).StartedAt = now.Add(-11 * time.Minute)
			},
			want: []Finding{{LongRunningSaga, Warning, "ordersaga/shop/o-4",
				"saga shop/o-4 is still Running after 11m0s (threshold 10m0s): msg of o-4"}},
		},
		"LongRunningThresholdIsAnOption": {
			reason: "Options.LongRunning moves the threshold; a saga never started counts from its creation.",
			mutate: func(s *Snapshot) {
				s.Sagas = append(s.Sagas, Saga{Namespace: "shop", Name: "o-5", OrderID: "ord-u5", CreatedAt: now.Add(-2 * time.Minute), Suspended: true})
			},
			opts: Options{LongRunning: time.Minute},
			want: []Finding{{LongRunningSaga, Warning, "ordersaga/shop/o-5",
				"saga shop/o-5 is still Pending (suspended) after 2m0s (threshold 1m0s): no message"}},
		},
		"OrphanedSaga": {
			reason: "The order of a saga whose CreateOrder succeeded must exist.",
			mutate: func(s *Snapshot) { s.Orders = without(s.Orders, "ord-u2") },
			want: []Finding{{OrphanedSaga, Critical, "ordersaga/shop/o-2",
				"saga shop/o-2 is Compensated and created order ord-u2, which the order service does not have"}},
		},
		"CompensatedSagaWithoutOrderIsFine": {
			reason: "A saga that never created its order may have no order: the cancel left a tombstone, which lists skip.",
			mutate: func(s *Snapshot) {
				s.Orders = without(s.Orders, "ord-u2")
				s.Notifications = without(s.Notifications, "ord-u2")
				where(s.Sagas, byOrder[Saga]("ord-u2")).OrderCreated = false
			},
			want: []Finding{},
		},
		"SagaOrderMismatchCompleted": {
			reason: "A Completed saga's order must be CONFIRMED; the saga decides the goal, so its effects raise nothing more.",
			mutate: func(s *Snapshot) { where(s.Orders, byOrder[Order]("ord-u1")).Status = OrderCancelled },
			want: []Finding{{SagaOrderMismatch, Critical, "ordersaga/shop/o-1",
				"saga shop/o-1 is Completed but its order ord-u1 is CANCELLED, not CONFIRMED"}},
		},
		"SagaOrderMismatchCompensated": {
			reason: "A Compensated saga's order must be CANCELLED (or absent).",
			mutate: func(s *Snapshot) { where(s.Orders, byOrder[Order]("ord-u2")).Status = OrderPending },
			want: []Finding{{SagaOrderMismatch, Critical, "ordersaga/shop/o-2",
				"saga shop/o-2 is Compensated but its order ord-u2 is PENDING, not CANCELLED"}},
		},
		"SagaFailed": {
			reason: "A Failed saga needs a person; nothing is expected of its effects meanwhile.",
			mutate: func(s *Snapshot) {
				sg := where(s.Sagas, byOrder[Saga]("ord-u3"))
				sg.Phase, sg.Message = v1.PhaseFailed, "compensation of ProcessPayment gave up"
				where(s.Payments, byOrder[Payment]("ord-u3")).Status = PaymentCaptured
				where(s.Orders, byOrder[Order]("ord-u3")).Status = OrderPending
			},
			want: []Finding{{SagaFailed, Critical, "ordersaga/shop/o-3",
				"saga shop/o-3 is Failed and a person must act: compensation of ProcessPayment gave up (then run `sagactl retry o-3`)"}},
		},
		"DuplicatePayment": {
			reason: "Two captures for one order charge the customer twice.",
			mutate: func(s *Snapshot) {
				dup := payment("u1", PaymentCaptured, 199998, 0)
				dup.PaymentID = "pay-u1-again"
				s.Payments = append(s.Payments, dup)
			},
			want: []Finding{{DuplicatePayment, Critical, "order/ord-u1", "order ord-u1 has 2 captured payments: pay-u1, pay-u1-again"}},
		},
		"DuplicateReservation": {
			reason: "Two reservations holding stock for one order take its stock twice.",
			mutate: func(s *Snapshot) {
				s.Reservations = append(s.Reservations, Reservation{"res-x", "ord-u9", ReservationReserved})
			},
			want: []Finding{{DuplicateReservation, Critical, "order/ord-u9", "order ord-u9 has 2 reservations holding stock: res-u9, res-x"}},
		},
		"DuplicateShipment": {
			reason: "Two scheduled shipments for one order ship it twice.",
			mutate: func(s *Snapshot) {
				s.Shipments = append(s.Shipments, Shipment{"shp-x", "ord-u4", ShipmentScheduled})
			},
			want: []Finding{{DuplicateShipment, Critical, "order/ord-u4", "order ord-u4 has 2 scheduled shipments: shp-u4, shp-x"}},
		},
		"RollbackInFlightAfterTheFence": {
			reason: "A Compensating saga cancels its order first (the fence), then undoes the rest: a CANCELLED order whose shipment, payment and stock are not undone yet is a rollback in flight, not a leak.",
			mutate: func(s *Snapshot) { fencedOnly(s, v1.PhaseCompensating) },
			want:   []Finding{},
		},
		"RollbackStartedAfterTheSagasWereRead": {
			reason: "Sagas are read before the services: a saga read Running may have begun its rollback and cancelled its order before the orders were read.",
			mutate: func(s *Snapshot) { fencedOnly(s, v1.PhaseRunning) },
			want:   []Finding{},
		},
		"CompensatedSagaWithOnlyItsOrderCancelled": {
			reason: "A Compensated saga's rollback has ended: every step it did not undo is a finding, as before.",
			mutate: func(s *Snapshot) { fencedOnly(s, v1.PhaseCompensated) },
			want: []Finding{
				{UncancelledShipment, Critical, "shipment/shp-u3",
					"shipment shp-u3 is still SCHEDULED for order ord-u3, which was undone (its saga shop/o-3 is Compensated)"},
				{UnrefundedPayment, Critical, "payment/pay-u3",
					"payment pay-u3 still holds 449.99 USD of order ord-u3, which was undone (its saga shop/o-3 is Compensated)"},
				{UnreleasedReservation, Critical, "reservation/res-u3",
					"reservation res-u3 is RESERVED and still holds stock of order ord-u3, which was undone (its saga shop/o-3 is Compensated)"},
				{MissingCancellationNotice, Info, "order/ord-u3",
					"order ord-u3 was cancelled (its saga shop/o-3 is Compensated) but the customer was never sent ORDER_CANCELLED"},
			},
		},
		"RecentlyCancelledOrderWithoutSagaIsAwaited": {
			reason: "An order without a known saga that was cancelled within Settle may be a rollback in flight of a saga the check did not read.",
			mutate: func(s *Snapshot) {
				fencedOnly(s, v1.PhaseCompensating)
				s.Sagas = without(s.Sagas, "ord-u3")
				where(s.Orders, byOrder[Order]("ord-u3")).UpdatedAt = now.Add(-30 * time.Second)
			},
			want: []Finding{},
		},
		"SettledCancelledOrderWithoutSagaIsJudged": {
			reason: "An order without a known saga, cancelled longer than Settle ago, must be undone.",
			mutate: func(s *Snapshot) {
				fencedOnly(s, v1.PhaseCompensating)
				s.Sagas = without(s.Sagas, "ord-u3")
			},
			want: []Finding{
				{UncancelledShipment, Critical, "shipment/shp-u3",
					"shipment shp-u3 is still SCHEDULED for order ord-u3, which was undone (it is CANCELLED)"},
				{UnrefundedPayment, Critical, "payment/pay-u3",
					"payment pay-u3 still holds 449.99 USD of order ord-u3, which was undone (it is CANCELLED)"},
				{UnreleasedReservation, Critical, "reservation/res-u3",
					"reservation res-u3 is RESERVED and still holds stock of order ord-u3, which was undone (it is CANCELLED)"},
				{MissingCancellationNotice, Info, "order/ord-u3",
					"order ord-u3 was cancelled (it is CANCELLED) but the customer was never sent ORDER_CANCELLED"},
			},
		},
		"InFlightSagaIsJudgedByItsOrder": {
			reason: "A Running saga's CONFIRMED order must already be paid, reserved and shipped; only the notification may lag.",
			mutate: func(s *Snapshot) { s.Shipments = without(s.Shipments, "ord-u4") },
			want: []Finding{{MissingShipment, Critical, "order/ord-u4",
				"order ord-u4 must be shipped (it is CONFIRMED) but has no SCHEDULED shipment"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := healthy()
			tc.mutate(&s)
			got := Check(s, now, tc.opts)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nCheck(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
