package saga

import (
	"crypto/sha256"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Next returns the one thing to do now for the saga seen in v. It does no I/O; equal
// inputs give equal decisions.
//
// Caveats: deletion overrides suspend, because a suspended saga that could not be
// deleted would hold its stock and money forever; and a Failed saga keeps its finalizer
// when deleted, so that nothing it failed to undo is forgotten silently.
func Next(v View, now time.Time) Decision {
	st := &v.Status
	suspended := v.Suspend && !v.Deleting
	d := decide(v, st, now, suspended)
	d.Suspended = suspended
	return d
}

func decide(v View, st *v1.OrderSagaStatus, now time.Time, suspended bool) Decision {
	if d, ok := abandonDecision(v, st); ok {
		return d
	}
	switch st.Phase {
	case v1.PhaseFailed:
		if token := RetryToken(v.RetryRequest); token != "" && token != st.LastHandledRetry {
			return Decision{Kind: KindRedrive, RetryToken: token}
		}
		return Decision{Kind: KindDone}
	case v1.PhaseCompleted, v1.PhaseCompensated:
		return afterFinish(v, st, now)
	default: // in flight: deletion and suspension come first
	}
	if v.Deleting && st.Phase != v1.PhaseCompensating && !pivotMayHaveRun(st) {
		return Decision{Kind: KindRollback, Reason: v1.ReasonDeleted,
			Message: "the saga was deleted while in flight"}
	}
	if suspended {
		return Decision{Kind: KindHold}
	}
	switch st.Phase {
	case "", v1.PhasePending:
		total, err := Total(v.Items)
		if err != nil { // the CRD's validation makes this unreachable for stored objects
			return Decision{Kind: KindHold, Message: err.Error()}
		}
		return Decision{Kind: KindStart, Total: total}
	case v1.PhaseCompensating:
		return nextCompensation(v, st, now)
	default:
		return nextForward(v, st, now)
	}
}

// afterFinish lets a deleted saga go, and deletes a finished one whose TTL has passed.
func afterFinish(v View, st *v1.OrderSagaStatus, now time.Time) Decision {
	if v.Deleting {
		return Decision{Kind: KindRelease}
	}
	if v.TTL == nil || st.FinishedAt == nil {
		return Decision{Kind: KindDone}
	}
	if left := st.FinishedAt.Add(*v.TTL).Sub(now); left > 0 {
		return Decision{Kind: KindDone, Wait: left}
	}
	return Decision{Kind: KindDelete}
}

// nextForward runs the first step that has not succeeded. Failures are turned into a
// rollback or a finish by Record, so a Failed step seen here is only SendNotification.
func nextForward(v View, st *v1.OrderSagaStatus, now time.Time) Decision {
	for _, name := range Plan() {
		s := stepOf(st, name)
		switch s.State {
		case v1.StepSucceeded:
			continue
		case v1.StepFailed:
			if name == v1.StepSendNotification {
				return finishCompleted(s)
			}
			return Decision{Kind: KindRollback, Reason: v1.ReasonStepRejected, Message: string(name) + " failed: " + s.LastError}
		case v1.StepRunning:
			if wait := untilNext(s.NextAttemptAt, now); wait > 0 {
				return Decision{Kind: KindWait, Wait: wait, Reason: v1.ReasonStepBackoff}
			}
		default: // Pending: its first attempt
		}
		d := call(v, name, Action, s.Attempts+1, forwardLimit(v.Policy, name))
		if name == Pivot && !pivotMayHaveRun(v.durable()) {
			d.Kind = KindCheckpoint
		}
		return d
	}
	return finishCompleted(stepOf(st, v1.StepSendNotification))
}

func finishCompleted(notification v1.StepStatus) Decision {
	if notification.State == v1.StepFailed {
		return Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonNotificationFailed,
			Message: "order confirmed; the confirmation notice failed: " + notification.LastError}
	}
	return Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted,
		Message: "order confirmed, paid and scheduled for shipment"}
}

// nextCompensation undoes the latest step whose compensation has not succeeded, then
// sends the order-cancelled notice, then finishes Compensated. No call is made before
// the rollback is stored (see KindCheckpoint).
func nextCompensation(v View, st *v1.OrderSagaStatus, now time.Time) Decision {
	d := nextUndo(v, st, now)
	if d.Kind == KindCall && !rollbackStored(v.durable()) {
		d.Kind = KindCheckpoint
	}
	return d
}

// rollbackStored: the stored status is rolling back (or gave up doing so), so no later
// reconcile can run the saga forward again.
func rollbackStored(st *v1.OrderSagaStatus) bool {
	return st.Phase == v1.PhaseCompensating || st.Phase == v1.PhaseFailed
}

func nextUndo(v View, st *v1.OrderSagaStatus, now time.Time) Decision {
	plan := Plan()
	for i := len(plan) - 1; i >= 0; i-- {
		c := stepOf(st, plan[i]).Compensation
		if c == nil || c.State == v1.CallSucceeded {
			continue
		}
		return retryable(v, plan[i], Compensate, c, now, compensationLimit(v.Policy))
	}
	if needsCancellationNotice(st) {
		// The notice gets a compensation's patience: it is the customer's only word that
		// the order is off, and giving up on it is final.
		return retryable(v, NotifyCancellation, Action, st.CancellationNotice, now, compensationLimit(v.Policy))
	}
	return Decision{Kind: KindFinish, Phase: v1.PhaseCompensated}
}

// needsCancellationNotice: a customer whose order was created hears that it was cancelled.
func needsCancellationNotice(st *v1.OrderSagaStatus) bool {
	if st.OrderID == "" {
		return false
	}
	n := st.CancellationNotice
	return n == nil || n.State == v1.CallPending || n.State == v1.CallRunning
}

// retryable calls (or waits for) a call that keeps its own record: a compensation or
// the cancellation notice.
func retryable(v View, step v1.StepName, dir Direction, c *v1.CallStatus, now time.Time, limit int32) Decision {
	var attempts int32
	if c != nil {
		attempts = c.Attempts
		if wait := untilNext(c.NextAttemptAt, now); wait > 0 {
			return Decision{Kind: KindWait, Wait: wait, Reason: v1.ReasonStepBackoff}
		}
	}
	return call(v, step, dir, attempts+1, limit)
}

func call(v View, step v1.StepName, dir Direction, attempt, limit int32) Decision {
	return Decision{Kind: KindCall, Call: &Call{
		Step:       step,
		Direction:  dir,
		Attempt:    attempt,
		Key:        Key(v.UID, step, dir),
		Final:      limit > 0 && attempt >= limit,
		RetryAfter: Backoff(v.Policy.InitialBackoff, v.Policy.MaxBackoff, attempt, Key(v.UID, step, dir)),
	}}
}

// forwardLimit is the number of attempts a step gets; 0 means no limit. The pivot is
// retried until it answers: giving up on it would roll back an order that may already be
// confirmed, and after it nothing may be undone.
func forwardLimit(p Policy, step v1.StepName) int32 {
	if step == Pivot {
		return 0
	}
	return p.MaxAttempts
}

func compensationLimit(p Policy) int32 {
	return p.MaxAttempts * CompensationAttemptsFactor
}

// pivotMayHaveRun: once an attempt of ConfirmOrder was recorded the order may be
// confirmed, and a deletion finishes the saga forward instead of undoing a confirmed
// order. The attempt is stored before the call (KindCheckpoint), so a stored status that
// shows none proves the pivot never ran, whatever writes were lost.
func pivotMayHaveRun(st *v1.OrderSagaStatus) bool {
	s := stepOf(st, Pivot)
	return s.State != v1.StepPending || s.Attempts > 0
}

// maxRetryToken is the longest annotation value kept verbatim in lastHandledRetry.
const maxRetryToken = 200

// RetryToken is what lastHandledRetry stores for a retry annotation value: the value
// itself, or a digest of a long one, so that the status stays bounded and a long value
// is still handled exactly once.
func RetryToken(annotation string) string {
	if len(annotation) <= maxRetryToken {
		return annotation
	}
	return fmt.Sprintf("sha256:%x", sha256.Sum256([]byte(annotation)))
}

func untilNext(next *metav1.MicroTime, now time.Time) time.Duration {
	if next == nil {
		return 0
	}
	return next.Sub(now)
}
