package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
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
