package saga

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// The engine's tables on a second plan, of another shape than the order saga's, so that
// what the engine does follows from the plan's data and from nothing it knows of orders.

// The steps of the ticket plan.
const (
	stepCheckEligibility v1.StepName = "CheckEligibility"
	stepReserveSeat      v1.StepName = "ReserveSeat"
	stepAwardPoints      v1.StepName = "AwardPoints"
	stepChargeCard       v1.StepName = "ChargeCard"
	stepIssueTicket      v1.StepName = "IssueTicket"
	stepEmailTicket      v1.StepName = "EmailTicket"
)

// reasonSoldOut is the reason the ticket plan gives its seat service's SOLD_OUT.
const reasonSoldOut = "SoldOut"

// The ticket plan's steps each have their own policy, so that a case shows which one the
// engine followed.
var (
	slowPolicy = Policy{MaxAttempts: 4, InitialBackoff: 2 * time.Second, MaxBackoff: 16 * time.Second}
	fastPolicy = Policy{MaxAttempts: 2, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	oncePolicy = Policy{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Second}
)

// ticketPlan sells a ticket:
//   - CheckEligibility, a validation call with nothing to undo (not compensable);
//   - ReserveSeat, compensable, slowPolicy;
//   - AwardPoints, compensable but forward-only (oncePolicy): a customer who gets no
//     points still gets the ticket;
//   - ChargeCard, compensable, fastPolicy;
//   - IssueTicket, the pivot;
//   - EmailTicket, after the pivot and not forward-only (fastPolicy): retried until it
//     answers, and a refusal completes the sale with ForwardStepFailed.
//
// It has no after-rollback call, its own reason for SOLD_OUT, and no completion message.
func ticketPlan() *Plan {
	return &Plan{
		Steps: []Step{
			{Name: stepCheckEligibility, Policy: testPolicy},
			{Name: stepReserveSeat, Compensable: true, ResourceOutput: "seatId", Policy: slowPolicy},
			{Name: stepAwardPoints, Compensable: true, ForwardOnly: true, ResourceOutput: "pointsId", Policy: oncePolicy},
			{Name: stepChargeCard, Compensable: true, ResourceOutput: "chargeId", Policy: fastPolicy},
			{Name: stepIssueTicket, Pivot: true, Policy: testPolicy},
			{Name: stepEmailTicket, Policy: fastPolicy},
		},
		Reasons: map[string]string{"SOLD_OUT": reasonSoldOut},
	}
}

// ticketPlanWithoutPivot is the ticket plan with IssueTicket an ordinary step: nothing
// stops a rollback, and EmailTicket's failures roll back like any other step's.
func ticketPlanWithoutPivot() *Plan {
	p := ticketPlan()
	p.Steps[4].Pivot = false
	return p
}

// ticketView returns the view of a ticket sale that has not started, changed by opts.
func ticketView(opts ...viewOption) View {
	return view(append([]viewOption{withPlan(ticketPlan())}, opts...)...)
}

// noPivotView returns the view of a ticket sale without a pivot, changed by opts.
func noPivotView(opts ...viewOption) View {
	return view(append([]viewOption{withPlan(ticketPlanWithoutPivot())}, opts...)...)
}

// ticketStatus returns a ticket sale's status in phase, Pending steps unless overridden.
func ticketStatus(phase v1.Phase, steps ...v1.StepStatus) v1.SagaStatus {
	return statusOn(ticketPlan(), phase, steps...)
}

// ticketOKUpTo returns every step of the ticket plan before stop, succeeded.
func ticketOKUpTo(stop v1.StepName) []v1.StepStatus { return okUpToOn(ticketPlan(), stop) }

// ticketRollingBack is a ticket sale whose ChargeCard was refused: the compensable steps
// that ran have a Pending compensation, CheckEligibility has none, the rest were skipped.
func ticketRollingBack(opts ...statusOption) v1.SagaStatus {
	st := ticketStatus(v1.PhaseCompensating,
		ok(stepCheckEligibility),
		compensated(ok(stepReserveSeat), pendingCall()),
		compensated(ok(stepAwardPoints), pendingCall()),
		compensated(failed(stepChargeCard, 1, "CARD_DECLINED: insufficient funds"), pendingCall()),
		v1.StepStatus{Name: stepIssueTicket, State: v1.StepSkipped},
		v1.StepStatus{Name: stepEmailTicket, State: v1.StepSkipped})
	return with(st, append([]statusOption{output(stepReserveSeat, "seatId", "seat-7")}, opts...)...)
}

func TestNextTicketPlan(t *testing.T) {
	type testCase struct {
		reason string
		view   View
		want   Decision
	}
	deleted := Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"}
	everyStepRan := append(ticketOKUpTo(stepEmailTicket), ok(stepEmailTicket))
	cases := map[string]testCase{
		"NewSaleStarts": {
			reason: "A ticket sale with no status starts like any saga.",
			view:   ticketView(),
			want:   Decision{Kind: KindStart},
		},
		"ValidationRetriedByItsPolicy": {
			reason: "CheckEligibility has testPolicy: its third attempt is Final.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, retrying(stepCheckEligibility, 2, t0.Add(-time.Second))))),
			want:   Decision{Kind: KindCall, Call: callFor(testPolicy, stepCheckEligibility, Action, 3, true)},
		},
		"SeatGetsItsOwnAttempts": {
			reason: "ReserveSeat has slowPolicy (4 attempts): its third attempt is not Final, and it backs off by slowPolicy.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), retrying(stepReserveSeat, 2, t0.Add(-time.Second))))),
			want:   Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Action, 3, false)},
		},
		"SeatLastAttemptIsFinal": {
			reason: "ReserveSeat's fourth attempt is its last.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), retrying(stepReserveSeat, 3, t0.Add(-time.Second))))),
			want:   Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Action, 4, true)},
		},
		"ChargeLastAttemptIsFinalAtTwo": {
			reason: "ChargeCard has fastPolicy (2 attempts): its second attempt is Final.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning,
				append(ticketOKUpTo(stepChargeCard), retrying(stepChargeCard, 1, t0.Add(-time.Second)))...))),
			want: Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Action, 2, true)},
		},
		"StepInBackoffWaitsItsOwnBackoff": {
			reason: "A step waits until its own nextAttemptAt, whatever the other steps' policies.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning,
				append(ticketOKUpTo(stepChargeCard), retrying(stepChargeCard, 1, t0.Add(80*time.Millisecond)))...))),
			want: Decision{Kind: KindWait, Wait: 80 * time.Millisecond, Reason: v1.ReasonStepBackoff},
		},
		"FailedForwardOnlyStepBeforePivotGoesOn": {
			reason: "AwardPoints failed, but it is forward-only: the saga goes on to ChargeCard instead of rolling back.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), ok(stepReserveSeat),
				failed(stepAwardPoints, 1, "POINTS_CLOSED: the programme is closed")))),
			want: Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Action, 1, false)},
		},
		"StepAfterPivotIsNeverFinal": {
			reason: "EmailTicket comes after the pivot and is not forward-only: it is retried far past its 2 attempts.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepEmailTicket), intent(stepEmailTicket, 41))...))),
			want:   Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 42, false)},
		},
		"StepAfterPivotAtMaxAttemptsIsNotFinal": {
			reason: "EmailTicket's attempt maxAttempts is not Final either; it backs off by its own policy.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning,
				append(ticketOKUpTo(stepEmailTicket), retrying(stepEmailTicket, 1, t0.Add(-time.Second)))...))),
			want: Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 2, false)},
		},
		"RefusedStepAfterPivotFinishesCompleted": {
			reason: "EmailTicket was refused: the ticket stands; the sale completes with ForwardStepFailed and the default message.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepEmailTicket),
				failed(stepEmailTicket, 3, "MAILBOX_UNKNOWN: no such mailbox"))...))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: ReasonForwardStepFailed,
				Message: "completed; EmailTicket failed: MAILBOX_UNKNOWN: no such mailbox"},
		},
		"FailedForwardOnlyStepFinishesCompleted": {
			reason: "Every other step succeeded after AwardPoints failed: Completed, with AwardPoints's failure.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), ok(stepReserveSeat),
				failed(stepAwardPoints, 1, "HTTP_503: Service Unavailable"), ok(stepChargeCard), ok(stepIssueTicket), ok(stepEmailTicket)))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: ReasonForwardStepFailed,
				Message: "completed; AwardPoints failed: HTTP_503: Service Unavailable"},
		},
		"FirstForwardFailureExplainsTheCompletion": {
			reason: "AwardPoints and EmailTicket both failed: the first in plan order explains the completion.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), ok(stepReserveSeat),
				failed(stepAwardPoints, 1, "POINTS_CLOSED"), ok(stepChargeCard), ok(stepIssueTicket), failed(stepEmailTicket, 1, "MAILBOX_UNKNOWN")))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: ReasonForwardStepFailed,
				Message: "completed; AwardPoints failed: POINTS_CLOSED"},
		},
		"AllSucceededFinishesWithTheDefaultMessage": {
			reason: "A plan without a completion message completes with the engine's.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, everyStepRan...))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted, Message: "every step succeeded"},
		},

		// Rolling back.
		"RollbackStartsWithTheLatestCompensableStep": {
			reason: "ChargeCard is undone first, with its own policy's backoff.",
			view:   ticketView(withStatus(ticketRollingBack())),
			want:   Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Compensate, 1, false)},
		},
		"ForwardOnlyStepThatRanIsUndone": {
			reason: "AwardPoints is forward-only but compensable: once it ran, a rollback revokes the points.",
			view:   ticketView(withStatus(ticketRollingBack(setComp(stepChargeCard, doneCall())))),
			want:   Decision{Kind: KindCall, Call: callFor(oncePolicy, stepAwardPoints, Compensate, 1, false)},
		},
		"CompensationFinalAtTwiceItsStepsAttempts": {
			reason: "ReserveSeat's undo gets 2×4 attempts (slowPolicy), not 2× another step's.",
			view: ticketView(withStatus(ticketRollingBack(setComp(stepChargeCard, doneCall()), setComp(stepAwardPoints, doneCall()),
				setComp(stepReserveSeat, runningCall(7, t0.Add(-time.Second)))))),
			want: Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Compensate, 8, true)},
		},
		"FastCompensationFinalAtFour": {
			reason: "ChargeCard's undo gets 2×2 attempts (fastPolicy).",
			view:   ticketView(withStatus(ticketRollingBack(setComp(stepChargeCard, runningCall(3, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Compensate, 4, true)},
		},
		"NonCompensableStepIsNotUndone": {
			reason: "Once the three compensable steps are undone, CheckEligibility (no compensation) is skipped, and with no " +
				"after-rollback call the sale finishes Compensated at once.",
			view: ticketView(withStatus(ticketRollingBack(setComp(stepChargeCard, doneCall()), setComp(stepAwardPoints, doneCall()),
				setComp(stepReserveSeat, doneCall())))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},
		"FirstCompensationWaitsUntilTheRollbackIsStored": {
			reason: "As on every plan, nothing is undone before the rollback is stored.",
			view:   ticketView(withStatus(ticketRollingBack()), withStored(ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepChargeCard)...))),
			want:   Decision{Kind: KindCheckpoint, Call: callFor(fastPolicy, stepChargeCard, Compensate, 1, false)},
		},

		// Deletion, with and without a pivot.
		"DeletionBeforePivotRollsBack": {
			reason: "Deleted before IssueTicket was attempted: the sale rolls back.",
			view:   ticketView(deleting(), withStatus(ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepIssueTicket)...))),
			want:   deleted,
		},
		"DeletionAfterPivotGoesForward": {
			reason: "Deleted after IssueTicket succeeded: EmailTicket is still sent, nothing is undone.",
			view:   ticketView(deleting(), withStatus(ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepEmailTicket)...))),
			want:   Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 1, false)},
		},
		"DeletionDuringPivotRetryGoesForward": {
			reason: "IssueTicket was attempted and may have issued the ticket: the pivot is retried, not undone.",
			view: ticketView(deleting(), withStatus(ticketStatus(v1.PhaseRunning,
				append(ticketOKUpTo(stepIssueTicket), retrying(stepIssueTicket, 1, t0.Add(-time.Second)))...))),
			want: Decision{Kind: KindCall, Call: callFor(testPolicy, stepIssueTicket, Action, 2, false)},
		},
		"PivotWaitsUntilItsIntentIsStored": {
			reason: "The ticket plan's pivot is checkpointed like the order plan's.",
			view: ticketView(withStatus(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepIssueTicket), intent(stepIssueTicket, 0))...)),
				withStored(ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepIssueTicket)...))),
			want: Decision{Kind: KindCheckpoint, Call: callFor(testPolicy, stepIssueTicket, Action, 1, false)},
		},
		"WithoutPivotDeletionAfterEveryStepRollsBack": {
			reason: "Without a pivot a deletion always rolls back, even when every step succeeded and the sale is not yet finished.",
			view:   noPivotView(deleting(), withStatus(statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning, everyStepRan...))),
			want:   deleted,
		},
		"WithoutPivotDeletionDuringRetryRollsBack": {
			reason: "Without a pivot, a step being retried does not keep a deletion from rolling back.",
			view: noPivotView(deleting(), withStatus(statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning,
				append(ticketOKUpTo(stepIssueTicket), retrying(stepIssueTicket, 1, t0.Add(-time.Second)))...))),
			want: deleted,
		},
		"WithoutPivotLastStepIsFinal": {
			reason: "Without a pivot, EmailTicket has its 2 attempts like any step: the second is Final.",
			view: noPivotView(withStatus(statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning,
				append(ticketOKUpTo(stepEmailTicket), retrying(stepEmailTicket, 1, t0.Add(-time.Second)))...))),
			want: Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 2, true)},
		},
		"WithoutPivotFailedStepRollsBack": {
			reason: "Without a pivot, a failed EmailTicket (not forward-only) seen by Next rolls the sale back.",
			view: noPivotView(withStatus(statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning,
				append(ticketOKUpTo(stepEmailTicket), failed(stepEmailTicket, 1, "MAILBOX_UNKNOWN"))...))),
			want: Decision{Kind: KindRollback, Reason: v1.ReasonStepRejected, Message: "EmailTicket failed: MAILBOX_UNKNOWN"},
		},
	}

	// The first call of each step, with the step's own policy; the pivot's is a checkpoint
	// on the plan that has one, and a plain call on the plan that has none.
	for _, s := range ticketPlan().Steps {
		kind := KindCall
		if s.Pivot {
			kind = KindCheckpoint
		}
		cases[fmt.Sprintf("FirstCallOf%s", s.Name)] = testCase{
			reason: "The first step that has not succeeded is called with attempt 1, its own policy's backoff, and Final only with 1 attempt.",
			view:   ticketView(withStatus(ticketStatus(v1.PhaseRunning, ticketOKUpTo(s.Name)...))),
			want:   Decision{Kind: kind, Call: callFor(s.Policy, s.Name, Action, 1, s.Policy.MaxAttempts == 1)},
		}
		cases[fmt.Sprintf("WithoutPivotFirstCallOf%s", s.Name)] = testCase{
			reason: "Without a pivot no call is checkpointed.",
			view:   noPivotView(withStatus(statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning, ticketOKUpTo(s.Name)...))),
			want:   Decision{Kind: KindCall, Call: callFor(s.Policy, s.Name, Action, 1, s.Policy.MaxAttempts == 1)},
		}
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Next(tc.view, t0)); diff != "" {
				t.Errorf("\nReason: %s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
