package sagasim

import (
	"context"
	"fmt"
	"slices"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/consistency/collect"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// snapshot reads the services' documents through their list endpoints, as sagactl check
// does, and adds the sagas that were deleted after they finished, whose orders would
// otherwise be judged without them.
func (s *sim) snapshot(ctx context.Context) (consistency.Snapshot, error) {
	m := s.models
	urls := collect.ServiceURLs{Order: m.URL(servicemodel.Order), Inventory: m.URL(servicemodel.Inventory),
		Payment: m.URL(servicemodel.Payment), Shipping: m.URL(servicemodel.Shipping), Notification: m.URL(servicemodel.Notification)}
	c := collect.Collector{Kube: views{api: s.api}, Namespace: Namespace, URLs: urls, HTTP: m.Client()}
	snap, err := c.Collect(ctx)
	if err != nil {
		return snap, err
	}
	for _, sg := range s.sagas {
		if _, ok := s.api.get(ctx, sg.Name); !ok {
			if last := s.api.archive[string(sg.UID)]; last != nil && last.Status.Phase.IsTerminal() {
				snap.Sagas = append(snap.Sagas, collect.SagaOf(last))
			}
		}
	}
	return snap, nil
}

// sagaWorld is what the services hold for one saga.
type sagaWorld struct {
	order        *consistency.Order
	reservation  *consistency.Reservation
	payment      *consistency.Payment
	shipment     *consistency.Shipment
	confirmation []consistency.Notification
	cancellation []consistency.Notification
}

func worldOf(snap consistency.Snapshot, uid string) sagaWorld {
	var w sagaWorld
	w.order = find(snap.Orders, func(o consistency.Order) bool { return o.OrderID == ordersaga.OrderID(uid) })
	w.reservation = find(snap.Reservations, func(r consistency.Reservation) bool { return r.ReservationID == ordersaga.ReservationID(uid) })
	w.payment = find(snap.Payments, func(p consistency.Payment) bool { return p.PaymentID == ordersaga.PaymentID(uid) })
	w.shipment = find(snap.Shipments, func(sh consistency.Shipment) bool { return sh.ShipmentID == ordersaga.ShipmentID(uid) })
	for _, n := range snap.Notifications {
		if n.OrderID != ordersaga.OrderID(uid) {
			continue
		}
		if n.Type == consistency.NotificationConfirmed {
			w.confirmation = append(w.confirmation, n)
		} else {
			w.cancellation = append(w.cancellation, n)
		}
	}
	return w
}

// held names, by the step that made it, what the services still hold for the saga: an
// order not cancelled, stock reserved, money kept, a shipment scheduled.
func (w sagaWorld) held() map[v1.StepName]string {
	held := map[v1.StepName]string{}
	if o := w.order; o != nil && o.Status != consistency.OrderCancelled {
		held[v1.StepCreateOrder] = "order " + o.Status
	}
	if r := w.reservation; r != nil && r.Status != consistency.ReservationReleased && r.Status != consistency.ReservationFailed {
		held[v1.StepReserveInventory] = "reservation " + r.Status
	}
	if p := w.payment; p != nil && (p.Status == consistency.PaymentCaptured || p.Status == consistency.PaymentRefunded && p.RefundedAmount != p.Amount) {
		held[v1.StepProcessPayment] = fmt.Sprintf("payment %s (%s refunded of %s)", p.Status, p.RefundedAmount, p.Amount)
	}
	if sh := w.shipment; sh != nil && sh.Status == consistency.ShipmentScheduled {
		held[v1.StepScheduleShipment] = "shipment " + sh.Status
	}
	return held
}

func find[T any](xs []T, match func(T) bool) *T {
	if i := slices.IndexFunc(xs, match); i >= 0 {
		return &xs[i]
	}
	return nil
}
