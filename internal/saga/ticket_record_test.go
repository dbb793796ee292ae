package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestRecordTicketPlan runs Record's table on the ticket plan: what a step's failure does
// follows from the step (compensable, forward-only, after the pivot) and the plan
// (reasons, after-rollback call), not from its name.
func TestRecordTicketPlan(t *testing.T) {
	p := ticketPlan()
	transient := Outcome{Kind: Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}
	declined := Outcome{Kind: BusinessFailure, Code: "CARD_DECLINED", Message: "insufficient funds"}
	cases := map[string]recordCase{
		"StartListsThePlansSteps": {
			reason: "Start lists the ticket plan's six steps, in its order, and starts at CheckEligibility.",
			plan:   p,
			d:      Decision{Kind: KindStart},
			want: v1.SagaStatus{Phase: v1.PhaseRunning, StartedAt: at(t0), CurrentStep: stepCheckEligibility,
				Message: "started", Steps: ticketStatus("").Steps,
				Conditions: succeededCond(metav1.ConditionUnknown, v1.ReasonProgressing, "the saga is running")},
		},
		"SuccessKeepsTheStepsOutputs": {
			reason: "ReserveSeat's outputs are kept on ReserveSeat, whatever their names.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility)),
			d:      Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Action, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: map[string]string{"seatId": "seat-7", "row": "K"}},
			want: with(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), v1.StepStatus{Name: stepReserveSeat, State: v1.StepSucceeded,
				Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0)}),
				output(stepReserveSeat, "seatId", "seat-7"), output(stepReserveSeat, "row", "K"), current(stepReserveSeat), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"RefusalLeavesTheValidationUncompensated": {
			reason: "ChargeCard refused: ReserveSeat, AwardPoints and ChargeCard get a compensation; CheckEligibility, which has " +
				"none, gets no record and stays Succeeded; an unlisted code gives StepRejected.",
			plan:   p,
			before: with(ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepChargeCard)...), output(stepReserveSeat, "seatId", "seat-7")),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Action, 1, false)},
			out:    declined,
			want: with(ticketRollingBack(), func(st *v1.SagaStatus) {
				st.Steps[3].StepStatus = compensated(v1.StepStatus{Name: stepChargeCard, State: v1.StepFailed, Attempts: 1,
					StartedAt: at(t0), FinishedAt: at(t0), LastError: "CARD_DECLINED: insufficient funds"}, pendingCall())
				st.CurrentStep, st.Attempts = stepChargeCard, 1
				st.Failure = &v1.FailureStatus{Step: stepChargeCard, Reason: v1.ReasonStepRejected,
					Message: "ChargeCard failed: CARD_DECLINED: insufficient funds"}
				st.Message = "rolling back: ChargeCard failed: CARD_DECLINED: insufficient funds"
				st.Conditions = succeededCond(metav1.ConditionUnknown, v1.ReasonCompensating, st.Message)
			}),
		},
		"RefusalGivesThePlansReason": {
			reason: "ReserveSeat's SOLD_OUT gives the plan's SoldOut; only ReserveSeat ran, so only it is undone.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility)),
			d:      Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "SOLD_OUT", Message: "no seat left"},
			want: with(ticketStatus(v1.PhaseCompensating, ok(stepCheckEligibility),
				compensated(v1.StepStatus{Name: stepReserveSeat, State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0),
					LastError: "SOLD_OUT: no seat left"}, pendingCall()),
				v1.StepStatus{Name: stepAwardPoints, State: v1.StepSkipped}, v1.StepStatus{Name: stepChargeCard, State: v1.StepSkipped},
				v1.StepStatus{Name: stepIssueTicket, State: v1.StepSkipped}, v1.StepStatus{Name: stepEmailTicket, State: v1.StepSkipped}),
				current(stepReserveSeat), attempts(1), func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: stepReserveSeat, Reason: reasonSoldOut, Message: "ReserveSeat failed: SOLD_OUT: no seat left"}
				}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"ExhaustedRetriesUndoEveryCompensableStep": {
			reason: "ReserveSeat gave up after its 4 attempts (slowPolicy): every compensable step is undone, also those with no " +
				"recorded attempt, and CheckEligibility still is not.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), retrying(stepReserveSeat, 3, t0)),
			d:      Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Action, 4, true)},
			out:    transient,
			want: with(ticketStatus(v1.PhaseCompensating, ok(stepCheckEligibility),
				compensated(v1.StepStatus{Name: stepReserveSeat, State: v1.StepFailed, Attempts: 4, StartedAt: at(t0.Add(-time.Minute)),
					FinishedAt: at(t0), LastError: "TIMEOUT: no answer within stepTimeout"}, pendingCall()),
				v1.StepStatus{Name: stepAwardPoints, State: v1.StepPending, Compensation: pendingCall()},
				v1.StepStatus{Name: stepChargeCard, State: v1.StepPending, Compensation: pendingCall()},
				v1.StepStatus{Name: stepIssueTicket, State: v1.StepSkipped}, v1.StepStatus{Name: stepEmailTicket, State: v1.StepSkipped}),
				current(stepReserveSeat), attempts(4), func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: stepReserveSeat, Reason: v1.ReasonRetriesExhausted,
						Message: "ReserveSeat failed 4 times: TIMEOUT: no answer within stepTimeout"}
				}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"ForwardOnlyRefusalDoesNotRollBack": {
			reason: "AwardPoints refused: it is Failed and the sale stays Running, with no failure recorded.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepAwardPoints)...),
			d:      Decision{Kind: KindCall, Call: callFor(oncePolicy, stepAwardPoints, Action, 1, true)},
			out:    Outcome{Kind: BusinessFailure, Code: "POINTS_CLOSED", Message: "the programme is closed"},
			want: with(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepAwardPoints), v1.StepStatus{Name: stepAwardPoints,
				State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0), LastError: "POINTS_CLOSED: the programme is closed"})...),
				current(stepAwardPoints), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"ForwardOnlyExhaustedDoesNotRollBack": {
			reason: "AwardPoints has one attempt: its transient failure gives up at once, and the sale still goes on.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepAwardPoints)...),
			d:      Decision{Kind: KindCall, Call: callFor(oncePolicy, stepAwardPoints, Action, 1, true)},
			out:    transient,
			want: with(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepAwardPoints), v1.StepStatus{Name: stepAwardPoints,
				State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0), LastError: "TIMEOUT: no answer within stepTimeout"})...),
				current(stepAwardPoints), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"StepAfterPivotBacksOffByItsPolicy": {
			reason: "EmailTicket's transient failure, past its 2 attempts, is retried after its own backoff.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepEmailTicket), retrying(stepEmailTicket, 4, t0))...),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 5, false)},
			out:    transient,
			want: with(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepEmailTicket), v1.StepStatus{Name: stepEmailTicket,
				State: v1.StepRunning, Attempts: 5, StartedAt: at(t0.Add(-time.Minute)), LastError: "TIMEOUT: no answer within stepTimeout",
				NextAttemptAt: at(t0.Add(callFor(fastPolicy, stepEmailTicket, Action, 5, false).RetryAfter))})...),
				current(stepEmailTicket), attempts(5)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"StepAfterPivotRefusalDoesNotRollBack": {
			reason: "EmailTicket refused after the pivot: Failed, and the sale stays Running to finish Completed.",
			plan:   p,
			before: ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepEmailTicket)...),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "MAILBOX_UNKNOWN", Message: "no such mailbox"},
			want: with(ticketStatus(v1.PhaseRunning, append(ticketOKUpTo(stepEmailTicket), v1.StepStatus{Name: stepEmailTicket,
				State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0), LastError: "MAILBOX_UNKNOWN: no such mailbox"})...),
				current(stepEmailTicket), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"DeletionRollbackLeavesTheValidationAlone": {
			reason: "A deletion undoes every compensable step, and gives CheckEligibility no compensation.",
			plan:   p,
			before: with(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), retrying(stepReserveSeat, 1, t0)), current(stepReserveSeat)),
			d:      Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
			want: with(ticketStatus(v1.PhaseCompensating, ok(stepCheckEligibility),
				compensated(retrying(stepReserveSeat, 1, t0), pendingCall()),
				v1.StepStatus{Name: stepAwardPoints, State: v1.StepPending, Compensation: pendingCall()},
				v1.StepStatus{Name: stepChargeCard, State: v1.StepPending, Compensation: pendingCall()},
				v1.StepStatus{Name: stepIssueTicket, State: v1.StepSkipped}, v1.StepStatus{Name: stepEmailTicket, State: v1.StepSkipped}),
				current(stepReserveSeat), func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: stepReserveSeat, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"}
				}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"CompensationBacksOffByItsStepsPolicy": {
			reason: "ChargeCard's undo, failing transiently, waits its own RetryAfter.",
			plan:   p,
			before: ticketRollingBack(),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepChargeCard, Compensate, 1, false)},
			out:    transient,
			want: with(ticketRollingBack(), current(stepChargeCard), attempts(1), func(st *v1.SagaStatus) {
				st.Steps[3].State = v1.StepCompensating
				st.Steps[3].Compensation = &v1.CallStatus{State: v1.CallRunning, Attempts: 1, StartedAt: at(t0),
					NextAttemptAt: at(t0.Add(callFor(fastPolicy, stepChargeCard, Compensate, 1, false).RetryAfter)),
					LastError:     "TIMEOUT: no answer within stepTimeout"}
			}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"CompensationKeepsTheOutputsOfWhatItUndid": {
			reason: "An undo that found the seat proves ReserveSeat ran: its seatId is kept even if the write that recorded it was lost.",
			plan:   p,
			before: ticketRollingBack(output(stepReserveSeat, "seatId", "")),
			d:      Decision{Kind: KindCall, Call: callFor(slowPolicy, stepReserveSeat, Compensate, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: map[string]string{"seatId": "seat-7"}},
			want: with(ticketRollingBack(setComp(stepReserveSeat, &v1.CallStatus{State: v1.CallSucceeded, Attempts: 1,
				StartedAt: at(t0), FinishedAt: at(t0)})), current(stepReserveSeat), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"FinishCompensatedWithoutAfterRollback": {
			reason: "A plan with no after-rollback call finishes Compensated with no onRollback record.",
			plan:   p,
			before: ticketRollingBack(setComp(stepChargeCard, doneCall()), setComp(stepAwardPoints, doneCall()), setComp(stepReserveSeat, doneCall()),
				func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: stepChargeCard, Reason: v1.ReasonStepRejected, Message: "ChargeCard failed: CARD_DECLINED"}
				}),
			d: Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
			want: ticketRollingBack(setComp(stepChargeCard, doneCall()), setComp(stepAwardPoints, doneCall()), setComp(stepReserveSeat, doneCall()),
				current(stepChargeCard), finishedAt(t0), func(st *v1.SagaStatus) {
					st.Phase = v1.PhaseCompensated
					st.Failure = &v1.FailureStatus{Step: stepChargeCard, Reason: v1.ReasonStepRejected, Message: "ChargeCard failed: CARD_DECLINED"}
					st.Message = "rolled back: ChargeCard failed: CARD_DECLINED"
					st.Conditions = succeededCond(metav1.ConditionFalse, v1.ReasonStepRejected, st.Message)
				}),
		},
		"WithoutPivotLastStepRefusalRollsBack": {
			reason: "Without a pivot, EmailTicket's refusal rolls back the compensable steps that ran.",
			plan:   ticketPlanWithoutPivot(),
			before: statusOn(ticketPlanWithoutPivot(), v1.PhaseRunning, ticketOKUpTo(stepEmailTicket)...),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "MAILBOX_UNKNOWN", Message: "no such mailbox"},
			want: with(statusOn(ticketPlanWithoutPivot(), v1.PhaseCompensating, ok(stepCheckEligibility),
				compensated(ok(stepReserveSeat), pendingCall()), compensated(ok(stepAwardPoints), pendingCall()),
				compensated(ok(stepChargeCard), pendingCall()), ok(stepIssueTicket),
				v1.StepStatus{Name: stepEmailTicket, State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0),
					LastError: "MAILBOX_UNKNOWN: no such mailbox"}),
				current(stepEmailTicket), attempts(1), func(st *v1.SagaStatus) {
					st.Failure = &v1.FailureStatus{Step: stepEmailTicket, Reason: v1.ReasonStepRejected,
						Message: "EmailTicket failed: MAILBOX_UNKNOWN: no such mailbox"}
				}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
	}
	runRecordCases(t, cases)
}
