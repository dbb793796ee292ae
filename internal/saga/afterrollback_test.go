package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// sorryEmail names the after-rollback call of the ticket plan variants below.
const sorryEmail v1.StepName = "SorryEmail"

// ticketPlanWithApology is the ticket plan with an after-rollback call paced by oncePolicy
// (so 2 attempts), required output req (none when empty).
func ticketPlanWithApology(req OutputRef) *Plan {
	p := ticketPlan()
	p.AfterRollback = &AfterRollback{Name: sorryEmail, RequiresOutput: req, Policy: oncePolicy}
	return p
}

// refusedAtEligibility is a sale rolled back because CheckEligibility refused: nothing
// compensable ran, so there is nothing to undo.
func refusedAtEligibility() v1.SagaStatus {
	return with(ticketStatus(v1.PhaseCompensating, failed(stepCheckEligibility, 1, "NOT_ELIGIBLE"),
		v1.StepStatus{Name: stepReserveSeat, State: v1.StepSkipped}, v1.StepStatus{Name: stepAwardPoints, State: v1.StepSkipped},
		v1.StepStatus{Name: stepChargeCard, State: v1.StepSkipped}, v1.StepStatus{Name: stepIssueTicket, State: v1.StepSkipped},
		v1.StepStatus{Name: stepEmailTicket, State: v1.StepSkipped}), current(stepCheckEligibility))
}

// TestNextAfterRollback checks the after-rollback call on a plan other than the order
// saga's: it is made once every compensation is done, only when the output it requires
// exists (always, when it requires none), with its own policy's patience.
func TestNextAfterRollback(t *testing.T) {
	seat := OutputRef{Step: stepReserveSeat, Key: "seatId"}
	undone := ticketRollingBack(setComp(stepChargeCard, doneCall()), setComp(stepAwardPoints, doneCall()), setComp(stepReserveSeat, doneCall()))
	cases := map[string]struct {
		reason string
		view   View
		want   Decision
	}{
		"RequiringNothingIsAlwaysMade": {
			reason: "An after-rollback call that requires no output is made even when nothing was undone.",
			view:   view(withPlan(ticketPlanWithApology(OutputRef{})), withStatus(refusedAtEligibility())),
			want:   Decision{Kind: KindCall, Call: callFor(oncePolicy, sorryEmail, Action, 1, false)},
		},
		"RequiredOutputPresent": {
			reason: "The seat was reserved (seatId kept): after the undos, the call is made.",
			view:   view(withPlan(ticketPlanWithApology(seat)), withStatus(undone)),
			want:   Decision{Kind: KindCall, Call: callFor(oncePolicy, sorryEmail, Action, 1, false)},
		},
		"RequiredOutputMissing": {
			reason: "No seatId was ever kept: no call, the sale finishes Compensated.",
			view:   view(withPlan(ticketPlanWithApology(seat)), withStatus(with(undone, output(stepReserveSeat, "seatId", "")))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},
		"NotBeforeTheUndos": {
			reason: "The call waits for every compensation.",
			view:   view(withPlan(ticketPlanWithApology(OutputRef{})), withStatus(ticketRollingBack())),
			want:   Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Compensate, 1, false)},
		},
		"FinalAtTwiceItsOwnAttempts": {
			reason: "With oncePolicy (1 attempt) the call gets 2, whatever the steps' policies.",
			view:   view(withPlan(ticketPlanWithApology(seat)), withStatus(with(undone, onRollback(runningCall(1, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(oncePolicy, sorryEmail, Action, 2, true)},
		},
		"GivenUpFinishesCompensated": {
			reason: "Best effort: a call that gave up does not keep the sale from Compensated.",
			view:   view(withPlan(ticketPlanWithApology(seat)), withStatus(with(undone, onRollback(failedCall(2))))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Next(tc.view, t0)); diff != "" {
				t.Errorf("\nReason: %s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestAfterRollbackCheckpointAddsNoStep checks the checkpoint of a rollback whose first
// call is the after-rollback call (nothing compensable ran): like a compensation's
// checkpoint, it stores the rollback and changes nothing else. The call is no step, so
// status.steps must not get an entry for it.
func TestAfterRollbackCheckpointAddsNoStep(t *testing.T) {
	p := ticketPlanWithApology(OutputRef{})
	v := view(withPlan(p), withStatus(refusedAtEligibility()),
		withStored(ticketStatus(v1.PhaseRunning, intent(stepCheckEligibility, 0))))
	d := Next(v, t0)
	if d.Kind != KindCheckpoint || d.Call == nil || d.Call.Step != sorryEmail {
		t.Fatalf("Next(rollback not stored, nothing to undo) = %+v, want a checkpoint of %s", d, sorryEmail)
	}
	st := *v.Status.DeepCopy()
	Record(p, &st, d, Outcome{}, t0)
	if problems := statusBoundViolations(p, st); len(problems) > 0 {
		t.Errorf("the checkpoint of the after-rollback call (Direction action) goes "+
			"to recordIntent, which adds a Running status.steps entry %q for a call that is no step, and sets currentStep "+
			"and attempts to it: %v; want it handled like a compensation's checkpoint (store the rollback, change no step)",
			sorryEmail, problems)
	}
}
