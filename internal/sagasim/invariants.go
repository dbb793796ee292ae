package sagasim

import (
	"context"
	"strings"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// Violation is one broken invariant.
type Violation struct {
	// Invariant names the rule, one of the inv constants, so that a long run can count
	// failing seeds per rule.
	Invariant string
	Message   string
}

// The invariants every schedule must keep.
const (
	invSetup       = "the simulation could run"
	invEnds        = "every saga ends Completed or Compensated"
	invFailedCause = "Failed only for a cause the schedule made"
	invRedrive     = "a re-drive recovers a Failed saga once its cause is lifted"
	invAbandoned   = "an abandoned saga is released, and lists everything it left undone"
	invCompleted   = "Completed means confirmed, paid once, stock held, shipped"
	invCompensated = "Compensated means nothing is left: no order, money, stock or shipment"
	invStock       = "stock moves by exactly the items of Completed sagas and of reservations abandoned"
	invOnce        = "no effect happens twice"
	invTombstone   = "no action takes effect after its tombstone"
	invPivot       = "nothing is undone after the pivot"
	invConsistency = "sagactl check's rules report nothing"
	// invDefinitionKept is Saga mode's: a deleted SagaDefinition stays while a Saga runs
	// on it, and goes once none does.
	invDefinitionKept = "a deleted SagaDefinition stays while a Saga runs on it, and goes after"
)

// checkInvariants judges the end of a schedule: each saga's final status against what
// the services hold, the stock of every product, the order of effects in the services'
// logs, and the consistency rules that sagactl check runs.
func (s *sim) checkInvariants(ctx context.Context) {
	snap, err := s.snapshot(ctx)
	if err != nil {
		s.violatef(invSetup, "collect the final state: %v", err)
		return
	}
	held := map[string]int{}
	for _, sg := range s.sagas {
		s.judge(ctx, sg, snap, held)
	}
	s.checkStock(snap, held)
	s.checkConsistency(ctx, snap)
}

// judge checks one saga's final status against what the services hold and the order of
// its effects, and adds to held the stock the saga keeps.
func (s *sim) judge(ctx context.Context, sg *v1.OrderSaga, snap consistency.Snapshot, held map[string]int) {
	final := s.finalStatus(ctx, sg.Name, string(sg.UID))
	if final == nil {
		s.violatef(invSetup, "%s: no stored version of the saga was ever seen", sg.Name)
		return
	}
	w := worldOf(snap, string(sg.UID))
	switch final.Status.Phase {
	case v1.PhaseCompleted:
		s.checkCompleted(sg.Name, final, w)
		hold(held, sg)
	case v1.PhaseCompensated:
		s.checkCompensated(sg.Name, final, w)
	case v1.PhaseFailed:
		if s.checkAbandoned(ctx, sg.Name, final, w) && w.reservation != nil && w.reservation.Status == consistency.ReservationReserved {
			hold(held, sg)
		}
	case "", v1.PhasePending:
		if _, exists := s.api.get(ctx, sg.Name); exists {
			s.violatef(invEnds, "%s: still %q, want Completed or Compensated", sg.Name, final.Status.Phase)
		} else if effects := s.effectsOf(string(sg.UID)); len(effects) > 0 {
			s.violatef(invCompensated, "%s: deleted before it started, yet the services changed: %v", sg.Name, effects)
		}
	default:
		s.violatef(invEnds, "%s: ended %q, want Completed or Compensated", sg.Name, final.Status.Phase)
	}
	s.checkEffects(sg.Name, string(sg.UID))
}

// hold adds the items of sg to held.
func hold(held map[string]int, sg *v1.OrderSaga) {
	for _, it := range sg.Spec.Items {
		held[it.ProductID] += int(it.Quantity)
	}
}

// checkStock: every product's stock is its initial stock less what the sagas hold.
func (s *sim) checkStock(snap consistency.Snapshot, held map[string]int) {
	for _, p := range snap.Products {
		want, known := s.stock[p.ProductID]
		if known && int(p.Stock) != want-held[p.ProductID] {
			s.violatef(invStock, "stock of %s is %d, want %d (initial %d less %d held by Completed sagas)",
				p.ProductID, p.Stock, want-held[p.ProductID], want, held[p.ProductID])
		}
	}
}

// checkConsistency: sagactl check's rules find nothing that the schedule did not cause
// and tell somebody about.
func (s *sim) checkConsistency(ctx context.Context, snap consistency.Snapshot) {
	for _, f := range consistency.Check(snap, s.clock.Now().Add(time.Hour), consistency.Options{}) {
		if !s.undeliverable(ctx, f) && !s.acknowledged(ctx, f) {
			s.violatef(invConsistency, "consistency rule %s (%s) on %s: %s", f.Rule, f.Severity, f.Object, f.Message)
		}
	}
}

// undeliverable: the finding is a notice that could not be sent for a cause the schedule
// made (a customer whose deliveries always fail, or an outage that outlasted the notice's
// attempts) and that the saga's status records, so nobody is left unaware of it.
func (s *sim) undeliverable(ctx context.Context, f consistency.Finding) bool {
	if f.Rule != consistency.MissingOrderConfirmation && f.Rule != consistency.MissingCancellationNotice {
		return false
	}
	for _, sg := range s.sagas {
		if f.Object != "order/"+ordersaga.OrderID(string(sg.UID)) {
			continue
		}
		if sg.Spec.CustomerID == failingCustomer {
			return true
		}
		final := s.finalStatus(ctx, sg.Name, string(sg.UID))
		if f.Rule == consistency.MissingOrderConfirmation {
			return stepState(final, v1.StepSendNotification) == v1.StepFailed
		}
		n := final.Status.CancellationNotice
		return n != nil && n.State == v1.CallFailed
	}
	return false
}

// checkAbandoned judges a saga that ended Failed: it must have been abandoned and be gone,
// and every compensable step it does not list as left undone must hold nothing. It
// reports whether the saga was abandoned.
func (s *sim) checkAbandoned(ctx context.Context, name string, obj *v1.OrderSaga, w sagaWorld) bool {
	if _, exists := s.api.get(ctx, name); exists || obj.Status.Abandoned == nil {
		s.violatef(invEnds, "%s: ended Failed, want Completed or Compensated, or abandoned and released", name)
		return false
	}
	listed := map[v1.StepName]bool{}
	for _, u := range obj.Status.Abandoned.LeftUndone {
		listed[u.Name] = true
	}
	held := w.held()
	for _, step := range ordersaga.Steps() {
		if what, ok := held[step]; ok && !listed[step] {
			s.violatef(invAbandoned, "%s: abandoned, and its %s is left, but status.abandoned does not list %s", name, what, step)
		}
	}
	if len(w.confirmation) > 0 {
		s.violatef(invAbandoned, "%s: abandoned after a rollback, but the customer was told the order is confirmed", name)
	}
	return true
}

// acknowledged: the finding concerns an abandoned saga, or what it listed as left undone;
// the person who abandoned it was told (status.abandoned and a Warning Event).
func (s *sim) acknowledged(ctx context.Context, f consistency.Finding) bool {
	for _, sg := range s.sagas {
		final := s.finalStatus(ctx, sg.Name, string(sg.UID))
		if final == nil || final.Status.Abandoned == nil {
			continue
		}
		if f.Object == "ordersaga/"+Namespace+"/"+sg.Name {
			return true
		}
		uid := string(sg.UID)
		ids := map[v1.StepName]string{v1.StepCreateOrder: ordersaga.OrderID(uid), v1.StepReserveInventory: ordersaga.ReservationID(uid),
			v1.StepProcessPayment: ordersaga.PaymentID(uid), v1.StepScheduleShipment: ordersaga.ShipmentID(uid)}
		for _, u := range final.Status.Abandoned.LeftUndone {
			if strings.HasSuffix(f.Object, "/"+ids[u.Name]) {
				return true
			}
		}
	}
	return false
}

// finalStatus is the saga as stored now, or its last stored version once it is gone.
func (s *sim) finalStatus(ctx context.Context, name, uid string) *v1.OrderSaga {
	if obj, ok := s.api.get(ctx, name); ok {
		return obj
	}
	return s.api.archive[uid]
}

// checkCompleted: the order is confirmed, paid once for its total and never refunded,
// its stock is held, one shipment is scheduled, the customer heard at most once, and
// status says so.
func (s *sim) checkCompleted(name string, obj *v1.OrderSaga, w sagaWorld) {
	total, _ := consistency.ParseMoney(obj.Status.Total)
	switch {
	case w.order == nil || w.order.Status != consistency.OrderConfirmed:
		s.violatef(invCompleted, "%s: Completed, but its order is %s, want CONFIRMED", name, orderState(w.order))
	case w.order.Total != total:
		s.violatef(invCompleted, "%s: Completed for %s, but its order's total is %s", name, obj.Status.Total, w.order.Total)
	}
	if w.payment == nil || w.payment.Status != consistency.PaymentCaptured || w.payment.Amount != total || w.payment.RefundedAmount != 0 {
		s.violatef(invCompleted, "%s: Completed, but its payment is %+v, want one capture of %s and no refund", name, w.payment, obj.Status.Total)
	}
	if w.reservation == nil || w.reservation.Status != consistency.ReservationReserved {
		s.violatef(invCompleted, "%s: Completed, but its reservation is %+v, want RESERVED", name, w.reservation)
	}
	if w.shipment == nil || w.shipment.Status != consistency.ShipmentScheduled {
		s.violatef(invCompleted, "%s: Completed, but its shipment is %+v, want SCHEDULED", name, w.shipment)
	}
	if len(w.confirmation) > 1 || len(w.cancellation) > 0 {
		s.violatef(invCompleted, "%s: Completed with %d confirmation and %d cancellation notices, want at most one confirmation", name, len(w.confirmation), len(w.cancellation))
	}
	s.checkCompletedStatus(name, obj)
}

// checkCompletedStatus: every step succeeded (the notice, forward-only, may have failed)
// and none was compensated, and status names the saga's own order, payment and shipment.
func (s *sim) checkCompletedStatus(name string, obj *v1.OrderSaga) {
	for _, st := range obj.Status.Steps {
		failedNotice := st.Name == v1.StepSendNotification && st.State == v1.StepFailed
		if st.State != v1.StepSucceeded && !failedNotice {
			s.violatef(invCompleted, "%s: Completed, but step %s is %s", name, st.Name, st.State)
		}
		if st.Compensation != nil {
			s.violatef(invCompleted, "%s: Completed, but step %s has a compensation record", name, st.Name)
		}
	}
	if obj.Status.OrderID != ordersaga.OrderID(string(obj.UID)) || obj.Status.PaymentID != ordersaga.PaymentID(string(obj.UID)) ||
		obj.Status.ShipmentID != ordersaga.ShipmentID(string(obj.UID)) {
		s.violatef(invCompleted, "%s: Completed, but status names order %q, payment %q, shipment %q", name, obj.Status.OrderID, obj.Status.PaymentID, obj.Status.ShipmentID)
	}
}

// checkCompensated: nothing the saga did is left: no live order, no money kept, no stock
// held, no shipment scheduled, no confirmation sent; and status shows every step that may
// have run as compensated.
func (s *sim) checkCompensated(name string, obj *v1.OrderSaga, w sagaWorld) {
	held := w.held()
	for _, step := range ordersaga.Steps() {
		if what, ok := held[step]; ok {
			s.violatef(invCompensated, "%s: Compensated, but its %s is left (%s not undone)", name, what, step)
		}
	}
	if len(w.confirmation) > 0 {
		s.violatef(invCompensated, "%s: Compensated, but the customer was told the order is confirmed", name)
	}
	if len(w.cancellation) > 1 {
		s.violatef(invCompensated, "%s: Compensated with %d cancellation notices", name, len(w.cancellation))
	}
	s.checkCompensatedStatus(name, obj)
}

// checkCompensatedStatus: no step after the pivot succeeded, and every compensable step
// that ran was compensated.
func (s *sim) checkCompensatedStatus(name string, obj *v1.OrderSaga) {
	for _, st := range obj.Status.Steps {
		if st.State == v1.StepSucceeded && !ordersaga.Compensable(st.Name) {
			s.violatef(invCompensated, "%s: Compensated, but step %s succeeded: a step after the pivot ran", name, st.Name)
		}
		if ordersaga.Compensable(st.Name) && st.Attempts > 0 && (st.Compensation == nil || st.Compensation.State != v1.CallSucceeded) {
			s.violatef(invCompensated, "%s: Compensated, but step %s ran and its compensation is %+v", name, st.Name, st.Compensation)
		}
	}
}

func stepState(obj *v1.OrderSaga, name v1.StepName) v1.StepState {
	for _, st := range obj.Status.Steps {
		if st.Name == name {
			return st.State
		}
	}
	return ""
}

func orderState(o *consistency.Order) string {
	if o == nil {
		return "missing"
	}
	return o.Status
}

// effectsOf is the part of the services' effect logs that concerns one saga.
func (s *sim) effectsOf(uid string) []servicemodel.Effect {
	ids := map[string]bool{ordersaga.OrderID(uid): true, ordersaga.ReservationID(uid): true, ordersaga.PaymentID(uid): true,
		ordersaga.ShipmentID(uid): true, ordersaga.ConfirmationNotificationID(uid): true, ordersaga.CancellationNotificationID(uid): true}
	var out []servicemodel.Effect
	for _, e := range s.models.Effects() {
		if ids[e.ID] {
			out = append(out, e)
		}
	}
	return out
}

// checkEffects reads the services' effect logs for one saga: nothing took effect twice,
// no action took effect after its tombstone, and nothing was undone after the order was
// confirmed (the pivot).
func (s *sim) checkEffects(name, uid string) {
	seen := map[string]int{}
	tombstoned := map[string]bool{}
	confirmed := false
	for _, e := range s.effectsOf(uid) {
		if seen[e.Service+"/"+e.ID+": "+e.Change]++; seen[e.Service+"/"+e.ID+": "+e.Change] == 2 {
			s.violatef(invOnce, "%s: %s took effect twice", name, e)
		}
		switch e.Verb() {
		case servicemodel.Tombstoned:
			tombstoned[e.ID] = true
		case servicemodel.Created, servicemodel.Took, servicemodel.Reserved, servicemodel.Captured, servicemodel.Scheduled, servicemodel.Sent:
			if tombstoned[e.ID] {
				s.violatef(invTombstone, "%s: %s took effect after its tombstone", name, e)
			}
		case servicemodel.Confirmed:
			confirmed = true
		}
		if confirmed && undoes(e) {
			s.violatef(invPivot, "%s: %s after the order was confirmed: a compensation after the pivot", name, e)
		}
	}
}

// undoes reports whether e is a compensation's effect.
func undoes(e servicemodel.Effect) bool {
	switch e.Verb() {
	case servicemodel.Cancelled, servicemodel.Returned, servicemodel.Released, servicemodel.Refunded:
		return true
	}
	return false
}
