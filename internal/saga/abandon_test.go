package saga

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func withAbandon(token string) viewOption { return func(v *View) { v.AbandonRequest = token } }

func abandonHandled(token string) statusOption {
	return func(st *v1.SagaStatus) { st.LastHandledAbandon = token }
}

// failedAtPayment is a Failed saga whose refund gave up: the order and the reservation
// were undone, the payment and the shipment were not.
func failedAtPayment() v1.SagaStatus {
	st := rollingBack(v1.StepScheduleShipment,
		setComp(v1.StepCreateOrder, doneCall()), setComp(v1.StepReserveInventory, doneCall()),
		setComp(v1.StepProcessPayment, failedCall(6)), output(v1.StepProcessPayment, "paymentId", "pay-1"))
	st.Phase, st.FinishedAt = v1.PhaseFailed, at(t0.Add(-time.Minute))
	return st
}

// ticketFailed is a Failed ticket sale: AwardPoints was undone, the charge's and the
// seat's undos gave up.
func ticketFailed() v1.SagaStatus {
	st := ticketRollingBack(setComp(stepChargeCard, failedCall(4)), setComp(stepAwardPoints, doneCall()),
		setComp(stepReserveSeat, failedCall(8)), output(stepChargeCard, "chargeId", "ch-1"))
	st.Steps[3].State = v1.StepCompensating
	st.Phase, st.FinishedAt = v1.PhaseFailed, at(t0.Add(-time.Minute))
	return st
}

func TestAbandonDecision(t *testing.T) {
	undone := []v1.UndoneStep{
		{Name: v1.StepProcessPayment, State: v1.StepSucceeded, ResourceID: "pay-1",
			IdempotencyKey: testUID + "/ProcessPayment/action", CompensationError: "TIMEOUT: no answer within stepTimeout"},
		{Name: v1.StepScheduleShipment, State: v1.StepFailed, IdempotencyKey: testUID + "/ScheduleShipment/action"},
	}
	long := strings.Repeat("a", 300)
	cases := map[string]nextCase{
		"FailedAndDeletingIsAbandoned": {
			reason: "A Failed saga being deleted is abandoned; every step whose compensation did not succeed is listed, with what finds it.",
			view:   view(deleting(), withAbandon("yes"), withStatus(failedAtPayment())),
			want:   Decision{Kind: KindAbandon, RetryToken: "yes", LeftUndone: undone},
		},
		"LongValueIsHandledByDigest": {
			reason: "A long annotation value is kept as a digest, as the retry annotation's is, so status stays bounded.",
			view:   view(deleting(), withAbandon(long), withStatus(failedAtPayment())),
			want:   Decision{Kind: KindAbandon, RetryToken: RetryToken(long), LeftUndone: undone},
		},
		"HandledValueKeepsFinalizer": {
			reason: "A value already handled does nothing more: the Failed saga keeps its finalizer until a new value.",
			view:   view(deleting(), withAbandon("yes"), withStatus(with(failedAtPayment(), abandonHandled("yes")))),
			want:   Decision{Kind: KindDone},
		},
		"FailedNotDeletingIsRefused": {
			reason: "A Failed saga that is not being deleted may still be re-driven: the annotation is refused.",
			view:   view(withAbandon("yes"), withStatus(failedAtPayment())),
			want: Decision{Kind: KindIgnoreAbandon, RetryToken: "yes", Message: "ignored the saga.ordersaga.io/abandon annotation: " +
				"the saga is Failed but not being deleted; delete it, then set the annotation again. Nothing was done"},
		},
		"RunningIsRefused": {
			reason: "A saga in flight will end on its own: the annotation is refused, and deletion still compensates.",
			view:   view(deleting(), withAbandon("yes"), withStatus(rollingBack(v1.StepProcessPayment))),
			want: Decision{Kind: KindIgnoreAbandon, RetryToken: "yes", Message: "ignored the saga.ordersaga.io/abandon annotation: " +
				"it releases only a Failed saga that is being deleted, and this saga is Compensating. Nothing was done"},
		},
		"NotStartedIsRefusedAsPending": {
			reason: "A saga with no status yet is named Pending in the refusal.",
			view:   view(withAbandon("x")),
			want: Decision{Kind: KindIgnoreAbandon, RetryToken: "x", Message: "ignored the saga.ordersaga.io/abandon annotation: " +
				"it releases only a Failed saga that is being deleted, and this saga is Pending. Nothing was done"},
		},
		"TicketPlanListsWhatItsOutputsName": {
			reason: "On another plan, the resource of each step left undone is its own ResourceOutput (seatId, chargeId); " +
				"CheckEligibility, which has no compensation, is never listed.",
			view: ticketView(deleting(), withAbandon("yes"), withStatus(ticketFailed())),
			want: Decision{Kind: KindAbandon, RetryToken: "yes", LeftUndone: []v1.UndoneStep{
				{Name: stepReserveSeat, State: v1.StepSucceeded, ResourceID: "seat-7", IdempotencyKey: testUID + "/ReserveSeat/action",
					CompensationError: "TIMEOUT: no answer within stepTimeout"},
				{Name: stepChargeCard, State: v1.StepCompensating, ResourceID: "ch-1", IdempotencyKey: testUID + "/ChargeCard/action",
					CompensationError: "TIMEOUT: no answer within stepTimeout"},
			}},
		},
		"RefusedValueThenRunsOn": {
			reason: "Once a refusal is recorded, the saga goes on as if the annotation were not there.",
			view:   view(withAbandon("x"), withStatus(with(status(v1.PhaseRunning), abandonHandled("x")))),
			want:   Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
		},
	}
	runNextCases(t, cases)
}

func TestRecordAbandon(t *testing.T) {
	v := view(deleting(), withAbandon("yes"), withStatus(failedAtPayment()))
	d := Next(v, t0)
	st := failedAtPayment()
	Record(v.Plan, &st, d, Outcome{}, t0)

	if st.Phase != v1.PhaseFailed || st.LastHandledAbandon != "yes" {
		t.Errorf("phase %s, lastHandledAbandon %q: want Failed (the saga is not undone) and the value handled", st.Phase, st.LastHandledAbandon)
	}
	if st.Abandoned == nil || !st.Abandoned.At.Equal(at(t0)) || len(st.Abandoned.LeftUndone) != 2 {
		t.Fatalf("abandoned = %+v, want the time and the two steps left undone", st.Abandoned)
	}
	wantMsg := "abandoned with 2 step(s) possibly left undone: ProcessPayment (pay-1, key " + testUID +
		"/ProcessPayment/action); ScheduleShipment (id unknown, key " + testUID + "/ScheduleShipment/action)"
	if st.Message != wantMsg {
		t.Errorf("message = %q\nwant      %q", st.Message, wantMsg)
	}
	for _, c := range []struct {
		typ    string
		status metav1.ConditionStatus
	}{{v1.ConditionSucceeded, metav1.ConditionFalse}, {v1.ConditionReady, metav1.ConditionFalse}, {v1.ConditionStalled, metav1.ConditionTrue}} {
		if got := findCondition(st.Conditions, c.typ); got == nil || got.Status != c.status || got.Reason != v1.ReasonAbandoned {
			t.Errorf("condition %s = %+v, want %s with reason %s", c.typ, got, c.status, v1.ReasonAbandoned)
		}
	}
}

func TestAbandonSummaryWhenNothingIsLeft(t *testing.T) {
	if got := AbandonSummary(nil); !strings.Contains(got, "nothing is left undone") {
		t.Errorf("AbandonSummary(nil) = %q, want it to say that nothing is left undone", got)
	}
}

func findCondition(conds []metav1.Condition, typ string) *metav1.Condition {
	for i := range conds {
		if conds[i].Type == typ {
			return &conds[i]
		}
	}
	return nil
}
