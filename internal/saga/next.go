package saga

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Next returns the one thing to do now for the saga seen in v. It does no I/O; equal
// inputs give equal decisions.
//
// Caveats: deletion overrides suspend, because a suspended saga that could not be
// deleted would hold what its steps reserved forever; and a Failed saga keeps its finalizer
// when deleted, so that nothing it failed to undo is forgotten silently.
func Next(v View, now time.Time) Decision {
	st := &v.Status
	suspended := v.Suspend && !v.Deleting
	d := decide(v, st, now, suspended)
	d.Suspended = suspended
	return d
}

func decide(v View, st *v1.SagaStatus, now time.Time, suspended bool) Decision {
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
	if v.Deleting && st.Phase != v1.PhaseCompensating && !pivotMayHaveRun(v.Plan, st) {
		return Decision{Kind: KindRollback, Reason: v1.ReasonDeleted,
			Message: "the saga was deleted while in flight"}
	}
	if suspended {
		return Decision{Kind: KindHold}
	}
	switch st.Phase {
	case "", v1.PhasePending:
		if v.Invalid != "" {
			return Decision{Kind: KindHold, Message: v.Invalid}
		}
		return Decision{Kind: KindStart}
	case v1.PhaseCompensating:
		return nextCompensation(v, st, now)
	default:
		return nextForward(v, st, now)
	}
}

// afterFinish lets a deleted saga go, and deletes a finished one whose TTL has passed.
func afterFinish(v View, st *v1.SagaStatus, now time.Time) Decision {
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

// nextForward runs the first step that has not succeeded. Failures that roll back are
// turned into a rollback by Record, so a Failed step seen here is one whose failure does
// not: a forward-only step, or a step after the pivot. The saga goes on past it.
func nextForward(v View, st *v1.SagaStatus, now time.Time) Decision {
	p := v.Plan
	for i, step := range p.Steps {
		s := stepOf(st, step.Name)
		switch s.State {
		case v1.StepSucceeded:
			continue
		case v1.StepFailed:
			if step.ForwardOnly || p.noReturn(i, st) {
				continue
			}
			return Decision{Kind: KindRollback, Reason: v1.ReasonStepRejected, Message: string(step.Name) + " failed: " + s.LastError}
		case v1.StepRunning:
			if wait := untilNext(s.NextAttemptAt, now); wait > 0 {
				return Decision{Kind: KindWait, Wait: wait, Reason: v1.ReasonStepBackoff}
			}
		default: // Pending: its first attempt
		}
		d := call(v.UID, step.Name, Action, step.Policy, s.Attempts+1, forwardLimit(p, st, i))
		if step.Pivot && p.Fence == nil && !pivotMayHaveRun(p, v.durable()) {
			d.Kind = KindCheckpoint
		}
		return d
	}
	return finishCompleted(p, st)
}

// finishCompleted ends a saga whose steps all ran: Completed, with the first forward-only
// failure, if any, as the reason.
func finishCompleted(p *Plan, st *v1.SagaStatus) Decision {
	for _, step := range p.Steps {
		if s := stepOf(st, step.Name); s.State == v1.StepFailed {
			reason, msg := cmp.Or(step.FailedReason, ReasonForwardStepFailed), cmp.Or(step.FailedMessage, "completed; "+string(step.Name)+" failed")
			return Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: reason, Message: msg + ": " + s.LastError}
		}
	}
	return Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted,
		Message: cmp.Or(p.CompletedMessage, "every step succeeded")}
}

// nextCompensation undoes the latest step whose compensation has not succeeded, then
// makes the plan's after-rollback call, then finishes Compensated. No call is made before
// the rollback is stored (see KindCheckpoint).
func nextCompensation(v View, st *v1.SagaStatus, now time.Time) Decision {
	d := nextUndo(v, st, now)
	if d.Kind == KindCall && !rollbackStored(v.durable()) {
		d.Kind = KindCheckpoint
	}
	return d
}

// rollbackStored: the stored status is rolling back (or gave up doing so), so no later
// reconcile can run the saga forward again, but for the fence's refusal (turnForward),
// which comes before anything was undone.
func rollbackStored(st *v1.SagaStatus) bool {
	return st.Phase == v1.PhaseCompensating || st.Phase == v1.PhaseFailed
}

// nextUndo runs the plan's fence first, if it has one, and the other compensations only
// once the fence has succeeded: until then the pivot may have run in a batch whose status
// write was lost, and only the fence's answer says whether it did (ADR 0011).
func nextUndo(v View, st *v1.SagaStatus, now time.Time) Decision {
	p := v.Plan
	if f := p.Fence; f != nil {
		if c := stepOf(st, f.Step).Compensation; c != nil && c.State != v1.CallSucceeded {
			// The fence is retried until it answers (limit 0), as the pivot is: giving up
			// on it would leave a Failed saga whose pivot may have run, and a person
			// abandoning it could not tell a confirmed order from a cancelled one.
			return retryable(v.UID, f.Step, Compensate, p.Steps[p.index(f.Step)].Policy, c, now, 0)
		}
	}
	for _, step := range slices.Backward(p.Steps) {
		c := stepOf(st, step.Name).Compensation
		if c == nil || c.State == v1.CallSucceeded {
			continue
		}
		return retryable(v.UID, step.Name, Compensate, step.Policy, c, now, compensationLimit(step.Policy))
	}
	if ar := p.AfterRollback; ar != nil && needsAfterRollback(ar, st) {
		// The call gets a compensation's patience: it is often the only word anyone gets
		// that the saga is off, and giving up on it is final.
		return retryable(v.UID, ar.Name, Action, ar.Policy, st.OnRollback, now, compensationLimit(ar.Policy))
	}
	return Decision{Kind: KindFinish, Phase: v1.PhaseCompensated}
}

// needsAfterRollback: the after-rollback call has not finished, and the output it
// requires exists (a notice needs someone to tell, found in an earlier step's outputs).
func needsAfterRollback(ar *AfterRollback, st *v1.SagaStatus) bool {
	if ar.Skip {
		return false
	}
	if req := ar.RequiresOutput; req.Step != "" && stepOf(st, req.Step).Outputs[req.Key] == "" {
		return false
	}
	n := st.OnRollback
	return n == nil || n.State == v1.CallPending || n.State == v1.CallRunning
}

// retryable calls (or waits for) a call that keeps its own record: a compensation or
// the after-rollback call, with at most limit attempts (0: no limit).
func retryable(uid string, step v1.StepName, dir Direction, policy Policy, c *v1.CallStatus, now time.Time, limit int32) Decision {
	var attempts int32
	if c != nil {
		attempts = c.Attempts
		if wait := untilNext(c.NextAttemptAt, now); wait > 0 {
			return Decision{Kind: KindWait, Wait: wait, Reason: v1.ReasonStepBackoff}
		}
	}
	return call(uid, step, dir, policy, attempts+1, limit)
}

// compensationLimit is the number of attempts of a compensation or the after-rollback
// call: CompensationAttemptsFactor times the step's.
func compensationLimit(policy Policy) int32 { return policy.MaxAttempts * CompensationAttemptsFactor }

func call(uid string, step v1.StepName, dir Direction, policy Policy, attempt, limit int32) Decision {
	key := Key(uid, step, dir)
	return Decision{Kind: KindCall, Call: &Call{
		Step:       step,
		Direction:  dir,
		Attempt:    attempt,
		Key:        key,
		Final:      limit > 0 && attempt >= limit,
		RetryAfter: Backoff(policy.InitialBackoff, policy.MaxBackoff, attempt, key),
	}}
}

// forwardLimit is the number of attempts step i gets; 0 means no limit. The pivot, and
// any step that can no longer roll the saga back and is not forward-only, is retried
// until it answers: giving up on the pivot would roll back a saga whose pivot may have
// run, and once it may have run nothing may be rolled back at all.
func forwardLimit(p *Plan, st *v1.SagaStatus, i int) int32 {
	step := p.Steps[i]
	if step.Pivot || (p.noReturn(i, st) && !step.ForwardOnly) {
		return 0
	}
	return step.Policy.MaxAttempts
}

// noReturn reports whether a failure of step i can no longer roll the saga back: the
// step runs after the pivot, or before a pivot that may have run. The second happens
// only after a refused fence turned a rollback forward (turnForward): the steps before
// the pivot are then run again, under their idempotency keys, to read back their first
// answers, which were successes.
func (p *Plan) noReturn(i int, st *v1.SagaStatus) bool {
	return p.afterPivot(i) || (i < p.pivotIndex() && pivotMayHaveRun(p, st))
}

// pivotMayHaveRun: once an attempt of the pivot was recorded, it may have run, and a
// deletion finishes the saga forward instead of undoing it. Without a fence, the attempt
// is stored before the call (KindCheckpoint), so a stored status that shows none proves
// the pivot never ran, whatever writes were lost. With a fence, a stored status may show
// none although the pivot ran; the fence, run first in every rollback, finds that out
// (ADR 0011). A plan without a pivot can always roll back.
func pivotMayHaveRun(p *Plan, st *v1.SagaStatus) bool {
	i := p.pivotIndex()
	if i < 0 {
		return false
	}
	s := stepOf(st, p.Steps[i].Name)
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
