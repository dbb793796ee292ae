package controllers

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// Event reasons for step-level transitions; saga-level Events reuse the condition
// reasons of api/v1alpha1.
const (
	EventStepSucceeded         = "StepSucceeded"
	EventStepRetrying          = "StepRetrying"
	EventStepFailed            = "StepFailed"
	EventCompensationSucceeded = "CompensationSucceeded"
	EventCompensationRetrying  = "CompensationRetrying"
	// EventCancellationNoticeFailed: the customer was not told that the order is off.
	EventCancellationNoticeFailed = "CancellationNoticeFailed"
	// EventOnRollbackFailed: a Saga's onRollback call gave up.
	EventOnRollbackFailed = "OnRollbackFailed"
	// EventPivotRan: the rollback's fence was refused because the pivot had run, so the
	// saga goes forward instead (ADR 0011).
	EventPivotRan = "PivotRan"
)

// vocabulary is what Events say that depends on the kind of saga.
type vocabulary struct {
	// completed is the message of a Completed saga's Event.
	completed func(st *v1.SagaStatus) string
	// afterRollbackFailed is the reason, and afterRollbackWhat the subject, of the
	// Warning Event when the plan's after-rollback call gave up.
	afterRollbackFailed, afterRollbackWhat string
}

// orderEvents is the vocabulary of OrderSaga's Events.
func orderEvents() vocabulary {
	return vocabulary{
		completed: func(st *v1.SagaStatus) string {
			created := stepIn(st, v1.StepCreateOrder).Outputs
			return fmt.Sprintf("order %s completed, total %s", created["orderId"], created["total"])
		},
		afterRollbackFailed: EventCancellationNoticeFailed,
		afterRollbackWhat:   "the order-cancelled notice",
	}
}

// event is an Event to emit once the status write that records it has landed.
type event struct {
	kind, reason, action, message string
}

// transitions lists the Events for people of one recorded decision: Normal for
// milestones, Warning when a person should look. The reconciler collects them after each
// Record, because one reconcile may pass several transitions before its single write.
func transitions(plan *saga.Plan, before, after *v1.SagaStatus, words vocabulary) []event {
	var out []event
	// The action names the step, so that the events recorder, which merges Events of the
	// same object, reason and action into one series, keeps each step's Event apart.
	adder := func(action string) addFunc {
		return func(kind, reason, format string, args ...any) {
			out = append(out, event{kind, reason, action, fmt.Sprintf(format, args...)})
		}
	}
	for _, s := range after.Steps {
		old := stepIn(before, s.Name)
		if s.State != old.State || s.Attempts != old.Attempts {
			stepEvent(adder(string(s.Name)), old.StepStatus, s.StepStatus)
		}
		if c := s.Compensation; c != nil && (old.Compensation == nil || old.Compensation.State != c.State || old.Compensation.Attempts != c.Attempts) {
			compensationEvent(adder("Compensate"+string(s.Name)), s.StepStatus)
		}
	}
	if n := after.OnRollback; n != nil && n.State == v1.CallFailed && (before.OnRollback == nil || before.OnRollback.State != v1.CallFailed) && plan.AfterRollback != nil {
		adder(string(plan.AfterRollback.Name))(corev1.EventTypeWarning, words.afterRollbackFailed,
			"%s could not be sent after %d attempt(s): %s", words.afterRollbackWhat, n.Attempts, n.LastError)
	}
	if after.Phase != before.Phase || after.LastHandledRetry != before.LastHandledRetry {
		phaseEvent(adder("Reconcile"), before, after, words)
	}
	suspendEvent(adder("Reconcile"), before, after)
	if after.Abandoned != nil && before.Abandoned == nil {
		adder("Abandon")(corev1.EventTypeWarning, v1.ReasonAbandoned, "%s", after.Message) // the summary, and any warning after it
	}
	return out
}

type addFunc func(kind, reason, format string, args ...any)

func stepEvent(add addFunc, old, s v1.StepStatus) {
	switch s.State {
	case v1.StepSucceeded:
		// A step that succeeds at its first try is no news to a person: the status records
		// it, and the saga's phase Event sums it up. Events were most of the API server's
		// writes per saga (ADR 0007), so only a success that ends a run of StepRetrying
		// Warnings gets one.
		if s.Attempts > 1 {
			add(corev1.EventTypeNormal, EventStepSucceeded, "%s succeeded after %d attempt(s)", s.Name, s.Attempts)
		}
	case v1.StepRunning:
		if s.Attempts > old.Attempts && s.LastError != "" {
			add(corev1.EventTypeWarning, EventStepRetrying, "%s attempt %d failed: %s", s.Name, s.Attempts, s.LastError)
		}
	case v1.StepFailed:
		add(corev1.EventTypeWarning, EventStepFailed, "%s failed after %d attempt(s): %s", s.Name, s.Attempts, s.LastError)
	default: // compensation and skipping have Events of their own (compensationEvent, phaseEvent)
	}
}

func compensationEvent(add addFunc, s v1.StepStatus) {
	c := s.Compensation
	switch c.State {
	case v1.CallSucceeded:
		add(corev1.EventTypeNormal, EventCompensationSucceeded, "compensated %s after %d attempt(s)", s.Name, c.Attempts)
	case v1.CallRunning:
		if c.LastError != "" && c.Attempts > 0 {
			add(corev1.EventTypeWarning, EventCompensationRetrying, "compensation of %s attempt %d failed: %s", s.Name, c.Attempts, c.LastError)
		}
	default: // Pending is no news; Failed fails the saga, whose phase Event says why
	}
}

func phaseEvent(add addFunc, before, after *v1.SagaStatus, words vocabulary) {
	switch {
	case after.LastHandledRetry != before.LastHandledRetry:
		add(corev1.EventTypeNormal, v1.ReasonRedriven, "re-driven by the %s annotation", v1.RetryAnnotation)
	case after.Phase == v1.PhaseRunning && before.Phase == v1.PhaseCompensating:
		add(corev1.EventTypeWarning, EventPivotRan, "%s", after.Message)
	case after.Phase == v1.PhaseCompensating:
		add(corev1.EventTypeWarning, v1.ReasonCompensating, "%s", after.Message)
	case after.Phase == v1.PhaseCompleted:
		if toldAStory(after) {
			add(corev1.EventTypeNormal, conditionReason(after), "%s", words.completed(after))
		}
	case after.Phase == v1.PhaseCompensated:
		add(corev1.EventTypeNormal, conditionReason(after), "%s", after.Message)
	case after.Phase == v1.PhaseFailed:
		add(corev1.EventTypeWarning, conditionReason(after), "%s", after.Message)
	}
}

// toldAStory reports whether a Completed saga's earlier Events need an ending: it did not
// complete cleanly (a forward-only step after the pivot failed: NotificationFailed), a step
// needed more than one attempt (StepRetrying Warnings), the saga was re-driven, or it was
// suspended and resumed. A saga that went straight through gets no Event, as its steps get
// none (stepEvent): at order rates one Event each was a third of the API server's writes
// per saga, and the events recorder keeps each one in memory for up to 12 minutes (ADR
// 0010). Its status, kubectl get and ordersaga_sagas_finished_total say it completed.
func toldAStory(st *v1.SagaStatus) bool {
	if conditionReason(st) != v1.ReasonCompleted || st.LastHandledRetry != "" {
		return true
	}
	if c := meta.FindStatusCondition(st.Conditions, v1.ConditionSuspended); c != nil && c.Reason == v1.ReasonResumed {
		return true
	}
	for _, s := range st.Steps {
		if s.Attempts > 1 {
			return true
		}
	}
	return false
}

func suspendEvent(add addFunc, before, after *v1.SagaStatus) {
	was := meta.IsStatusConditionTrue(before.Conditions, v1.ConditionSuspended)
	is := meta.IsStatusConditionTrue(after.Conditions, v1.ConditionSuspended)
	switch {
	case is && !was:
		add(corev1.EventTypeNormal, v1.ReasonSuspended, "suspended: no new calls until spec.suspend is false")
	case was && !is:
		add(corev1.EventTypeNormal, v1.ReasonResumed, "resumed")
	}
}

func conditionReason(st *v1.SagaStatus) string {
	if c := meta.FindStatusCondition(st.Conditions, v1.ConditionSucceeded); c != nil {
		return c.Reason
	}
	return string(st.Phase)
}

func stepIn(st *v1.SagaStatus, name v1.StepName) v1.SagaStepStatus {
	for _, s := range st.Steps {
		if s.Name == name {
			return s
		}
	}
	return v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name}}
}

// coalesceSuccesses merges consecutive StepSucceeded Events into one that names every
// step: several steps that each needed retries may succeed within one status write.
func coalesceSuccesses(events []event) []event {
	var out []event
	for _, e := range events {
		if n := len(out); n > 0 && e.reason == EventStepSucceeded && out[n-1].reason == EventStepSucceeded {
			out[n-1].action = "Steps"
			out[n-1].message += "; " + e.message
			continue
		}
		out = append(out, e)
	}
	return out
}
