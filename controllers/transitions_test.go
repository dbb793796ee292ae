package controllers

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/services/order"
)

// A cancellation notice that gives up is said once, as a Warning: the customer was not
// told that the order is off, and a person may want to tell them.
func TestTransitionsWarnWhenTheCancellationNoticeGivesUp(t *testing.T) {
	plan := ordersaga.Plan(&v1.OrderSagaSpec{})
	running := &v1.SagaStatus{Phase: v1.PhaseCompensating, OnRollback: &v1.CallStatus{State: v1.CallRunning, Attempts: 3}}
	failed := running.DeepCopy()
	failed.OnRollback = &v1.CallStatus{State: v1.CallFailed, Attempts: 4, LastError: "HTTP_503: Service Unavailable"}
	want := []event{{"Warning", EventCancellationNoticeFailed, "NotifyCancellation",
		"the order-cancelled notice could not be sent after 4 attempt(s): HTTP_503: Service Unavailable"}}
	if diff := cmp.Diff(want, transitions(plan, running, failed, orderEvents()), cmp.AllowUnexported(event{})); diff != "" {
		t.Errorf("transitions(running, failed): -want, +got:\n%s", diff)
	}
	if got := transitions(plan, failed, failed.DeepCopy(), orderEvents()); len(got) != 0 {
		t.Errorf("transitions(failed, failed) = %v, want no repeated Event", got)
	}
}

// A saga that goes straight through completes without an Event; one whose earlier Events
// told a story (retries, a re-drive, a suspension) gets the Completed Event that ends it.
func TestTransitionsCompletedOnlyAfterAStory(t *testing.T) {
	plan := ordersaga.Plan(&v1.OrderSagaSpec{})
	running := func(attempts int32) *v1.SagaStatus {
		st := &v1.SagaStatus{Phase: v1.PhaseRunning}
		for _, name := range []v1.StepName{v1.StepCreateOrder, v1.StepReserveInventory} {
			st.Steps = append(st.Steps, v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name, State: v1.StepSucceeded, Attempts: 1}})
		}
		st.Steps[1].Attempts = attempts
		return st
	}
	completedWith := func(reason string) func(*v1.SagaStatus) *v1.SagaStatus {
		return func(st *v1.SagaStatus) *v1.SagaStatus {
			st = st.DeepCopy()
			st.Phase = v1.PhaseCompleted
			st.Conditions = append(st.Conditions, metav1.Condition{Type: v1.ConditionSucceeded, Status: metav1.ConditionTrue, Reason: reason})
			return st
		}
	}
	completed := completedWith(v1.ReasonCompleted)
	redriven := running(1)
	redriven.LastHandledRetry = "2026-12-07T10:00:00Z"
	resumed := running(1)
	resumed.Conditions = []metav1.Condition{{Type: v1.ConditionSuspended, Status: metav1.ConditionFalse, Reason: v1.ReasonResumed}}
	for _, tc := range []struct {
		name   string
		before *v1.SagaStatus
		finish func(*v1.SagaStatus) *v1.SagaStatus
		want   []string
	}{
		{"every step at its first try", running(1), completed, nil},
		{"a step retried", running(3), completed, []string{v1.ReasonCompleted}},
		{"re-driven before", redriven, completed, []string{v1.ReasonCompleted}},
		{"resumed before", resumed, completed, []string{v1.ReasonCompleted}},
		{"the notification after the pivot failed", running(1), completedWith(v1.ReasonNotificationFailed), []string{v1.ReasonNotificationFailed}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, e := range transitions(plan, tc.before, tc.finish(tc.before), orderEvents()) {
				got = append(got, e.reason)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Event reasons: -want, +got:\n%s", diff)
			}
		})
	}
}

// A refused fence turns a rollback forward (ADR 0011): a person who saw the Compensating
// Warning is told why the saga now runs forward, once, with the service's refusal.
func TestTransitionsSayWhyARollbackWentForward(t *testing.T) {
	plan := ordersaga.Plan(&v1.OrderSagaSpec{})
	now := metav1.NewMicroTime(time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	rollingBack := &v1.SagaStatus{Phase: v1.PhaseCompensating, CurrentStep: v1.StepCreateOrder}
	for _, name := range ordersaga.Steps() {
		s := v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name, State: v1.StepSucceeded, Attempts: 1}}
		if ordersaga.Compensable(name) {
			s.Compensation = &v1.CallStatus{State: v1.CallPending}
		} else {
			s.State = v1.StepSkipped
		}
		rollingBack.Steps = append(rollingBack.Steps, s)
	}
	forward := rollingBack.DeepCopy()
	refusal := saga.Outcome{Kind: saga.BusinessFailure, Code: order.CodeOrderConfirmed, Message: "order ord-1 is confirmed and cannot be cancelled"}
	saga.Record(plan, forward, saga.Decision{Kind: saga.KindCall, Call: &saga.Call{Step: v1.StepCreateOrder, Direction: saga.Compensate, Attempt: 1}}, refusal, now.Time)
	if forward.Phase != v1.PhaseRunning {
		t.Fatalf("after the refused fence the saga is %s, want Running", forward.Phase)
	}
	got := transitions(plan, rollingBack, forward, orderEvents())
	if len(got) != 1 || got[0].kind != "Warning" || got[0].reason != EventPivotRan || !strings.Contains(got[0].message, order.CodeOrderConfirmed) {
		t.Errorf("transitions(rolling back, turned forward) = %+v, want one Warning %s naming %s", got, EventPivotRan, order.CodeOrderConfirmed)
	}
}
