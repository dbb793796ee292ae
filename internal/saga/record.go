package saga

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Record writes decision d, and the outcome of its call when it made one, into st, the
// status of a saga that runs plan p. Outcome-driven transitions happen here: a business
// failure or an exhausted step starts the rollback, an exhausted compensation fails the
// saga.
func Record(p *Plan, st *v1.SagaStatus, d Decision, out Outcome, now time.Time) {
	t := metav1.NewMicroTime(now)
	if st.Phase == "" { // first, so that the decision's own conditions win
		st.Phase = v1.PhasePending
		setSucceeded(st, metav1.ConditionUnknown, v1.ReasonPending, "the saga has not started", t)
	}
	switch d.Kind {
	case KindStart:
		start(p, st, t)
	case KindCall:
		recordCall(p, st, *d.Call, out, t)
	case KindCheckpoint:
		// A step's action (the pivot's) is recorded as under way; the checkpoint of a
		// compensation or of the after-rollback call stores the rollback already recorded.
		if _, isStep := p.Step(d.Call.Step); isStep && d.Call.Direction == Action {
			recordIntent(p, st, *d.Call, t)
		}
	case KindRollback:
		beginRollback(p, st, failureAt(st, d.Reason, d.Message), true, t)
	case KindRedrive:
		redrive(st, d.RetryToken, t)
	case KindFinish:
		finish(st, d, t)
	case KindAbandon:
		abandon(st, d, t)
	case KindIgnoreAbandon:
		st.LastHandledAbandon = d.RetryToken
	default: // Wait, Hold, Done, Release and Delete change no step; the conditions below still follow
	}
	if d.Kind == KindHold && d.Message != "" {
		invalid(st, d.Message, t)
	}
	recordSuspended(st, d, t)
	setReadiness(st, t)
}

// invalid makes a spec the engine cannot run visible; only objects that bypassed the
// CRD's validation get here.
func invalid(st *v1.SagaStatus, msg string, t metav1.MicroTime) {
	st.Message = Truncate("the spec cannot be run: "+msg, maxMessage)
	setSucceeded(st, metav1.ConditionFalse, v1.ReasonInvalidSpec, st.Message, t)
}

func start(p *Plan, st *v1.SagaStatus, t metav1.MicroTime) {
	st.Phase = v1.PhaseRunning
	st.StartedAt = &t
	st.Steps = make([]v1.SagaStepStatus, 0, len(p.Steps))
	for _, step := range p.Steps {
		st.Steps = append(st.Steps, v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: step.Name, State: v1.StepPending}})
	}
	st.CurrentStep = p.Steps[0].Name
	st.Message = "started"
	setSucceeded(st, metav1.ConditionUnknown, v1.ReasonProgressing, "the saga is running", t)
}

// recordIntent marks a step's next attempt as under way before it is made. Attempts
// still counts the calls that were made, so that Events and the retry limit see no call.
func recordIntent(p *Plan, st *v1.SagaStatus, c Call, t metav1.MicroTime) {
	s := stepEntry(p, st, c.Step)
	s.State, s.NextAttemptAt = v1.StepRunning, nil
	if s.StartedAt == nil {
		s.StartedAt = &t
	}
	st.CurrentStep, st.Attempts = c.Step, c.Attempt
	st.Message = fmt.Sprintf("%s attempt %d recorded before it is made", c.Step, c.Attempt)
	setSucceeded(st, metav1.ConditionUnknown, v1.ReasonProgressing, st.Message, t)
}

func recordCall(p *Plan, st *v1.SagaStatus, c Call, out Outcome, t metav1.MicroTime) {
	switch {
	case p.AfterRollback != nil && c.Step == p.AfterRollback.Name:
		st.OnRollback = recordRetryable(st.OnRollback, c, out, t)
	case c.Direction == Compensate:
		recordCompensation(p, st, c, out, t)
	default:
		recordAction(p, st, c, out, t)
	}
}

func recordAction(p *Plan, st *v1.SagaStatus, c Call, out Outcome, t metav1.MicroTime) {
	s := stepEntry(p, st, c.Step)
	s.Attempts = c.Attempt
	if s.StartedAt == nil {
		s.StartedAt = callStart(t, out)
	}
	st.CurrentStep, st.Attempts = c.Step, c.Attempt
	s.NextAttemptAt = nil
	if out.Kind == Succeeded {
		s.State, s.FinishedAt = v1.StepSucceeded, &t
		s.Outputs = mergeOutputs(s.Outputs, out.Outputs)
		if out.Code != "" { // a success with a warning (an output the step could not read) stays in sight
			s.LastError = Truncate(out.Failure(), v1.MaxErrorLength)
		}
		st.Message = string(c.Step) + " succeeded"
		setSucceeded(st, metav1.ConditionUnknown, v1.ReasonProgressing, st.Message, t)
		return
	}
	s.LastError = Truncate(out.Failure(), v1.MaxErrorLength)
	if out.Kind != BusinessFailure && !c.Final { // an outcome of unknown kind is treated as transient
		s.State = v1.StepRunning
		next := metav1.NewMicroTime(t.Add(c.RetryAfter))
		s.NextAttemptAt = &next
		st.Message = Truncate(fmt.Sprintf("%s attempt %d failed (%s); retrying in %s",
			c.Step, c.Attempt, out.Code, c.RetryAfter.Round(time.Millisecond)), maxMessage)
		setSucceeded(st, metav1.ConditionUnknown, v1.ReasonStepBackoff, st.Message, t)
		return
	}
	s.State, s.FinishedAt = v1.StepFailed, &t
	if i := p.index(c.Step); i < len(p.Steps) && (p.Steps[i].ForwardOnly || p.noReturn(i, st)) {
		return // no rollback: Next goes on, and the saga finishes Completed with the failure visible
	}
	reason, msg := p.reasonFor(out), fmt.Sprintf("%s failed: %s", c.Step, s.LastError)
	if out.Kind != BusinessFailure {
		msg = fmt.Sprintf("%s failed %d times: %s", c.Step, c.Attempt, s.LastError)
	}
	// A business failure is the step's first answer, replayed: no later step can have
	// run. A step that gave up on transient failures may have succeeded in a run whose
	// status write was lost, and the steps after it with it, so all are undone.
	beginRollback(p, st, v1.FailureStatus{Step: c.Step, Reason: reason, Message: Truncate(msg, v1.MaxErrorLength)}, out.Kind != BusinessFailure, t)
}

func recordCompensation(p *Plan, st *v1.SagaStatus, c Call, out Outcome, t metav1.MicroTime) {
	if p.fenceRefused(c, out) {
		turnForward(p, st, c, out, t)
		return
	}
	s := stepEntry(p, st, c.Step)
	s.Compensation = recordRetryable(s.Compensation, c, out, t)
	st.CurrentStep, st.Attempts = c.Step, c.Attempt
	switch s.Compensation.State {
	case v1.CallSucceeded:
		s.State = v1.StepCompensated
		// An undo that found what it undid (not a tombstone) proves the step ran,
		// even when the write that recorded its outputs was lost.
		s.Outputs = mergeOutputs(s.Outputs, out.Outputs)
		st.Message = "compensated " + string(c.Step)
	case v1.CallFailed:
		s.State = v1.StepCompensating
		failSaga(st, c, out, t)
	default:
		s.State = v1.StepCompensating
		st.Message = Truncate(fmt.Sprintf("compensation of %s attempt %d failed (%s); retrying in %s",
			c.Step, c.Attempt, out.Code, c.RetryAfter.Round(time.Millisecond)), maxMessage)
	}
}

// recordRetryable updates the record of a compensation or the after-rollback call with one
// call's outcome.
func recordRetryable(cs *v1.CallStatus, c Call, out Outcome, t metav1.MicroTime) *v1.CallStatus {
	if cs == nil {
		cs = &v1.CallStatus{}
	}
	cs.Attempts = c.Attempt
	if cs.StartedAt == nil {
		cs.StartedAt = callStart(t, out)
	}
	cs.NextAttemptAt = nil
	switch {
	case out.Kind == Succeeded:
		cs.State, cs.FinishedAt = v1.CallSucceeded, &t
	case out.Kind != BusinessFailure && !c.Final:
		cs.State = v1.CallRunning
		cs.LastError = Truncate(out.Failure(), v1.MaxErrorLength)
		next := metav1.NewMicroTime(t.Add(c.RetryAfter))
		cs.NextAttemptAt = &next
	default:
		cs.State, cs.FinishedAt = v1.CallFailed, &t
		cs.LastError = Truncate(out.Failure(), v1.MaxErrorLength)
	}
	return cs
}

// beginRollback marks what to compensate: the compensable steps that ran or may have
// run. With all, that is every compensable step (all of them come before the pivot): on deletion, because the status write that would
// have recorded the last calls is the one most likely to be lost (deletion changes the
// object under a reconcile in flight), and after a step gave up on transient failures,
// because an earlier run may have gone further than status shows. Compensating a step
// that never ran is a no-op that leaves a tombstone, so a late action is refused.
func beginRollback(p *Plan, st *v1.SagaStatus, cause v1.FailureStatus, all bool, t metav1.MicroTime) {
	st.Phase = v1.PhaseCompensating
	st.Failure = &cause
	for _, step := range p.Steps {
		s := stepEntry(p, st, step.Name)
		switch {
		case step.Compensable && (all || p.isFence(step.Name) || s.Attempts > 0):
			if s.Compensation == nil {
				s.Compensation = &v1.CallStatus{State: v1.CallPending}
			}
		case s.State == v1.StepPending:
			s.State = v1.StepSkipped
		}
	}
	st.Message = Truncate("rolling back: "+cause.Message, maxMessage)
	setSucceeded(st, metav1.ConditionUnknown, v1.ReasonCompensating, st.Message, t)
}

// turnForward records the fence's refusal: the pivot ran, in a batch whose status write
// was lost, so the rollback stops before it undid anything (the fence runs first) and the
// saga goes forward. The pivot is recorded as under way, which is what stops a deletion
// from rolling back again (pivotMayHaveRun); the steps before it that status does not
// show as succeeded run again under their idempotency keys, which answer with their first
// results, and so do the pivot and the steps after it. No compensation record is kept:
// none ran, and the fence's refusal changed nothing.
func turnForward(p *Plan, st *v1.SagaStatus, c Call, out Outcome, t metav1.MicroTime) {
	pivot := p.pivotIndex()
	for i, step := range p.Steps {
		s := stepEntry(p, st, step.Name)
		s.Compensation = nil
		switch {
		case i <= pivot && s.State != v1.StepSucceeded:
			s.State, s.NextAttemptAt, s.FinishedAt = v1.StepRunning, nil, nil
		case s.State == v1.StepSkipped:
			s.State = v1.StepPending
		}
	}
	st.Phase, st.FinishedAt, st.Failure, st.OnRollback = v1.PhaseRunning, nil, nil, nil
	st.CurrentStep, st.Attempts = p.Steps[pivot].Name, 0
	st.Message = Truncate(fmt.Sprintf("the rollback's first compensation, of %s, was refused (%s): %s ran, so the saga goes forward",
		c.Step, out.Failure(), p.Steps[pivot].Name), maxMessage)
	setSucceeded(st, metav1.ConditionUnknown, v1.ReasonProgressing, st.Message, t)
}

func failSaga(st *v1.SagaStatus, c Call, out Outcome, t metav1.MicroTime) {
	reason := v1.ReasonCompensationExhausted
	msg := fmt.Sprintf("compensation of %s gave up after %d attempts (%s)", c.Step, c.Attempt, out.Failure())
	if out.Kind == BusinessFailure {
		reason = v1.ReasonCompensationRejected
		msg = fmt.Sprintf("compensation of %s was refused (%s)", c.Step, out.Failure())
	}
	st.Phase, st.FinishedAt = v1.PhaseFailed, &t
	st.Message = Truncate(msg+"; fix the cause, then set the "+v1.RetryAnnotation+
		" annotation to retry (or, to give up, delete the saga and set "+v1.AbandonAnnotation+")", maxMessage)
	setSucceeded(st, metav1.ConditionFalse, reason, st.Message, t)
}

func redrive(st *v1.SagaStatus, token string, t metav1.MicroTime) {
	for i := range st.Steps {
		if c := st.Steps[i].Compensation; c != nil && c.State == v1.CallFailed {
			c.State, c.Attempts, c.FinishedAt, c.NextAttemptAt = v1.CallRunning, 0, nil, nil
		}
	}
	st.Phase, st.FinishedAt, st.LastHandledRetry = v1.PhaseCompensating, nil, RetryToken(token)
	st.Message = "re-driven by the " + v1.RetryAnnotation + " annotation"
	setSucceeded(st, metav1.ConditionUnknown, v1.ReasonRedriven, st.Message, t)
}

func finish(st *v1.SagaStatus, d Decision, t metav1.MicroTime) {
	st.Phase, st.FinishedAt, st.Attempts = d.Phase, &t, 0
	if d.Phase == v1.PhaseCompleted {
		st.CurrentStep = ""
		st.Message = Truncate(d.Message, maxMessage)
		setSucceeded(st, metav1.ConditionTrue, d.Reason, st.Message, t)
		return
	}
	cause := v1.FailureStatus{Reason: v1.ReasonStepRejected}
	if st.Failure != nil {
		cause = *st.Failure
	}
	st.CurrentStep = cause.Step
	st.Message = Truncate("rolled back: "+cause.Message, maxMessage)
	setSucceeded(st, metav1.ConditionFalse, cause.Reason, st.Message, t)
}

func recordSuspended(st *v1.SagaStatus, d Decision, t metav1.MicroTime) {
	if d.Suspended {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionSuspended, Status: metav1.ConditionTrue,
			Reason: v1.ReasonSuspended, Message: "spec.suspend is true: no new calls are made", LastTransitionTime: metav1.NewTime(t.Time)})
		return
	}
	if meta.IsStatusConditionTrue(st.Conditions, v1.ConditionSuspended) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionSuspended, Status: metav1.ConditionFalse,
			Reason: v1.ReasonResumed, Message: "new calls are allowed again", LastTransitionTime: metav1.NewTime(t.Time)})
	}
}

// failureAt is the cause of a deletion rollback: the step in flight, if any.
func failureAt(st *v1.SagaStatus, reason, msg string) v1.FailureStatus {
	return v1.FailureStatus{Step: st.CurrentStep, Reason: reason, Message: Truncate(msg, v1.MaxErrorLength)}
}

func setSucceeded(st *v1.SagaStatus, status metav1.ConditionStatus, reason, msg string, t metav1.MicroTime) {
	meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: v1.ConditionSucceeded, Status: status,
		Reason: reason, Message: Truncate(msg, maxMessage), LastTransitionTime: metav1.NewTime(t.Time)})
}

// callStart is when a call that ended at t began.
func callStart(t metav1.MicroTime, out Outcome) *metav1.MicroTime {
	start := metav1.NewMicroTime(t.Add(-out.Took))
	return &start
}

// mergeOutputs adds the values of out to kept, bounded: at most v1.MaxOutputs names
// (the first in name order win), each value at most v1.MaxOutputLength bytes. Empty
// values are left out, so that a later answer never erases an identifier.
func mergeOutputs(kept, out map[string]string) map[string]string {
	for _, name := range slices.Sorted(maps.Keys(out)) {
		value := out[name]
		if name == "" || value == "" || len(name) > maxOutputName {
			continue
		}
		if _, ok := kept[name]; !ok && len(kept) >= v1.MaxOutputs {
			continue
		}
		if kept == nil {
			kept = map[string]string{}
		}
		kept[name] = Truncate(value, v1.MaxOutputLength)
	}
	return kept
}

// maxOutputName bounds an output's name, as a step name is bounded.
const maxOutputName = 63

// stepEntry returns the status entry of a step, adding it in plan order if missing.
func stepEntry(p *Plan, st *v1.SagaStatus, name v1.StepName) *v1.SagaStepStatus {
	for i := range st.Steps {
		if st.Steps[i].Name == name {
			return &st.Steps[i]
		}
	}
	at := len(st.Steps)
	for i := range st.Steps {
		if p.index(st.Steps[i].Name) > p.index(name) {
			at = i
			break
		}
	}
	entry := v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name, State: v1.StepPending}}
	st.Steps = slices.Insert(st.Steps, at, entry)
	return &st.Steps[at]
}

// reasonFor maps a failed outcome to the condition reason people and scripts read: the
// plan's reason for the service's code, RetriesExhausted for a transient failure.
func (p *Plan) reasonFor(out Outcome) string {
	if out.Kind == Transient {
		return v1.ReasonRetriesExhausted
	}
	return cmp.Or(p.Reasons[out.Code], v1.ReasonStepRejected)
}

// maxMessage bounds status.message and condition messages (the CRD allows 1024).
const maxMessage = 1024

// Truncate bounds s to at most limit bytes without splitting a UTF-8 character, marking
// the cut with an ellipsis when there is room for one.
func Truncate(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := limit - len("…")
	if cut < 0 {
		cut = limit
		for cut > 0 && !utf8RuneStart(s[cut]) {
			cut--
		}
		return s[:cut]
	}
	for cut > 0 && !utf8RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
