package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestScenariosTicketPlan drives whole ticket sales, as TestScenarios drives orders.
func TestScenariosTicketPlan(t *testing.T) {
	cases := map[string]struct {
		reason      string
		view        View
		script      script
		wantCalls   []made
		want        ending
		wantMessage string
	}{
		"HappyPath": {
			reason:      "Every step succeeds: the six actions once each, in plan order, and the engine's completion message.",
			view:        ticketView(),
			wantCalls:   forwardOn(ticketPlan(), stepEmailTicket),
			want:        ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
			wantMessage: "every step succeeded",
		},
		"SoldOutUndoesOnlyTheSeat": {
			reason: "ReserveSeat refused with SOLD_OUT: the seat is undone, the validation is not, there is no after-rollback " +
				"call, and the reason is the plan's.",
			view:      ticketView(),
			script:    script{outcomes: map[callKey]Outcome{{stepReserveSeat, Action, 1}: {Kind: BusinessFailure, Code: "SOLD_OUT"}}},
			wantCalls: concat(forwardOn(ticketPlan(), stepReserveSeat), undoOn(ticketPlan(), stepReserveSeat)),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/" + reasonSoldOut, Failure: reasonSoldOut},
		},
		"DeclinedCardUndoesInReverseSkippingTheValidation": {
			reason:    "ChargeCard refused: ChargeCard, AwardPoints and ReserveSeat are undone in reverse; CheckEligibility is not.",
			view:      ticketView(),
			script:    script{outcomes: map[callKey]Outcome{{stepChargeCard, Action, 1}: {Kind: BusinessFailure, Code: "CARD_DECLINED"}}},
			wantCalls: concat(forwardOn(ticketPlan(), stepChargeCard), []made{{stepChargeCard, Compensate, 1}, {stepAwardPoints, Compensate, 1}, {stepReserveSeat, Compensate, 1}}),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/StepRejected", Failure: v1.ReasonStepRejected},
		},
		"RefusedPointsDoNotStopTheSale": {
			reason:      "AwardPoints refused: the sale goes on through every step and completes with ForwardStepFailed.",
			view:        ticketView(),
			script:      script{outcomes: map[callKey]Outcome{{stepAwardPoints, Action, 1}: {Kind: BusinessFailure, Code: "POINTS_CLOSED", Message: "closed"}}},
			wantCalls:   forwardOn(ticketPlan(), stepEmailTicket),
			want:        ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/" + ReasonForwardStepFailed},
			wantMessage: "completed; AwardPoints failed: POINTS_CLOSED: closed",
		},
		"PointsTimeoutIsNotRetried": {
			reason:    "AwardPoints has one attempt: its timeout is not retried, and the sale still completes.",
			view:      ticketView(),
			script:    script{outcomes: transientAt(stepAwardPoints, Action, 1)},
			wantCalls: forwardOn(ticketPlan(), stepEmailTicket),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/" + ReasonForwardStepFailed},
		},
		"EmailRetriedPastItsAttempts": {
			reason: "EmailTicket (2 attempts) fails transiently 5 times after the pivot: it is retried until it answers.",
			view:   ticketView(),
			script: script{outcomes: transientAt(stepEmailTicket, Action, 1, 2, 3, 4, 5)},
			wantCalls: concat(forwardOn(ticketPlan(), stepEmailTicket), []made{{stepEmailTicket, Action, 2}, {stepEmailTicket, Action, 3},
				{stepEmailTicket, Action, 4}, {stepEmailTicket, Action, 5}, {stepEmailTicket, Action, 6}}),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"RefusedEmailCompletes": {
			reason:      "EmailTicket refused after the pivot: nothing is undone; the sale completes with ForwardStepFailed.",
			view:        ticketView(),
			script:      script{outcomes: map[callKey]Outcome{{stepEmailTicket, Action, 1}: {Kind: BusinessFailure, Code: "MAILBOX_UNKNOWN"}}},
			wantCalls:   forwardOn(ticketPlan(), stepEmailTicket),
			want:        ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/" + ReasonForwardStepFailed},
			wantMessage: "completed; EmailTicket failed: MAILBOX_UNKNOWN",
		},
		"ChargeGivesUpAfterItsOwnAttempts": {
			reason: "ChargeCard (2 attempts) times out twice: it gives up while ReserveSeat would have had 4, and every " +
				"compensable step is undone.",
			view:      ticketView(),
			script:    script{outcomes: transientAt(stepChargeCard, Action, 1, 2)},
			wantCalls: concat(forwardOn(ticketPlan(), stepChargeCard), []made{{stepChargeCard, Action, 2}}, undoOn(ticketPlan(), stepChargeCard)),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/RetriesExhausted", Failure: v1.ReasonRetriesExhausted},
		},
		"CompensationGivesUpAfterTwiceItsStepsAttempts": {
			reason: "ChargeCard's undo (2×2 attempts) times out four times: the sale is Failed before ReserveSeat is undone.",
			view:   ticketView(),
			script: script{outcomes: mergeOutcomes(
				map[callKey]Outcome{{stepChargeCard, Action, 1}: {Kind: BusinessFailure, Code: "CARD_DECLINED"}},
				transientAt(stepChargeCard, Compensate, 1, 2, 3, 4))},
			wantCalls: concat(forwardOn(ticketPlan(), stepChargeCard), []made{{stepChargeCard, Compensate, 1}, {stepChargeCard, Compensate, 2},
				{stepChargeCard, Compensate, 3}, {stepChargeCard, Compensate, 4}}),
			want: ending{Kind: KindDone, Phase: v1.PhaseFailed, Succeeded: "False/CompensationExhausted", Failure: v1.ReasonStepRejected},
		},
		"DeletedMidFlightUndoesEveryCompensableStep": {
			reason:    "Deleted after two calls: the three compensable steps are undone in reverse, and the finalizer released.",
			view:      ticketView(),
			script:    script{deleteAfterCalls: 2},
			wantCalls: concat(forwardOn(ticketPlan(), stepReserveSeat), undoOn(ticketPlan(), stepEmailTicket)),
			want:      ending{Kind: KindRelease, Phase: v1.PhaseCompensated, Succeeded: "False/Deleted", Failure: v1.ReasonDeleted},
		},
		"DeletedAfterPivotCompletes": {
			reason:    "Deleted after IssueTicket: the sale completes forward, then releases.",
			view:      ticketView(),
			script:    script{deleteAfterCalls: 5},
			wantCalls: forwardOn(ticketPlan(), stepEmailTicket),
			want:      ending{Kind: KindRelease, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"WithoutPivotDeletedAfterEveryStepRollsBack": {
			reason: "Without a pivot, a deletion after the last call, before the sale finished, undoes every compensable step.",
			view:   noPivotView(),
			script: script{deleteAfterCalls: 6},
			wantCalls: concat(forwardOn(ticketPlanWithoutPivot(), stepEmailTicket),
				undoOn(ticketPlanWithoutPivot(), stepEmailTicket)),
			want: ending{Kind: KindRelease, Phase: v1.PhaseCompensated, Succeeded: "False/Deleted", Failure: v1.ReasonDeleted},
		},
		"WithoutPivotRefusedEmailRollsBack": {
			reason:    "Without a pivot, EmailTicket's refusal rolls the sale back.",
			view:      noPivotView(),
			script:    script{outcomes: map[callKey]Outcome{{stepEmailTicket, Action, 1}: {Kind: BusinessFailure, Code: "MAILBOX_UNKNOWN"}}},
			wantCalls: concat(forwardOn(ticketPlanWithoutPivot(), stepEmailTicket), undoOn(ticketPlanWithoutPivot(), stepEmailTicket)),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/StepRejected", Failure: v1.ReasonStepRejected},
		},
		"WithoutPivotEmailRetriesAreBounded": {
			reason: "Without a pivot, EmailTicket gives up after its 2 attempts and the sale rolls back.",
			view:   noPivotView(),
			script: script{outcomes: transientAt(stepEmailTicket, Action, 1, 2)},
			wantCalls: concat(forwardOn(ticketPlanWithoutPivot(), stepEmailTicket), []made{{stepEmailTicket, Action, 2}},
				undoOn(ticketPlanWithoutPivot(), stepEmailTicket)),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/RetriesExhausted", Failure: v1.ReasonRetriesExhausted},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := run(tc.view, tc.script)
			if !r.ended {
				t.Fatalf("\nReason: %s\nthe run did not end within %d iterations; calls: %v", tc.reason, maxIterations, r.calls)
			}
			for _, e := range r.errs {
				t.Errorf("\nReason: %s\n%s", tc.reason, e)
			}
			if diff := cmp.Diff(tc.wantCalls, r.calls); diff != "" {
				t.Errorf("\nReason: %s\ncalls: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, endingOf(r)); diff != "" {
				t.Errorf("\nReason: %s\nending: -want, +got:\n%s", tc.reason, diff)
			}
			if tc.wantMessage != "" && r.view.Status.Message != tc.wantMessage {
				t.Errorf("\nReason: %s\nstatus.message = %q, want %q", tc.reason, r.view.Status.Message, tc.wantMessage)
			}
		})
	}
}

// TestScenarioBackoffFollowsEachStepsPolicy checks that each step waits by its own policy:
// ReserveSeat's retries by slowPolicy, then ChargeCard's by fastPolicy.
func TestScenarioBackoffFollowsEachStepsPolicy(t *testing.T) {
	r := run(ticketView(), script{outcomes: mergeOutcomes(transientAt(stepReserveSeat, Action, 1, 2, 3), transientAt(stepChargeCard, Action, 1))})
	var want []time.Duration
	for attempt := int32(1); attempt <= 3; attempt++ {
		want = append(want, callFor(slowPolicy, stepReserveSeat, Action, attempt, false).RetryAfter-callDuration)
	}
	want = append(want, callFor(fastPolicy, stepChargeCard, Action, 1, false).RetryAfter-callDuration)
	if diff := cmp.Diff(want, r.waits); diff != "" {
		t.Errorf("waits: -want, +got:\n%s", diff)
	}
	if got := r.view.Status.Phase; got != v1.PhaseCompleted {
		t.Errorf("phase = %s, want Completed: ReserveSeat's 4th attempt and ChargeCard's 2nd succeed", got)
	}
}
