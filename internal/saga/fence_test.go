package saga

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// The fenced pivot (ADR 0011): no checkpoint before the pivot; every rollback runs the
// fence first; a fence refused because the pivot ran turns the saga forward.

// fenceRefusal is the order service's answer to the cancel of a confirmed order.
var fenceRefusal = Outcome{Kind: BusinessFailure, Code: codeOrderConfirmed, Message: "order ord-1 is confirmed and cannot be cancelled"}

func TestNextWithAFence(t *testing.T) {
	p := testPolicy
	fenced := withPlan(fencedOrderPlan())
	// turnedForward is what Record leaves once the fence was refused, on a stored status
	// that had ProcessPayment exhausted: the pivot under way, the steps before it that did
	// not succeed running again.
	turnedForward := status(v1.PhaseRunning, ok(v1.StepCreateOrder), ok(v1.StepReserveInventory),
		v1.StepStatus{Name: v1.StepProcessPayment, State: v1.StepRunning, Attempts: 3},
		v1.StepStatus{Name: v1.StepScheduleShipment, State: v1.StepRunning},
		v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepRunning})
	cases := map[string]nextCase{
		"PivotIsCalledWithoutACheckpoint": {
			reason: "With a fence the pivot's attempt is not stored first: a rollback that lost it learns from the fence that it ran.",
			view: view(fenced, withStatus(status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...)),
				withStored(status(v1.PhaseRunning))),
			want: Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 1, false)},
		},
		"FenceGoesFirst": {
			reason: "A rollback after ScheduleShipment failed cancels the order first, not the shipment: until the fence answers, the pivot may have run.",
			view:   view(fenced, withStatus(rollingBack(v1.StepScheduleShipment))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepCreateOrder, Compensate, 1, false)},
		},
		"FenceInBackoffHoldsTheOthers": {
			reason: "No other compensation runs while the fence waits to be retried: it has no definite answer yet.",
			view:   view(fenced, withStatus(rollingBack(v1.StepScheduleShipment, setComp(v1.StepCreateOrder, runningCall(1, t0.Add(time.Second)))))),
			want:   Decision{Kind: KindWait, Wait: time.Second, Reason: v1.ReasonStepBackoff},
		},
		"FenceIsRetriedUntilItAnswers": {
			reason: "The fence has no attempt limit, as the pivot has none: giving up on it would leave a Failed saga whose pivot may have run. Its 21st attempt is not Final although a compensation gets 2 x 3.",
			view:   view(fenced, withStatus(rollingBack(v1.StepScheduleShipment, setComp(v1.StepCreateOrder, runningCall(20, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepCreateOrder, Compensate, 21, false)},
		},
		"AfterTheFenceTheRestInReverse": {
			reason: "Once the order is cancelled the pivot can never run, and the other compensations follow in reverse plan order.",
			view:   view(fenced, withStatus(rollingBack(v1.StepScheduleShipment, setComp(v1.StepCreateOrder, doneCall())))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepScheduleShipment, Compensate, 1, false)},
		},
		"FenceWaitsUntilTheRollbackIsStored": {
			reason: "The rollback's own checkpoint stays: the fence, like any compensation, is not made before the rollback is stored.",
			view: view(fenced, withStatus(rollingBack(v1.StepScheduleShipment)),
				withStored(status(v1.PhaseRunning, okUpTo(v1.StepScheduleShipment)...))),
			want: Decision{Kind: KindCheckpoint, Call: callFor(p, v1.StepCreateOrder, Compensate, 1, false)},
		},
		"DeletionWithoutThePivotStoredRollsBack": {
			reason: "A deleted saga whose stored status shows no pivot rolls back; the fence then says whether the pivot ran.",
			view:   view(fenced, deleting(), withStatus(status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...))),
			want: Decision{Kind: KindRollback, Reason: v1.ReasonDeleted,
				Message: "the saga was deleted while in flight"},
		},
		"TurnedForwardDoesNotGiveUp": {
			reason: "After the refusal, the first step that status does not show as succeeded runs again under its key, to read back its first answer. A step before a pivot that ran can no longer roll the saga back, so it is retried until it answers: ProcessPayment's 4th attempt is not Final although maxAttempts is 3.",
			view:   view(fenced, withStatus(turnedForward)),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Action, 4, false)},
		},
		"TurnedForwardIsNotRolledBackByDeletion": {
			reason: "The refusal recorded the pivot as under way: a deleted saga now finishes forward instead of rolling back again.",
			view:   view(fenced, deleting(), withStatus(turnedForward)),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Action, 4, false)},
		},
		"FailedStepBeforeARunPivotDoesNotRollBack": {
			reason: "Should a replayed step still fail for good, the saga goes on: the pivot ran, and nothing may be undone.",
			view: view(fenced, withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), failed(v1.StepReserveInventory, 4, "OUT_OF_STOCK: none left"),
				v1.StepStatus{Name: v1.StepProcessPayment, State: v1.StepRunning, Attempts: 1}, v1.StepStatus{Name: v1.StepScheduleShipment, State: v1.StepRunning},
				v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepRunning}))),
			want: Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Action, 2, false)},
		},
	}
	runNextCases(t, cases)
}

// fenceFailed is st after its first compensation, the order's cancel, was refused with
// lastError at t0 as a compensation is: the saga is Failed, and a person must look.
func fenceFailed(st v1.SagaStatus, lastError string) v1.SagaStatus {
	return with(st, setComp(v1.StepCreateOrder, &v1.CallStatus{State: v1.CallFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0), LastError: lastError}),
		func(st *v1.SagaStatus) {
			st.Steps[0].State = v1.StepCompensating
			st.Phase, st.FinishedAt, st.CurrentStep, st.Attempts = v1.PhaseFailed, at(t0), v1.StepCreateOrder, 1
		})
}

func TestRecordWithAFence(t *testing.T) {
	p := fencedOrderPlan()
	fence := Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Compensate, 1, false)}
	// exhausted is a rollback after ProcessPayment gave up on transient failures: every
	// compensable step marked, whatever status shows of it.
	exhausted := with(status(v1.PhaseCompensating, compensated(ok(v1.StepCreateOrder), pendingCall()), compensated(ok(v1.StepReserveInventory), pendingCall()),
		compensated(failed(v1.StepProcessPayment, 3, "HTTP_503: Service Unavailable"), pendingCall()),
		compensated(v1.StepStatus{Name: v1.StepScheduleShipment, State: v1.StepSkipped}, pendingCall()),
		v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepSkipped}, v1.StepStatus{Name: v1.StepSendNotification, State: v1.StepSkipped}),
		orderID("ord-1"), func(st *v1.SagaStatus) {
			st.Failure = &v1.FailureStatus{Step: v1.StepProcessPayment, Reason: v1.ReasonRetriesExhausted, Message: "ProcessPayment failed 3 times"}
		})
	cases := map[string]recordCase{
		"RefusedFenceTurnsForward": {
			reason: "The fence's refusal says the pivot ran: the saga goes Running with no compensation record and no failure, the pivot under way, the steps before it that did not succeed running again, and the skipped steps after it pending.",
			plan:   p,
			before: exhausted,
			d:      fence,
			out:    fenceRefusal,
			want: with(status(v1.PhaseRunning, ok(v1.StepCreateOrder), ok(v1.StepReserveInventory),
				v1.StepStatus{Name: v1.StepProcessPayment, State: v1.StepRunning, Attempts: 3, StartedAt: at(t0.Add(-time.Minute)), LastError: "HTTP_503: Service Unavailable"},
				v1.StepStatus{Name: v1.StepScheduleShipment, State: v1.StepRunning},
				v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepRunning}),
				orderID("ord-1"), current(v1.StepConfirmOrder), func(st *v1.SagaStatus) {
					st.Conditions = succeededCond(metav1.ConditionUnknown, v1.ReasonProgressing, st.Message)
				}),
			opts: []cmp.Option{ignoreMessages, ignoreCondMsg},
		},
		"OtherRefusalOfTheFenceFailsTheSaga": {
			reason: "Only the plan's codes mean the pivot ran; any other refusal of the fence is a refused compensation, and a person must look.",
			plan:   p,
			before: exhausted,
			d:      fence,
			out:    Outcome{Kind: BusinessFailure, Code: "HTTP_400", Message: "bad request"},
			want:   fenceFailed(exhausted, "HTTP_400: bad request"),
			opts:   []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"UnfencedPlanTreatsTheCodeAsARefusal": {
			reason: "Without a fence, ORDER_CONFIRMED is a refused compensation like any other: the engine does not know the code.",
			plan:   orderPlan(),
			before: exhausted,
			d:      fence,
			out:    fenceRefusal,
			want:   fenceFailed(exhausted, fenceRefusal.Failure()),
			opts:   []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"BusinessFailureBeforeThePivotMarksTheFence": {
			reason: "A rollback that would undo only what ran still marks the fence: here CreateOrder was refused, and its cancel leaves a tombstone that a late create cannot pass.",
			plan:   p,
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "UNKNOWN_PRODUCT", Message: "no such product"},
			want: with(status(v1.PhaseCompensating,
				compensated(v1.StepStatus{Name: v1.StepCreateOrder, State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0), LastError: "UNKNOWN_PRODUCT: no such product"}, pendingCall()),
				v1.StepStatus{Name: v1.StepReserveInventory, State: v1.StepSkipped}, v1.StepStatus{Name: v1.StepProcessPayment, State: v1.StepSkipped},
				v1.StepStatus{Name: v1.StepScheduleShipment, State: v1.StepSkipped}, v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepSkipped},
				v1.StepStatus{Name: v1.StepSendNotification, State: v1.StepSkipped}),
				current(v1.StepCreateOrder), attempts(1), func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: v1.StepCreateOrder, Reason: v1.ReasonProductUnavailable, Message: "CreateOrder failed: UNKNOWN_PRODUCT: no such product"}
				}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
	}
	runRecordCases(t, cases)
}

// A deleted saga whose batch crossed the pivot and lost its write (simulator seed 7)
// ends Completed and released, with the pivot's effect kept and nothing undone: the
// rollback's fence is refused and the saga goes forward.
func TestDeletionAfterALostPivotGoesForward(t *testing.T) {
	p := fencedOrderPlan()
	v := view(withPlan(p), deleting(), withStatus(status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...)))
	var calls []string
	for range 20 {
		d := Next(v, t0)
		if d.Kind == KindRelease {
			if v.Status.Phase != v1.PhaseCompleted {
				t.Fatalf("released in phase %s, want Completed; calls %v", v.Status.Phase, calls)
			}
			for _, s := range v.Status.Steps {
				if s.Compensation != nil {
					t.Errorf("step %s has a compensation record %+v; calls %v", s.Name, s.Compensation, calls)
				}
			}
			return
		}
		if d.Kind == KindCall {
			calls = append(calls, string(d.Call.Step)+"/"+string(d.Call.Direction))
			if d.Call.Direction == Compensate && d.Call.Step != v1.StepCreateOrder {
				t.Fatalf("compensation of %s before the fence answered; calls %v", d.Call.Step, calls)
			}
		}
		// A checkpoint is stored, then made by the next reconcile: here, the next turn.
		Record(p, &v.Status, d, answerOfAConfirmedOrder(d), t0)
	}
	t.Fatalf("did not end; calls %v, status %+v", calls, v.Status)
}

// answerOfAConfirmedOrder answers a call of d as the services do once the order was
// confirmed: every action replays its success, and the order's cancel is refused.
func answerOfAConfirmedOrder(d Decision) Outcome {
	if d.Kind != KindCall {
		return Outcome{}
	}
	if d.Call.Direction == Compensate {
		return fenceRefusal
	}
	return Outcome{Kind: Succeeded}
}

func TestPlanValidateFence(t *testing.T) {
	cases := map[string]struct {
		change func(*Plan)
		want   string
	}{
		"NoPivot": {func(p *Plan) {
			for i := range p.Steps {
				p.Steps[i].Pivot = false
			}
		}, "plan: fence: the plan has no pivot to fence"},
		"NotCompensable": {func(p *Plan) { p.Fence.Step = v1.StepSendNotification }, `plan: fence: step "SendNotification" is not a compensable step of the plan`},
		"UnknownStep":    {func(p *Plan) { p.Fence.Step = "Nope" }, `plan: fence: step "Nope" is not a compensable step of the plan`},
		"NoCode":         {func(p *Plan) { p.Fence.PivotRan = nil }, "plan: fence: no code says that the pivot ran"},
	}
	if err := fencedOrderPlan().Validate(); err != nil {
		t.Fatalf("the fenced order plan: %v", err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := fencedOrderPlan()
			tc.change(p)
			err := p.Validate()
			if err == nil || err.Error() != tc.want {
				t.Errorf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// An abandoned saga whose fence never succeeded says that its pivot may have run: the
// steps it lists as left undone must then stay as they are, and a person undoing them by
// hand must look first. A fence that succeeded adds nothing.
func TestAbandonWarnsWhenTheFenceNeverAnswered(t *testing.T) {
	p := fencedOrderPlan()
	fenceGaveUp := with(rollingBack(v1.StepScheduleShipment, setComp(v1.StepCreateOrder, failedCall(6))), func(st *v1.SagaStatus) {
		st.Phase, st.FinishedAt = v1.PhaseFailed, at(t0.Add(-time.Minute))
	})
	for name, tc := range map[string]struct {
		st   v1.SagaStatus
		warn bool
	}{
		"FenceGaveUp":    {fenceGaveUp, true},
		"FenceSucceeded": {failedAtPayment(), false},
	} {
		t.Run(name, func(t *testing.T) {
			v := view(withPlan(p), deleting(), withAbandon("yes"), withStatus(tc.st))
			st := *tc.st.DeepCopy()
			Record(p, &st, Next(v, t0), Outcome{}, t0)
			if st.Abandoned == nil {
				t.Fatalf("not abandoned: %s", st.Message)
			}
			if warned := strings.Contains(st.Message, "if ConfirmOrder ran, nothing here may be undone"); warned != tc.warn {
				t.Errorf("message %q: warns that the pivot may have run: %t, want %t", st.Message, warned, tc.warn)
			}
		})
	}
}
