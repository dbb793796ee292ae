package saga

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Options that leave out what a case is not about.
var (
	ignoreMessages   = cmpopts.IgnoreFields(v1.SagaStatus{}, "Message")
	ignoreCondMsg    = cmpopts.IgnoreFields(metav1.Condition{}, "Message")
	ignoreConditions = cmpopts.IgnoreFields(v1.SagaStatus{}, "Conditions")
	ignoreLastError  = cmpopts.IgnoreFields(v1.StepStatus{}, "LastError")
)

// recordCase is one case of a Record table: the status before, the decision and the
// outcome of its call, and the status after. The plan is the order plan unless set.
type recordCase struct {
	reason string
	plan   *Plan
	before v1.SagaStatus
	d      Decision
	out    Outcome
	want   v1.SagaStatus
	opts   []cmp.Option
}

// runRecordCases runs Record for every case and compares the status it leaves.
func runRecordCases(t *testing.T, cases map[string]recordCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := *tc.before.DeepCopy()
			Record(planOr(tc.plan), &got, tc.d, tc.out, t0)
			got.Conditions = withoutReadiness(got.Conditions)
			if diff := cmp.Diff(tc.want, got, tc.opts...); diff != "" {
				t.Errorf("\nReason: %s\nRecord(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRecord(t *testing.T) {
	transient := Outcome{Kind: Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}
	cases := map[string]recordCase{
		"StartInitialisesSixPendingSteps": {
			reason: "Start sets phase Running, startedAt, six Pending steps in plan order and Succeeded=Unknown.",
			before: v1.SagaStatus{},
			d:      Decision{Kind: KindStart},
			want: v1.SagaStatus{Phase: v1.PhaseRunning, StartedAt: at(t0), CurrentStep: v1.StepCreateOrder,
				Message: "started", Steps: status("").Steps,
				Conditions: succeededCond(metav1.ConditionUnknown, v1.ReasonProgressing, "the saga is running")},
		},
		"SuccessAppliesOutputs": {
			reason: "A step that succeeds is Succeeded with its times and attempts; its outputs go into status.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: map[string]string{"orderId": "ord-1", "total": testTotal}},
			want: with(status(v1.PhaseRunning, v1.StepStatus{Name: v1.StepCreateOrder, State: v1.StepSucceeded, Attempts: 1,
				StartedAt: at(t0), FinishedAt: at(t0)}), orderID("ord-1"), output(v1.StepCreateOrder, "total", testTotal),
				func(st *v1.SagaStatus) {
					st.CurrentStep, st.Attempts, st.Message = v1.StepCreateOrder, 1, "CreateOrder succeeded"
					st.Conditions = succeededCond(metav1.ConditionUnknown, v1.ReasonProgressing, "CreateOrder succeeded")
				}),
		},
		"CheckpointRecordsThePivotAttemptBeforeTheCall": {
			reason: "A checkpoint marks the pivot Running with its start time and no backoff, and counts no call: Attempts moves only when a call was made.",
			before: status(v1.PhaseRunning, retrying(v1.StepConfirmOrder, 2, t0.Add(-time.Second))),
			d:      Decision{Kind: KindCheckpoint, Call: callFor(testPolicy, v1.StepConfirmOrder, Action, 3, false)},
			want: v1.SagaStatus{Phase: v1.PhaseRunning, CurrentStep: v1.StepConfirmOrder, Attempts: 3,
				Steps: status(v1.PhaseRunning, v1.StepStatus{Name: v1.StepConfirmOrder, State: v1.StepRunning, Attempts: 2,
					StartedAt: at(t0.Add(-time.Minute)), LastError: "HTTP_503: Service Unavailable"}).Steps},
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"EmptyOutputsLeaveStatusAlone": {
			reason: "Only the outputs a step returns are written, to that step: the orderId stays when payment returns a paymentId " +
				"(and an empty orderId in its answer erases nothing).",
			before: with(status(v1.PhaseRunning, okUpTo(v1.StepProcessPayment)...), orderID("ord-1")),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Action, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: map[string]string{"paymentId": "pay-1", "orderId": ""}},
			want: with(status(v1.PhaseRunning, append(okUpTo(v1.StepProcessPayment), v1.StepStatus{Name: v1.StepProcessPayment,
				State: v1.StepSucceeded, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0)})...),
				orderID("ord-1"), output(v1.StepProcessPayment, "paymentId", "pay-1"), current(v1.StepProcessPayment), attempts(1)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"SuccessAfterRetryKeepsFirstStart": {
			reason: "A retry that succeeds keeps the first startedAt and clears nextAttemptAt.",
			before: status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 2, t0)),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepReserveInventory, Action, 3, true)},
			out:    Outcome{Kind: Succeeded, Outputs: map[string]string{"reservationId": "res-1"}},
			want: with(status(v1.PhaseRunning, ok(v1.StepCreateOrder), v1.StepStatus{Name: v1.StepReserveInventory, State: v1.StepSucceeded,
				Attempts: 3, StartedAt: at(t0.Add(-time.Minute)), FinishedAt: at(t0)}),
				output(v1.StepReserveInventory, "reservationId", "res-1"), current(v1.StepReserveInventory), attempts(3)),
			opts: []cmp.Option{ignoreMessages, ignoreConditions, ignoreLastError},
		},
		"TransientFailureBacksOff": {
			reason: "A transient failure that is not Final leaves the step Running with nextAttemptAt = now + RetryAfter and reason StepBackoff.",
			before: status(v1.PhaseRunning, ok(v1.StepCreateOrder)),
			d: Decision{Kind: KindCall, Call: &Call{Step: v1.StepReserveInventory, Direction: Action, Attempt: 1,
				Key: Key(testUID, v1.StepReserveInventory, Action), RetryAfter: 1500 * time.Millisecond}},
			out: Outcome{Kind: Transient, Code: "HTTP_503", Message: "Service Unavailable"},
			want: v1.SagaStatus{Phase: v1.PhaseRunning, CurrentStep: v1.StepReserveInventory, Attempts: 1,
				Message: "ReserveInventory attempt 1 failed (HTTP_503); retrying in 1.5s",
				Steps: status(v1.PhaseRunning, ok(v1.StepCreateOrder), v1.StepStatus{Name: v1.StepReserveInventory, State: v1.StepRunning,
					Attempts: 1, StartedAt: at(t0), NextAttemptAt: at(t0.Add(1500 * time.Millisecond)), LastError: "HTTP_503: Service Unavailable"}).Steps,
				Conditions: succeededCond(metav1.ConditionUnknown, v1.ReasonStepBackoff, "ReserveInventory attempt 1 failed (HTTP_503); retrying in 1.5s")},
		},
		"FinalTransientFailureRollsBack": {
			reason: "A transient failure of the Final attempt fails the step and rolls back every step before the pivot: " +
				"a run whose status write was lost may have gone further than status shows; the reason is RetriesExhausted.",
			before: with(status(v1.PhaseRunning, ok(v1.StepCreateOrder), ok(v1.StepReserveInventory), retrying(v1.StepProcessPayment, 2, t0)), orderID("ord-1")),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Action, 3, true)},
			out:    transient,
			want: with(v1.SagaStatus{Phase: v1.PhaseCompensating, CurrentStep: v1.StepProcessPayment, Attempts: 3,
				Failure: &v1.FailureStatus{Step: v1.StepProcessPayment, Reason: v1.ReasonRetriesExhausted,
					Message: "ProcessPayment failed 3 times: TIMEOUT: no answer within stepTimeout"},
				Message: "rolling back: ProcessPayment failed 3 times: TIMEOUT: no answer within stepTimeout",
				Steps: sagaSteps([]v1.StepStatus{
					compensated(ok(v1.StepCreateOrder), pendingCall()),
					compensated(ok(v1.StepReserveInventory), pendingCall()),
					{Name: v1.StepProcessPayment, State: v1.StepFailed, Attempts: 3, StartedAt: at(t0.Add(-time.Minute)), FinishedAt: at(t0),
						LastError: "TIMEOUT: no answer within stepTimeout", Compensation: pendingCall()},
					{Name: v1.StepScheduleShipment, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepConfirmOrder, State: v1.StepSkipped},
					{Name: v1.StepSendNotification, State: v1.StepSkipped},
				}...),
				Conditions: succeededCond(metav1.ConditionUnknown, v1.ReasonCompensating,
					"rolling back: ProcessPayment failed 3 times: TIMEOUT: no answer within stepTimeout")}, orderID("ord-1")),
		},
		"PivotBusinessFailureRollsBackFourSteps": {
			reason: "ConfirmOrder refused: the four steps before it are compensated; the pivot itself has no compensation.",
			before: status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepConfirmOrder, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "ORDER_CANCELLED", Message: "the order was cancelled"},
			want: v1.SagaStatus{Phase: v1.PhaseCompensating, CurrentStep: v1.StepConfirmOrder, Attempts: 1,
				Failure: &v1.FailureStatus{Step: v1.StepConfirmOrder, Reason: v1.ReasonStepRejected,
					Message: "ConfirmOrder failed: ORDER_CANCELLED: the order was cancelled"},
				Steps: sagaSteps([]v1.StepStatus{
					compensated(ok(v1.StepCreateOrder), pendingCall()),
					compensated(ok(v1.StepReserveInventory), pendingCall()),
					compensated(ok(v1.StepProcessPayment), pendingCall()),
					compensated(ok(v1.StepScheduleShipment), pendingCall()),
					{Name: v1.StepConfirmOrder, State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0),
						LastError: "ORDER_CANCELLED: the order was cancelled"},
					{Name: v1.StepSendNotification, State: v1.StepSkipped},
				}...)},
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"NotificationFailureDoesNotRollBack": {
			reason: "SendNotification failing for good marks the step Failed and nothing else: Next finishes Completed.",
			before: status(v1.PhaseRunning, append(okUpTo(v1.StepSendNotification), retrying(v1.StepSendNotification, 2, t0))...),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepSendNotification, Action, 3, true)},
			out:    transient,
			want: v1.SagaStatus{Phase: v1.PhaseRunning, CurrentStep: v1.StepSendNotification, Attempts: 3,
				Steps: status(v1.PhaseRunning, append(okUpTo(v1.StepSendNotification), v1.StepStatus{Name: v1.StepSendNotification,
					State: v1.StepFailed, Attempts: 3, StartedAt: at(t0.Add(-time.Minute)), FinishedAt: at(t0),
					LastError: "TIMEOUT: no answer within stepTimeout"})...).Steps},
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"DeletionRollbackMarksAllPrePivotSteps": {
			reason: "A deletion rollback compensates all four steps before the pivot, also those with no recorded attempt: " +
				"the write that recorded them may be the one lost. The cause is the step in flight.",
			before: with(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0.Add(time.Second))),
				current(v1.StepReserveInventory)),
			d: Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
			want: v1.SagaStatus{Phase: v1.PhaseCompensating, CurrentStep: v1.StepReserveInventory,
				Failure: &v1.FailureStatus{Step: v1.StepReserveInventory, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
				Message: "rolling back: the saga was deleted while in flight",
				Steps: sagaSteps([]v1.StepStatus{
					compensated(ok(v1.StepCreateOrder), pendingCall()),
					compensated(retrying(v1.StepReserveInventory, 1, t0.Add(time.Second)), pendingCall()),
					{Name: v1.StepProcessPayment, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepScheduleShipment, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepConfirmOrder, State: v1.StepSkipped},
					{Name: v1.StepSendNotification, State: v1.StepSkipped},
				}...),
				Conditions: succeededCond(metav1.ConditionUnknown, v1.ReasonCompensating, "rolling back: the saga was deleted while in flight")},
		},
		"DeletionRollbackOfUnstartedSaga": {
			reason: "A saga deleted before any recorded write gets its six steps, in plan order, the first four to compensate.",
			before: v1.SagaStatus{},
			d:      Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
			want: v1.SagaStatus{Phase: v1.PhaseCompensating,
				Failure: &v1.FailureStatus{Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
				Steps: sagaSteps([]v1.StepStatus{
					{Name: v1.StepCreateOrder, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepReserveInventory, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepProcessPayment, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepScheduleShipment, State: v1.StepPending, Compensation: pendingCall()},
					{Name: v1.StepConfirmOrder, State: v1.StepSkipped},
					{Name: v1.StepSendNotification, State: v1.StepSkipped},
				}...)},
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
		"CompensationSuccessMarksStepCompensated": {
			reason: "A compensation that succeeds is Succeeded and its step Compensated.",
			before: with(rollingBack(v1.StepProcessPayment), current(v1.StepProcessPayment)),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 1, false)},
			out:    Outcome{Kind: Succeeded},
			want: with(rollingBack(v1.StepProcessPayment, setComp(v1.StepProcessPayment,
				&v1.CallStatus{State: v1.CallSucceeded, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0)})),
				current(v1.StepProcessPayment), func(st *v1.SagaStatus) { st.Attempts, st.Message = 1, "compensated ProcessPayment" }),
		},
		"CompensationTransientFailureBacksOff": {
			reason: "A compensation that fails transiently is Running with its own nextAttemptAt; the step is Compensating.",
			before: rollingBack(v1.StepProcessPayment),
			d: Decision{Kind: KindCall, Call: &Call{Step: v1.StepProcessPayment, Direction: Compensate, Attempt: 1,
				Key: Key(testUID, v1.StepProcessPayment, Compensate), RetryAfter: 2 * time.Second}},
			out: transient,
			want: with(rollingBack(v1.StepProcessPayment), func(st *v1.SagaStatus) {
				st.Steps[2].State = v1.StepCompensating
				st.Steps[2].Compensation = &v1.CallStatus{State: v1.CallRunning, Attempts: 1, StartedAt: at(t0),
					NextAttemptAt: at(t0.Add(2 * time.Second)), LastError: "TIMEOUT: no answer within stepTimeout"}
				st.CurrentStep, st.Attempts = v1.StepProcessPayment, 1
				st.Message = "compensation of ProcessPayment attempt 1 failed (TIMEOUT); retrying in 2s"
			}),
		},
		"CompensationExhaustedFailsSaga": {
			reason: "A compensation whose Final attempt fails transiently leaves the saga Failed, Succeeded=False CompensationExhausted, with finishedAt.",
			before: rollingBack(v1.StepProcessPayment, setComp(v1.StepProcessPayment, runningCall(5, t0))),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 6, true)},
			out:    transient,
			want: with(rollingBack(v1.StepProcessPayment), func(st *v1.SagaStatus) {
				st.Phase, st.FinishedAt = v1.PhaseFailed, at(t0)
				st.Steps[2].State = v1.StepCompensating
				st.Steps[2].Compensation = &v1.CallStatus{State: v1.CallFailed, Attempts: 6, StartedAt: at(t0.Add(-time.Minute)),
					FinishedAt: at(t0), LastError: "TIMEOUT: no answer within stepTimeout"}
				st.CurrentStep, st.Attempts = v1.StepProcessPayment, 6
				st.Message = "compensation of ProcessPayment gave up after 6 attempts (TIMEOUT: no answer within stepTimeout); " +
					"fix the cause, then set the saga.ordersaga.io/retry annotation to retry (or, to give up, delete the saga and set saga.ordersaga.io/abandon)"
				st.Conditions = succeededCond(metav1.ConditionFalse, v1.ReasonCompensationExhausted, st.Message)
			}),
		},
		"CompensationRefusedFailsSaga": {
			reason: "A compensation refused by the service fails the saga at once with CompensationRejected.",
			before: rollingBack(v1.StepProcessPayment),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "REFUND_REFUSED", Message: "the card is closed"},
			want: with(rollingBack(v1.StepProcessPayment), func(st *v1.SagaStatus) {
				st.Phase, st.FinishedAt = v1.PhaseFailed, at(t0)
				st.Steps[2].State = v1.StepCompensating
				st.Steps[2].Compensation = &v1.CallStatus{State: v1.CallFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0),
					LastError: "REFUND_REFUSED: the card is closed"}
				st.CurrentStep, st.Attempts = v1.StepProcessPayment, 1
				st.Message = "compensation of ProcessPayment was refused (REFUND_REFUSED: the card is closed); " +
					"fix the cause, then set the saga.ordersaga.io/retry annotation to retry (or, to give up, delete the saga and set saga.ordersaga.io/abandon)"
				st.Conditions = succeededCond(metav1.ConditionFalse, v1.ReasonCompensationRejected, st.Message)
			}),
		},
		"CancellationNoticeSent": {
			reason: "The notice keeps its record in onRollback (the after-rollback call's) and touches no step.",
			before: allCompensated(),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, notifyCancellation, Action, 1, false)},
			out:    Outcome{Kind: Succeeded},
			want:   allCompensated(onRollback(&v1.CallStatus{State: v1.CallSucceeded, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0)})),
		},
		"CancellationNoticeGivenUp": {
			reason: "A notice that fails for good is Failed; the phase does not change (best effort).",
			before: allCompensated(onRollback(runningCall(2, t0))),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, notifyCancellation, Action, 3, true)},
			out:    transient,
			want: allCompensated(onRollback(&v1.CallStatus{State: v1.CallFailed, Attempts: 3, StartedAt: at(t0.Add(-time.Minute)),
				FinishedAt: at(t0), LastError: "TIMEOUT: no answer within stepTimeout"})),
		},
		"RedriveRestartsFailedCompensations": {
			reason: "Redrive puts Failed compensations back to Running with attempts 0, the phase back to Compensating, " +
				"clears finishedAt and remembers the annotation value.",
			before: finished(v1.PhaseFailed, setComp(v1.StepProcessPayment, failedCall(6)), setComp(v1.StepReserveInventory, pendingCall()),
				setComp(v1.StepCreateOrder, pendingCall()), lastHandled("t1"), func(st *v1.SagaStatus) {
					st.Conditions = succeededCond(metav1.ConditionFalse, v1.ReasonCompensationExhausted, "gave up")
				}),
			d: Decision{Kind: KindRedrive, RetryToken: "t2"},
			want: with(finished(v1.PhaseCompensating, setComp(v1.StepReserveInventory, pendingCall()), setComp(v1.StepCreateOrder, pendingCall())),
				setComp(v1.StepProcessPayment, &v1.CallStatus{State: v1.CallRunning, StartedAt: at(t0.Add(-time.Hour)),
					LastError: "TIMEOUT: no answer within stepTimeout"}),
				lastHandled("t2"), func(st *v1.SagaStatus) {
					st.FinishedAt = nil
					st.Message = "re-driven by the saga.ordersaga.io/retry annotation"
					st.Conditions = succeededCond(metav1.ConditionUnknown, v1.ReasonRedriven, st.Message)
				}),
		},
		"FinishCompletedSucceeds": {
			reason: "Finish Completed sets Succeeded=True with the decision's reason, finishedAt, and clears currentStep and attempts.",
			before: with(status(v1.PhaseRunning, append(okUpTo(""), ok(v1.StepSendNotification))...), current(v1.StepSendNotification),
				func(st *v1.SagaStatus) { st.Attempts = 1 }),
			d: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted, Message: "order confirmed, paid and scheduled for shipment"},
			want: with(status(v1.PhaseCompleted, append(okUpTo(""), ok(v1.StepSendNotification))...), finishedAt(t0), func(st *v1.SagaStatus) {
				st.Message = "order confirmed, paid and scheduled for shipment"
				st.Conditions = succeededCond(metav1.ConditionTrue, v1.ReasonCompleted, st.Message)
			}),
		},
		"FinishCompletedWithFailedNotification": {
			reason: "A failed confirmation notice still completes the saga, with reason NotificationFailed.",
			before: status(v1.PhaseRunning, okUpTo(v1.StepSendNotification)...),
			d:      Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonNotificationFailed, Message: "order confirmed; the confirmation notice failed: X"},
			want: with(status(v1.PhaseCompleted, okUpTo(v1.StepSendNotification)...), finishedAt(t0), func(st *v1.SagaStatus) {
				st.Conditions = succeededCond(metav1.ConditionTrue, v1.ReasonNotificationFailed, "")
			}),
			opts: []cmp.Option{ignoreMessages, ignoreCondMsg},
		},
		"FinishCompensatedReportsTheFailure": {
			reason: "Finish Compensated sets Succeeded=False with the failure's reason, and currentStep to the failed step.",
			before: allCompensated(onRollback(doneCall()), current(v1.StepCreateOrder), func(st *v1.SagaStatus) {
				st.Attempts = 1
				st.Failure = &v1.FailureStatus{Step: v1.StepScheduleShipment, Reason: v1.ReasonUnsupportedDestination,
					Message: "ScheduleShipment failed: UNSUPPORTED_DESTINATION: no delivery to AQ"}
			}),
			d: Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
			want: allCompensated(onRollback(doneCall()), current(v1.StepScheduleShipment), finishedAt(t0), func(st *v1.SagaStatus) {
				st.Phase = v1.PhaseCompensated
				st.Failure = &v1.FailureStatus{Step: v1.StepScheduleShipment, Reason: v1.ReasonUnsupportedDestination,
					Message: "ScheduleShipment failed: UNSUPPORTED_DESTINATION: no delivery to AQ"}
				st.Message = "rolled back: ScheduleShipment failed: UNSUPPORTED_DESTINATION: no delivery to AQ"
				st.Conditions = succeededCond(metav1.ConditionFalse, v1.ReasonUnsupportedDestination, st.Message)
			}),
		},
		"SuspendSetsCondition": {
			reason: "A decision made while suspended sets Suspended=True.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindHold, Suspended: true},
			want: with(status(v1.PhaseRunning), func(st *v1.SagaStatus) {
				st.Conditions = []metav1.Condition{cond(v1.ConditionSuspended, metav1.ConditionTrue, v1.ReasonSuspended,
					"spec.suspend is true: no new calls are made")}
			}),
		},
		"ResumeClearsCondition": {
			reason: "The first decision after suspend is lifted sets Suspended=False with reason Resumed.",
			before: with(status(v1.PhaseRunning), func(st *v1.SagaStatus) {
				st.Conditions = []metav1.Condition{{Type: v1.ConditionSuspended, Status: metav1.ConditionTrue, Reason: v1.ReasonSuspended,
					Message: "spec.suspend is true: no new calls are made", LastTransitionTime: metav1.NewTime(t0.Add(-time.Hour))}}
			}),
			d: Decision{Kind: KindWait, Wait: time.Second},
			want: with(status(v1.PhaseRunning), func(st *v1.SagaStatus) {
				st.Conditions = []metav1.Condition{cond(v1.ConditionSuspended, metav1.ConditionFalse, v1.ReasonResumed,
					"new calls are allowed again")}
			}),
		},
		"NeverSuspendedHasNoSuspendedCondition": {
			reason: "A saga never suspended gets no Suspended condition from a decision that changes nothing.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindWait, Wait: time.Second},
			want:   status(v1.PhaseRunning),
		},
		"LastErrorTruncatedOnRuneBoundary": {
			reason: "lastError is at most 512 bytes and never splits a UTF-8 character: 'HTTP_500: ' + 300×'é' keeps 249 'é' and '…'.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Transient, Code: "HTTP_500", Message: strings.Repeat("é", 300)},
			want: status(v1.PhaseRunning, v1.StepStatus{Name: v1.StepCreateOrder, State: v1.StepRunning, Attempts: 1, StartedAt: at(t0),
				NextAttemptAt: at(t0.Add(callFor(testPolicy, v1.StepCreateOrder, Action, 1, false).RetryAfter)),
				LastError:     "HTTP_500: " + strings.Repeat("é", 249) + "…"}),
			opts: []cmp.Option{ignoreMessages, ignoreConditions, cmpopts.IgnoreFields(v1.SagaStatus{}, "CurrentStep", "Attempts")},
		},
		"MissingStepInsertedInPlanOrder": {
			reason: "A status written by an older engine, with steps missing, gets the missing entry in plan order.",
			before: v1.SagaStatus{Phase: v1.PhaseRunning, Steps: sagaSteps([]v1.StepStatus{{Name: v1.StepProcessPayment, State: v1.StepPending}}...)},
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Succeeded},
			want: v1.SagaStatus{Phase: v1.PhaseRunning, CurrentStep: v1.StepCreateOrder, Attempts: 1, Steps: sagaSteps([]v1.StepStatus{
				{Name: v1.StepCreateOrder, State: v1.StepSucceeded, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0)},
				{Name: v1.StepProcessPayment, State: v1.StepPending},
			}...)},
			opts: []cmp.Option{ignoreMessages, ignoreConditions},
		},
	}
	addBusinessFailureCases(cases)
	runRecordCases(t, cases)
}

// addBusinessFailureCases adds a business failure at each of the four steps before the
// pivot: the rollback compensates the failed step and every step before it, skips the
// steps after it, and names the reason people read.
func addBusinessFailureCases(cases map[string]recordCase) {
	failures := []struct {
		step   v1.StepName
		code   string
		reason string
	}{
		{v1.StepCreateOrder, "INVALID_CUSTOMER", v1.ReasonStepRejected},
		{v1.StepReserveInventory, "OUT_OF_STOCK", v1.ReasonOutOfStock},
		{v1.StepProcessPayment, "PAYMENT_DECLINED", v1.ReasonPaymentDeclined},
		{v1.StepScheduleShipment, "UNSUPPORTED_DESTINATION", v1.ReasonUnsupportedDestination},
	}
	for _, f := range failures {
		before := status(v1.PhaseRunning, okUpTo(f.step)...)
		msg := fmt.Sprintf("%s failed: %s: refused", f.step, f.code)
		want := before.DeepCopy()
		want.Phase, want.CurrentStep, want.Attempts = v1.PhaseCompensating, f.step, 1
		want.Failure = &v1.FailureStatus{Step: f.step, Reason: f.reason, Message: msg}
		want.Message = "rolling back: " + msg
		want.Conditions = succeededCond(metav1.ConditionUnknown, v1.ReasonCompensating, want.Message)
		want.Steps = stepsOf(before, func(s *v1.StepStatus) {
			switch {
			case s.Name == f.step:
				*s = v1.StepStatus{Name: s.Name, State: v1.StepFailed, Attempts: 1, StartedAt: at(t0), FinishedAt: at(t0),
					LastError: f.code + ": refused", Compensation: pendingCall()}
			case s.State == v1.StepSucceeded:
				s.Compensation = pendingCall()
			default:
				s.State = v1.StepSkipped
			}
		})
		cases[fmt.Sprintf("BusinessFailureAt%sRollsBack", f.step)] = recordCase{
			reason: fmt.Sprintf("%s at %s rolls back the steps up to and including it with reason %s.", f.code, f.step, f.reason),
			before: before,
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, f.step, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: f.code, Message: "refused"},
			want:   *want,
		}
	}
}

// withoutReadiness leaves out Ready, Reconciling and Stalled, which are derived from the
// phase and Succeeded (TestReadiness covers them), so that TestRecord's cases stay about
// what each decision does.
func withoutReadiness(conds []metav1.Condition) []metav1.Condition {
	var out []metav1.Condition
	for _, c := range conds {
		if c.Type != v1.ConditionReady && c.Type != v1.ConditionReconciling && c.Type != v1.ConditionStalled {
			out = append(out, c)
		}
	}
	return out
}
