package ordersaga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// fullStatus has every field of an OrderSaga's status set, as a saga that rolled back
// after ScheduleShipment and sent its cancellation notice would.
func fullStatus() v1.OrderSagaStatus {
	at := metav1.NewMicroTime(time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC))
	done := &v1.CallStatus{State: v1.CallSucceeded, Attempts: 1, StartedAt: &at, FinishedAt: &at}
	step := func(name v1.StepName, state v1.StepState, comp *v1.CallStatus) v1.StepStatus {
		return v1.StepStatus{Name: name, State: state, Attempts: 1, StartedAt: &at, FinishedAt: &at, LastError: "E", Compensation: comp}
	}
	return v1.OrderSagaStatus{
		ObservedGeneration: 3, Phase: v1.PhaseCompensated, CurrentStep: v1.StepScheduleShipment, Attempts: 2,
		OrderID: "ord-1", ReservationID: "res-1", PaymentID: "pay-1", ShipmentID: "shp-1", TrackingNumber: "TRK-1", Total: "20.00",
		Steps: []v1.StepStatus{
			step(v1.StepCreateOrder, v1.StepCompensated, done), step(v1.StepReserveInventory, v1.StepCompensated, done),
			step(v1.StepProcessPayment, v1.StepCompensated, done), step(v1.StepScheduleShipment, v1.StepCompensated, done),
			step(v1.StepConfirmOrder, v1.StepSkipped, nil), step(v1.StepSendNotification, v1.StepSkipped, nil),
		},
		Failure:            &v1.FailureStatus{Step: v1.StepScheduleShipment, Reason: v1.ReasonUnsupportedDestination, Message: "no"},
		CancellationNotice: done,
		Conditions:         []metav1.Condition{{Type: v1.ConditionSucceeded, Status: metav1.ConditionFalse, Reason: "UnsupportedDestination"}},
		StartedAt:          &at, FinishedAt: &at, Message: "rolled back",
		LastHandledRetry: "r1", LastHandledAbandon: "a1",
		Abandoned: &v1.AbandonStatus{At: at, LeftUndone: []v1.UndoneStep{{Name: v1.StepProcessPayment, State: v1.StepCompensating, IdempotencyKey: "k"}}},
	}
}

// TestStatusRoundTrip checks that converting an OrderSaga's status to the engine's and
// back loses nothing: every field of OrderSaga's contract survives, the identifiers as
// outputs of the steps that assigned them.
func TestStatusRoundTrip(t *testing.T) {
	spec := &v1.OrderSagaSpec{Items: []v1.OrderItem{{ProductID: "A", Quantity: 2, UnitPrice: "10.00"}}}
	for name, st := range map[string]v1.OrderSagaStatus{"Empty": {}, "Pending": {Phase: v1.PhasePending}, "Full": fullStatus()} {
		t.Run(name, func(t *testing.T) {
			run := ToRun(&st)
			var back v1.OrderSagaStatus
			FromRun(spec, &run, &back)
			if diff := cmp.Diff(st, back); diff != "" {
				t.Errorf("FromRun(ToRun(status)): -want, +got:\n%s", diff)
			}
		})
	}
	run := ToRun(new(fullStatus()))
	want := map[v1.StepName]map[string]string{
		v1.StepCreateOrder:      {"orderId": "ord-1", "total": "20.00"},
		v1.StepReserveInventory: {"reservationId": "res-1"},
		v1.StepProcessPayment:   {"paymentId": "pay-1"},
		v1.StepScheduleShipment: {"shipmentId": "shp-1", "trackingNumber": "TRK-1"},
	}
	for _, s := range run.Steps {
		if diff := cmp.Diff(want[s.Name], s.Outputs); diff != "" {
			t.Errorf("ToRun: outputs of %s: -want, +got:\n%s", s.Name, diff)
		}
	}
}

// TestStartComputesTheTotal checks that a saga's total is in status from its start (the
// payment charges it), computed from spec.items before the order service answers.
func TestStartComputesTheTotal(t *testing.T) {
	obj := &v1.OrderSaga{Spec: v1.OrderSagaSpec{Items: []v1.OrderItem{{ProductID: "A", Quantity: 3, UnitPrice: "0.10"}}}}
	Record(obj, saga.Decision{Kind: saga.KindStart}, saga.Outcome{}, time.Now())
	if obj.Status.Phase != v1.PhaseRunning || obj.Status.Total != "0.30" {
		t.Errorf("after Start: phase %s, total %q; want Running and 0.30", obj.Status.Phase, obj.Status.Total)
	}
}

// TestPlan checks the order saga's plan: valid, the pivot and the forward-only step where
// the contract puts them, and the spec's retry policy and step timeout on every call.
func TestPlan(t *testing.T) {
	spec := &v1.OrderSagaSpec{RetryPolicy: &v1.RetryPolicy{MaxAttempts: 7}, StepTimeout: &metav1.Duration{Duration: 3 * time.Second}}
	p := Plan(spec)
	if err := p.Validate(); err != nil {
		t.Fatalf("Plan(spec).Validate() = %v", err)
	}
	type shape struct {
		Name                            v1.StepName
		Compensable, Pivot, ForwardOnly bool
		MaxAttempts                     int32
		Timeout                         time.Duration
	}
	got := make([]shape, 0, len(p.Steps))
	for _, s := range p.Steps {
		got = append(got, shape{s.Name, s.Compensable, s.Pivot, s.ForwardOnly, s.Policy.MaxAttempts, s.Timeout})
	}
	want := []shape{
		{v1.StepCreateOrder, true, false, false, 7, 3 * time.Second},
		{v1.StepReserveInventory, true, false, false, 7, 3 * time.Second},
		{v1.StepProcessPayment, true, false, false, 7, 3 * time.Second},
		{v1.StepScheduleShipment, true, false, false, 7, 3 * time.Second},
		{v1.StepConfirmOrder, false, true, false, 7, 3 * time.Second},
		{v1.StepSendNotification, false, false, true, 7, 3 * time.Second},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Plan(spec) steps: -want, +got:\n%s", diff)
	}
	if ar := p.AfterRollback; ar == nil || ar.Name != NotifyCancellation || ar.RequiresOutput != (saga.OutputRef{Step: v1.StepCreateOrder, Key: "orderId"}) {
		t.Errorf("Plan(spec).AfterRollback = %+v, want the cancellation notice, sent only when the order was created", ar)
	}
	if d := Plan(&v1.OrderSagaSpec{}).Steps[0]; d.Timeout != saga.DefaultStepTimeout || d.Policy != saga.PolicyOf(nil) {
		t.Errorf("Plan of an undefaulted spec: step %+v, want the defaults", d)
	}
}
