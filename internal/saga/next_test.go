package saga

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// rollingBack is the status of a saga whose step failed with a business failure: the
// steps before it succeeded, every step that ran has a Pending compensation, the rest
// were skipped. Cases then change the compensations they are about.
func rollingBack(failed v1.StepName, opts ...statusOption) v1.SagaStatus {
	steps := make([]v1.StepStatus, 0, len(orderPlan().Steps))
	for _, s := range okUpTo(failed) {
		steps = append(steps, compensated(s, pendingCall()))
	}
	steps = append(steps, compensated(v1.StepStatus{Name: failed, State: v1.StepFailed, Attempts: 1,
		LastError: "PAYMENT_DECLINED: over the limit"}, pendingCall()))
	st := status(v1.PhaseCompensating, steps...)
	for i := range st.Steps {
		if st.Steps[i].State == v1.StepPending {
			st.Steps[i].State = v1.StepSkipped
		}
	}
	return with(with(st, orderID("ord-1")), opts...)
}

// setComp replaces the compensation of step name in st.
func setComp(name v1.StepName, cs *v1.CallStatus) statusOption {
	return func(st *v1.SagaStatus) {
		for i := range st.Steps {
			if st.Steps[i].Name == name {
				st.Steps[i].StepStatus = compensated(st.Steps[i].StepStatus, cs)
			}
		}
	}
}

// allCompensated is a rollback after a failure at ScheduleShipment with every
// compensation done.
func allCompensated(opts ...statusOption) v1.SagaStatus {
	return with(rollingBack(v1.StepScheduleShipment,
		setComp(v1.StepCreateOrder, doneCall()), setComp(v1.StepReserveInventory, doneCall()),
		setComp(v1.StepProcessPayment, doneCall()), setComp(v1.StepScheduleShipment, doneCall())), opts...)
}

func finished(phase v1.Phase, opts ...statusOption) v1.SagaStatus {
	var st v1.SagaStatus
	if phase == v1.PhaseCompleted {
		st = status(phase, append(okUpTo(""), ok(v1.StepSendNotification))...)
	} else {
		st = allCompensated()
		st.Phase = phase
	}
	st.FinishedAt = at(t0.Add(-10 * time.Second))
	return with(st, opts...)
}

func TestNext(t *testing.T) {
	type testCase struct {
		reason string
		view   View
		want   Decision
	}
	p := testPolicy
	cases := map[string]testCase{
		"NewSagaStarts": {
			reason: "A saga with no status starts: Record lists the plan's steps.",
			view:   view(),
			want:   Decision{Kind: KindStart},
		},
		"PendingSagaStarts": {
			reason: "A saga in phase Pending starts.",
			view:   view(withStatus(v1.SagaStatus{Phase: v1.PhasePending})),
			want:   Decision{Kind: KindStart},
		},
		"InvalidSpecHolds": {
			reason: "A spec the CRD should have refused (View.Invalid says why: here a price) makes no call and says why.",
			view:   view(withInvalid(`items[0].unitPrice: parse amount "1.999": want digits with at most two decimals`)),
			want: Decision{Kind: KindHold,
				Message: `items[0].unitPrice: parse amount "1.999": want digits with at most two decimals`},
		},
		"InvalidSpecOfAStartedSagaDoesNotHold": {
			reason: "Invalid holds a saga that has not started; one already Running goes on with the plan it started on.",
			view:   view(withInvalid("definition changed"), withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder)))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepReserveInventory, Action, 1, false)},
		},
		"StepInBackoffWaits": {
			reason: "A step that failed transiently waits until nextAttemptAt; Wait is the time remaining.",
			view:   view(withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0.Add(1500*time.Millisecond))))),
			want:   Decision{Kind: KindWait, Wait: 1500 * time.Millisecond, Reason: v1.ReasonStepBackoff},
		},
		"StepRetriedWhenBackoffPassed": {
			reason: "Once nextAttemptAt has passed the step is called again with attempt n+1.",
			view:   view(withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0.Add(-time.Millisecond))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepReserveInventory, Action, 2, false)},
		},
		"StepRetriedExactlyAtNextAttemptAt": {
			reason: "At nextAttemptAt itself nothing is left to wait for.",
			view:   view(withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0)))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepReserveInventory, Action, 2, false)},
		},
		"LastAllowedAttemptIsFinal": {
			reason: "Attempt maxAttempts is Final: a transient failure of it gives up.",
			view:   view(withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), ok(v1.StepReserveInventory), retrying(v1.StepProcessPayment, 2, t0.Add(-time.Second))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Action, 3, true)},
		},
		"SingleAttemptPolicyFirstCallIsFinal": {
			reason: "With maxAttempts 1 the first call is already the last.",
			view:   view(withPolicy(Policy{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Minute}), withStatus(status(v1.PhaseRunning))),
			want:   Decision{Kind: KindCall, Call: callFor(Policy{MaxAttempts: 1, InitialBackoff: time.Second, MaxBackoff: time.Minute}, v1.StepCreateOrder, Action, 1, true)},
		},
		"PivotIsNeverFinal": {
			reason: "ConfirmOrder is retried until it answers, far past maxAttempts: giving up could undo a confirmed order.",
			view:   view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepConfirmOrder), intent(v1.StepConfirmOrder, 41))...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 42, false)},
		},
		"PivotAtMaxAttemptsIsNotFinal": {
			reason: "ConfirmOrder's attempt maxAttempts is not Final either.",
			view:   view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepConfirmOrder), intent(v1.StepConfirmOrder, 2))...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 3, false)},
		},
		"NotificationLastAttemptIsFinal": {
			reason: "SendNotification has the forward retry budget: its last attempt is Final.",
			view:   view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepSendNotification), retrying(v1.StepSendNotification, 2, t0.Add(-time.Second)))...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepSendNotification, Action, 3, true)},
		},
		"FailedNotificationFinishesCompleted": {
			reason: "A confirmation notice that failed does not roll back the order: the saga completes with NotificationFailed.",
			view: view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepSendNotification),
				v1.StepStatus{Name: v1.StepSendNotification, State: v1.StepFailed, Attempts: 3, LastError: "HTTP_503: Service Unavailable"})...))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonNotificationFailed,
				Message: "order confirmed; the confirmation notice failed: HTTP_503: Service Unavailable"},
		},
		"AllStepsSucceededFinishesCompleted": {
			reason: "When all six steps succeeded the saga finishes Completed.",
			view:   view(withStatus(status(v1.PhaseRunning, append(okUpTo(""), ok(v1.StepSendNotification))...))),
			want: Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted,
				Message: "order confirmed, paid and scheduled for shipment"},
		},

		// Compensating.
		"CompensationStartsWithTheFailedStep": {
			reason: "The rollback undoes the latest step that ran first: here the failed one, which may have happened.",
			view:   view(withStatus(rollingBack(v1.StepProcessPayment))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Compensate, 1, false)},
		},
		"CompensationSkipsSucceededOnes": {
			reason: "Compensations that succeeded are not repeated; the next one down the plan runs.",
			view:   view(withStatus(rollingBack(v1.StepScheduleShipment, setComp(v1.StepScheduleShipment, doneCall()), setComp(v1.StepProcessPayment, doneCall())))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepReserveInventory, Compensate, 1, false)},
		},
		"CompensationSkipsStepsWithoutCompensation": {
			reason: "A step that never ran has no compensation record and is not undone.",
			view:   view(withStatus(rollingBack(v1.StepScheduleShipment, setComp(v1.StepScheduleShipment, doneCall()), setComp(v1.StepProcessPayment, nil)))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepReserveInventory, Compensate, 1, false)},
		},
		"CompensationInBackoffWaits": {
			reason: "A compensation that failed transiently waits until its own nextAttemptAt.",
			view:   view(withStatus(rollingBack(v1.StepProcessPayment, setComp(v1.StepProcessPayment, runningCall(2, t0.Add(4*time.Second)))))),
			want:   Decision{Kind: KindWait, Wait: 4 * time.Second, Reason: v1.ReasonStepBackoff},
		},
		"CompensationRetriedAfterBackoff": {
			reason: "Once its backoff passed the compensation is called with attempt n+1.",
			view:   view(withStatus(rollingBack(v1.StepProcessPayment, setComp(v1.StepProcessPayment, runningCall(2, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Compensate, 3, false)},
		},
		"CompensationFinalAtTwiceMaxAttempts": {
			reason: "A compensation gets 2×maxAttempts calls; the last one is Final.",
			view:   view(withStatus(rollingBack(v1.StepProcessPayment, setComp(v1.StepProcessPayment, runningCall(5, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Compensate, 6, true)},
		},
		"CancellationNoticeAfterCompensations": {
			reason: "After every compensation, a customer whose order was created is told it was cancelled.",
			view:   view(withStatus(allCompensated())),
			want:   Decision{Kind: KindCall, Call: callFor(p, notifyCancellation, Action, 1, false)},
		},
		"CancellationNoticeInBackoffWaits": {
			reason: "The notice keeps its own backoff.",
			view:   view(withStatus(allCompensated(onRollback(runningCall(1, t0.Add(2*time.Second)))))),
			want:   Decision{Kind: KindWait, Wait: 2 * time.Second, Reason: v1.ReasonStepBackoff},
		},
		"CancellationNoticeLastAttemptIsFinal": {
			reason: "The notice gets a compensation's 2×maxAttempts calls: giving up on the customer's only word is final.",
			view:   view(withStatus(allCompensated(onRollback(runningCall(5, t0.Add(-time.Second)))))),
			want:   Decision{Kind: KindCall, Call: callFor(p, notifyCancellation, Action, 6, true)},
		},
		"NoCancellationNoticeWithoutOrder": {
			reason: "Without an orderId there is no order to announce the cancellation of: finish Compensated.",
			view:   view(withStatus(allCompensated(orderID("")))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},
		"SentCancellationNoticeFinishesCompensated": {
			reason: "Compensations and notice done: finish Compensated.",
			view:   view(withStatus(allCompensated(onRollback(doneCall())))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},
		"FailedCancellationNoticeStillFinishesCompensated": {
			reason: "The notice is best effort: its failure does not keep the saga from Compensated.",
			view:   view(withStatus(allCompensated(onRollback(failedCall(3))))),
			want:   Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
		},

		// Failed and the retry annotation.
		"FailedWithNewRetryAnnotationRedrives": {
			reason: "A retry annotation value not yet handled re-drives a Failed saga.",
			view:   view(withRetry("2026-11-28T13:00"), withStatus(finished(v1.PhaseFailed, lastHandled("2026-11-28T12:00")))),
			want:   Decision{Kind: KindRedrive, RetryToken: "2026-11-28T13:00"},
		},
		"FailedWithFirstRetryAnnotationRedrives": {
			reason: "The first retry annotation re-drives too.",
			view:   view(withRetry("1"), withStatus(finished(v1.PhaseFailed))),
			want:   Decision{Kind: KindRedrive, RetryToken: "1"},
		},
		"FailedWithHandledRetryAnnotationIsDone": {
			reason: "An annotation value already handled does nothing.",
			view:   view(withRetry("1"), withStatus(finished(v1.PhaseFailed, lastHandled("1")))),
			want:   Decision{Kind: KindDone},
		},
		"FailedWithoutAnnotationIsDone": {
			reason: "A Failed saga waits for a person.",
			view:   view(withStatus(finished(v1.PhaseFailed))),
			want:   Decision{Kind: KindDone},
		},
		"FailedIgnoresTTL": {
			reason: "ttlSecondsAfterFinished never deletes a Failed saga: a person must act on it.",
			view:   view(withTTL(0), withStatus(finished(v1.PhaseFailed))),
			want:   Decision{Kind: KindDone},
		},
		"DeletedFailedSagaKeepsFinalizer": {
			reason: "A deleted Failed saga is Done, not Released: what it failed to undo is not forgotten.",
			view:   view(deleting(), withStatus(finished(v1.PhaseFailed))),
			want:   Decision{Kind: KindDone},
		},

		// Deletion.
		"DeletionBeforePivotRollsBack": {
			reason: "Deleting a Running saga before the pivot rolls it back.",
			view:   view(deleting(), withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0.Add(time.Second))))),
			want:   Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
		},
		"DeletionOfUnstartedSagaRollsBack": {
			reason: "Deleting a saga whose Start may have been lost still undoes (as no-ops with tombstones).",
			view:   view(deleting()),
			want:   Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
		},
		"DeletionAfterPivotContinuesForward": {
			reason: "After ConfirmOrder succeeded nothing is rolled back, not even on deletion.",
			view:   view(deleting(), withStatus(status(v1.PhaseRunning, okUpTo(v1.StepSendNotification)...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepSendNotification, Action, 1, false)},
		},
		"DeletionWhileCompensatingContinuesRollback": {
			reason: "A saga already rolling back keeps rolling back; it does not start a second rollback.",
			view:   view(deleting(), withStatus(rollingBack(v1.StepProcessPayment))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Compensate, 1, false)},
		},
		"DeletionOfCompletedReleases": {
			reason: "A Completed saga has nothing to undo: release the finalizer.",
			view:   view(deleting(), withStatus(finished(v1.PhaseCompleted))),
			want:   Decision{Kind: KindRelease},
		},
		"DeletionOfCompensatedReleases": {
			reason: "A Compensated saga has nothing left to undo: release the finalizer.",
			view:   view(deleting(), withTTL(time.Hour), withStatus(finished(v1.PhaseCompensated))),
			want:   Decision{Kind: KindRelease},
		},
		"DeletionDuringPivotRetryDoesNotRollBack": {
			reason: "ConfirmOrder was called and timed out: the order may be confirmed. The engine itself refuses to " +
				"give up on the pivot for that reason (forwardLimit), so deletion must not roll it back either: retry the pivot.",
			view: view(deleting(), withStatus(status(v1.PhaseRunning,
				append(okUpTo(v1.StepConfirmOrder), retrying(v1.StepConfirmOrder, 2, t0.Add(-time.Second)))...))),
			want: Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 3, false)},
		},
		"DeletionAfterPivotIntentDoesNotRollBack": {
			reason: "The pivot's first attempt was recorded, so it may have run although no answer was recorded: " +
				"a deletion finishes forward, and the recorded attempt is made without another checkpoint.",
			view: view(deleting(), withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepConfirmOrder), intent(v1.StepConfirmOrder, 0))...))),
			want: Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 1, false)},
		},
		"DeletionBeforePivotIntentRollsBack": {
			reason: "No attempt of the pivot is recorded, and one is always recorded before it is made: it never ran, so a deletion rolls back.",
			view:   view(deleting(), withStatus(status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...))),
			want: Decision{Kind: KindRollback, Reason: v1.ReasonDeleted,
				Message: "the saga was deleted while in flight"},
		},
		"PivotRetryNeedsNoCheckpoint": {
			reason: "After a transient failure the stored status already shows that the pivot may have run: its retry is made at once.",
			view:   view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepConfirmOrder), retrying(v1.StepConfirmOrder, 2, t0.Add(-time.Second)))...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepConfirmOrder, Action, 3, false)},
		},
		"PivotWaitsUntilItsIntentIsStored": {
			reason: "The pivot's attempt is recorded in this reconcile but not stored yet: no call until a later reconcile reads it back.",
			view: view(withStatus(status(v1.PhaseRunning, append(okUpTo(v1.StepConfirmOrder), intent(v1.StepConfirmOrder, 0))...)),
				withStored(status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...))),
			want: Decision{Kind: KindCheckpoint, Call: callFor(p, v1.StepConfirmOrder, Action, 1, false)},
		},
		"FirstCompensationWaitsUntilTheRollbackIsStored": {
			reason: "A rollback decided in this reconcile is stored before anything is undone, so that a lost write cannot run the saga forward over undone steps.",
			view: view(withStatus(with(status(v1.PhaseCompensating, compensated(ok(v1.StepCreateOrder), &v1.CallStatus{State: v1.CallPending})), orderID("ord-1"))),
				withStored(status(v1.PhaseRunning, ok(v1.StepCreateOrder)))),
			want: Decision{Kind: KindCheckpoint, Call: callFor(p, v1.StepCreateOrder, Compensate, 1, false)},
		},
		"CompensationOfAStoredRollbackIsMade": {
			reason: "Once the stored status is Compensating, compensations are called without another checkpoint.",
			view: view(withStatus(with(status(v1.PhaseCompensating, compensated(ok(v1.StepCreateOrder), &v1.CallStatus{State: v1.CallPending})), orderID("ord-1"))),
				withStored(status(v1.PhaseCompensating, ok(v1.StepCreateOrder)))),
			want: Decision{Kind: KindCall, Call: callFor(p, v1.StepCreateOrder, Compensate, 1, false)},
		},

		// Suspend.
		"SuspendedSagaHolds": {
			reason: "spec.suspend stops new calls and shows Suspended.",
			view:   view(suspended(), withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder)))),
			want:   Decision{Kind: KindHold, Suspended: true},
		},
		"SuspendedSagaDoesNotStart": {
			reason: "A suspended saga does not even start.",
			view:   view(suspended()),
			want:   Decision{Kind: KindHold, Suspended: true},
		},
		"SuspendedRollbackHolds": {
			reason: "Suspend holds compensations too.",
			view:   view(suspended(), withStatus(rollingBack(v1.StepProcessPayment))),
			want:   Decision{Kind: KindHold, Suspended: true},
		},
		"SuspendedCompletedIsDoneAndShowsSuspended": {
			reason: "Suspending a finished saga changes nothing but the condition.",
			view:   view(suspended(), withStatus(finished(v1.PhaseCompleted))),
			want:   Decision{Kind: KindDone, Suspended: true},
		},
		"DeletionOverridesSuspend": {
			reason: "A suspended saga that is deleted is not held: it rolls back, and Suspended is cleared.",
			view:   view(suspended(), deleting(), withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder)))),
			want:   Decision{Kind: KindRollback, Reason: v1.ReasonDeleted, Message: "the saga was deleted while in flight"},
		},
		"DeletionOverridesSuspendWhileCompensating": {
			reason: "A deleted suspended saga keeps compensating.",
			view:   view(suspended(), deleting(), withStatus(rollingBack(v1.StepProcessPayment))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepProcessPayment, Compensate, 1, false)},
		},
		"DeletionOverridesSuspendAfterPivot": {
			reason: "A deleted suspended saga past the pivot runs forward to the end.",
			view:   view(suspended(), deleting(), withStatus(status(v1.PhaseRunning, okUpTo(v1.StepSendNotification)...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, v1.StepSendNotification, Action, 1, false)},
		},

		// TTL.
		"FinishedWithoutTTLIsDone": {
			reason: "Without a TTL a finished saga stays.",
			view:   view(withStatus(finished(v1.PhaseCompleted))),
			want:   Decision{Kind: KindDone},
		},
		"FinishedBeforeTTLWaits": {
			reason: "Before the TTL has passed the saga is Done, with Wait the time remaining.",
			view:   view(withTTL(time.Minute), withStatus(finished(v1.PhaseCompleted))),
			want:   Decision{Kind: KindDone, Wait: 50 * time.Second},
		},
		"CompensatedBeforeTTLWaits": {
			reason: "The TTL applies to Compensated sagas too.",
			view:   view(withTTL(11*time.Second), withStatus(finished(v1.PhaseCompensated))),
			want:   Decision{Kind: KindDone, Wait: time.Second},
		},
		"FinishedAfterTTLDeletes": {
			reason: "Once the TTL has passed the saga is deleted.",
			view:   view(withTTL(10*time.Second), withStatus(finished(v1.PhaseCompensated))),
			want:   Decision{Kind: KindDelete},
		},
		"ZeroTTLDeletesAtOnce": {
			reason: "ttlSecondsAfterFinished: 0 deletes as soon as the saga finished.",
			view:   view(withTTL(0), withStatus(finished(v1.PhaseCompleted, finishedAt(t0)))),
			want:   Decision{Kind: KindDelete},
		},
	}

	// The first call of each step, in plan order, once the steps before it succeeded.
	for _, name := range namesOf(orderPlan()) {
		cases[fmt.Sprintf("FirstCallOf%s", name)] = testCase{
			reason: "The first step that has not succeeded is called with attempt 1 and the key uid/Step/action.",
			view:   view(withStatus(status(v1.PhaseRunning, okUpTo(name)...))),
			want:   Decision{Kind: KindCall, Call: callFor(p, name, Action, 1, false)},
		}
		if name == orderPivot {
			cases["FirstCallOfConfirmOrder"] = testCase{
				reason: "The pivot's first attempt is recorded (a checkpoint) before it is made.",
				view:   view(withStatus(status(v1.PhaseRunning, okUpTo(name)...))),
				want:   Decision{Kind: KindCheckpoint, Call: callFor(p, name, Action, 1, false)},
			}
		}
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Next(tc.view, t0)
			diff := cmp.Diff(tc.want, got)
			if diff != "" {
				t.Errorf("\nReason: %s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNextKeys checks the idempotency keys: uid/Step/action and uid/Step/compensate, the
// same for every attempt, different for each step and direction.
func TestNextKeys(t *testing.T) {
	cases := map[string]struct {
		reason string
		step   v1.StepName
		dir    Direction
		want   string
	}{
		"Action":       {reason: "An action's key.", step: v1.StepProcessPayment, dir: Action, want: testUID + "/ProcessPayment/action"},
		"Compensation": {reason: "A compensation's key.", step: v1.StepProcessPayment, dir: Compensate, want: testUID + "/ProcessPayment/compensate"},
		"Notice":       {reason: "The cancellation notice's key.", step: notifyCancellation, dir: Action, want: testUID + "/NotifyCancellation/action"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Key(testUID, tc.step, tc.dir)); diff != "" {
				t.Errorf("\nReason: %s\nKey(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestNextIsPure checks that Next does not change the status it is shown.
func TestNextIsPure(t *testing.T) {
	v := view(deleting(), withStatus(status(v1.PhaseRunning, ok(v1.StepCreateOrder), retrying(v1.StepReserveInventory, 1, t0))))
	before := v.Status.DeepCopy()
	first := Next(v, t0)
	if diff := cmp.Diff(*before, v.Status); diff != "" {
		t.Errorf("Next changed the status: -before, +after:\n%s", diff)
	}
	if diff := cmp.Diff(first, Next(v, t0)); diff != "" {
		t.Errorf("Next gave different decisions for equal inputs: -first, +second:\n%s", diff)
	}
}
