package controllers

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// This file is how a Saga finds its definition and keeps it: resolving the one it names,
// pinning it before the first call, and what a Saga whose definition vanished can do.

// resolve finds what the Saga runs on: the definition it pinned, or, before it started,
// the one its spec names, if that one is Ready and the input satisfies its schema.
func (r *SagaReconciler) resolve(ctx context.Context, obj *v1.Saga) (*sagaOnDefinition, error) {
	run := &sagaOnDefinition{obj: obj, steps: r.Steps}
	name := obj.Spec.DefinitionRef.Name
	if pin := obj.Status.Definition; pin != nil {
		name = pin.Name
	}
	def := &v1.SagaDefinition{}
	err := r.Get(ctx, types.NamespacedName{Namespace: obj.Namespace, Name: name}, def)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("get SagaDefinition %s/%s: %w", obj.Namespace, name, err)
	}
	if obj.Status.Definition != nil {
		return r.resolvePinned(ctx, run, def, err == nil)
	}
	if err != nil {
		def = nil
	}
	return r.resolveNew(ctx, run, def), nil
}

// resolvePinned finds the definition a saga pinned: found, it runs on it; gone, a saga
// that has not started waits like any other, and one that has cannot go on.
func (r *SagaReconciler) resolvePinned(ctx context.Context, run *sagaOnDefinition, def *v1.SagaDefinition, found bool) (*sagaOnDefinition, error) {
	obj := run.obj
	if !found || string(def.UID) != obj.Status.Definition.UID {
		if notStarted(obj) {
			// Pinned, then the definition went before the start was stored. Its controller
			// let it go, so it listed Sagas before this pin was stored, and the check after
			// the pin (or a crash before it) kept any call from being made: the pin is
			// taken back and the saga waits like any other.
			run.unpinned = true
			return run, r.unpin(ctx, obj)
		}
		// A finished saga needs no step; any other cannot go on.
		run.gone = obj.Status.Phase != v1.PhaseCompleted && obj.Status.Phase != v1.PhaseCompensated
		return run, nil
	}
	var err error
	run.program, err = r.programs.get(ctx, def)
	if notStarted(obj) {
		// Until the start is stored, every reconcile checks again that the definition is
		// still there (see pin).
		run.pin = def
	}
	return run, err
}

// resolveNew judges the definition a saga that has not started names (nil: not found):
// it starts on it only if the definition is Ready and staying, and the input satisfies its
// schema; otherwise run.invalid says why, with the field named.
func (r *SagaReconciler) resolveNew(ctx context.Context, run *sagaOnDefinition, def *v1.SagaDefinition) *sagaOnDefinition {
	obj := run.obj
	ref := fmt.Sprintf("spec.definitionRef.name: SagaDefinition %q", obj.Spec.DefinitionRef.Name)
	if def == nil {
		run.invalid = fmt.Sprintf("%s not found in namespace %s", ref, obj.Namespace)
		return run
	}
	ready := meta.FindStatusCondition(def.Status.Conditions, v1.ConditionReady)
	switch {
	case !def.DeletionTimestamp.IsZero():
		run.invalid = ref + " is being deleted"
	case ready == nil || ready.ObservedGeneration != def.Generation || ready.Status != metav1.ConditionTrue:
		run.invalid = ref + " is not Ready"
		if ready != nil && ready.Status == metav1.ConditionFalse {
			run.invalid += ": " + ready.Message
		}
	}
	if run.invalid != "" {
		return run
	}
	program, err := r.programs.get(ctx, def)
	if err != nil {
		run.invalid = ref + " does not compile: " + err.Error()
		return run
	}
	if errs := program.ValidateInput(obj.Spec.Input); len(errs) > 0 {
		run.invalid = errs.ToAggregate().Error()
		return run
	}
	run.program, run.pin = program, def
	return run
}

// pin stores the definition the saga starts on before its first call. The definition's
// controller lets a deleted definition go once no Saga pins it, and may have looked just
// before this pin was stored: so the definition is read again from the API server, and
// the pin is taken back if it is going, before any call is made.
//
// A pin stored by an earlier reconcile is checked again until the start is stored, for a
// crash may have come between the pin and its check; but then only a definition that is
// gone takes it back. One that is merely being deleted stays for this saga (its controller
// saw the pin), and a call may already have been made on it, whose undo needs it.
//
// Every version it writes goes on trail: the pin and its withdrawal are two writes, and
// the next reconcile must not take a cached copy at the pin's version for a current one
// (the reconciler reads a Saga that has not started from the API server besides: see
// Reconcile, and simulator seeds 3040, 3485 and 9526).
func (r *SagaReconciler) pin(ctx context.Context, obj *v1.Saga, def *v1.SagaDefinition, trail *versionTrail) (bool, error) {
	fresh := obj.Status.Definition == nil
	if fresh {
		before := obj.DeepCopy()
		obj.Status.Definition = &v1.PinnedDefinition{Name: def.Name, UID: string(def.UID)}
		if err := writeStatus(ctx, r.Client, before, obj); err != nil {
			if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
				return false, nil
			}
			return false, fmt.Errorf("pin SagaDefinition %s on saga %s/%s: %w", def.Name, obj.Namespace, obj.Name, err)
		}
		trail.add(obj.ResourceVersion)
	}
	live := &v1.SagaDefinition{}
	err := r.APIReader.Get(ctx, client.ObjectKeyFromObject(def), live)
	if err == nil && live.UID == def.UID && (live.DeletionTimestamp.IsZero() || !fresh) {
		return true, nil
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("read SagaDefinition %s/%s again: %w", def.Namespace, def.Name, err)
	}
	return false, r.unpin(ctx, obj)
}

// unpin takes back the pin of a saga that has not started.
func (r *SagaReconciler) unpin(ctx context.Context, obj *v1.Saga) error {
	before := obj.DeepCopy()
	obj.Status.Definition = nil
	if err := writeStatus(ctx, r.Client, before, obj); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
		return fmt.Errorf("unpin the SagaDefinition of saga %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return nil
}

// notStarted: the stored status shows no start, so no call of the saga was recorded;
// and since a call follows the pin's check in the same reconcile, none was made either
// before the definition was known to stay.
func notStarted(obj *v1.Saga) bool {
	return obj.Status.Phase == "" || obj.Status.Phase == v1.PhasePending
}

// definitionGone handles a started Saga whose definition vanished although its finalizer
// should have kept it (someone removed it by hand): no step can be called or undone. The
// saga says so once, in its conditions and a Warning Event; a person who accepts what it
// leaves undone deletes it and sets the abandon annotation, whatever its phase.
func (r *SagaReconciler) definitionGone(ctx context.Context, obj *v1.Saga) (ctrl.Result, error) {
	pin := obj.Status.Definition
	before := obj.DeepCopy()
	now := metav1.NewMicroTime(r.Clock.Now())
	token := saga.RetryToken(obj.Annotations[v1.AbandonAnnotation])
	if !obj.DeletionTimestamp.IsZero() && token != "" && token != obj.Status.LastHandledAbandon {
		undone := leftWithoutPlan(obj)
		obj.Status.LastHandledAbandon = token
		obj.Status.Abandoned = &v1.AbandonStatus{At: now, LeftUndone: undone}
		obj.Status.Message = saga.Truncate(saga.AbandonSummary(undone), maxStatusMessage)
		if err := writeStatus(ctx, r.Client, before, obj); client.IgnoreNotFound(err) != nil {
			return ctrl.Result{}, fmt.Errorf("record the abandonment of saga %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		emit(r.Recorder, obj, []event{{corev1.EventTypeWarning, v1.ReasonAbandoned, "Abandon", obj.Status.Message}})
		return ctrl.Result{}, releaseFinalizer(ctx, r.Client, obj, Finalizer)
	}
	msg := fmt.Sprintf("the SagaDefinition %s (uid %s) this saga started on is gone, so no step can be called or undone: "+
		"restore it, or delete the saga and set the %s annotation to release it with what it did left undone", pin.Name, pin.UID, v1.AbandonAnnotation)
	for _, typ := range []string{v1.ConditionStalled, v1.ConditionReady} {
		status := metav1.ConditionTrue
		if typ == v1.ConditionReady {
			status = metav1.ConditionFalse
		}
		meta.SetStatusCondition(&obj.Status.Conditions, metav1.Condition{Type: typ, Status: status, Reason: EventDefinitionGone,
			Message: msg, ObservedGeneration: obj.Generation, LastTransitionTime: metav1.NewTime(now.Time)})
	}
	meta.RemoveStatusCondition(&obj.Status.Conditions, v1.ConditionReconciling)
	obj.Status.Message = saga.Truncate(msg, maxStatusMessage)
	if equality.Semantic.DeepEqual(before.Status, obj.Status) {
		return ctrl.Result{RequeueAfter: definitionGoneRecheck}, nil
	}
	if err := writeStatus(ctx, r.Client, before, obj); client.IgnoreNotFound(err) != nil && !apierrors.IsConflict(err) {
		return ctrl.Result{}, fmt.Errorf("write status of saga %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	emit(r.Recorder, obj, []event{{corev1.EventTypeWarning, EventDefinitionGone, "Reconcile", msg}})
	return ctrl.Result{RequeueAfter: definitionGoneRecheck}, nil
}

// maxStatusMessage bounds status.message (the CRD allows 1024).
const maxStatusMessage = 1024

// leftWithoutPlan lists what a saga whose definition is gone may leave: every step that
// was called and not compensated, with the key its service knows it by.
func leftWithoutPlan(obj *v1.Saga) []v1.UndoneStep {
	var out []v1.UndoneStep
	for _, s := range obj.Status.Steps {
		if s.Attempts == 0 || s.State == v1.StepCompensated {
			continue
		}
		u := v1.UndoneStep{Name: s.Name, State: s.State, IdempotencyKey: saga.Key(string(obj.UID), s.Name, saga.Action)}
		if len(s.Outputs) == 1 {
			for _, id := range s.Outputs {
				u.ResourceID = id
			}
		}
		if s.Compensation != nil {
			u.CompensationError = s.Compensation.LastError
		}
		out = append(out, u)
	}
	return out
}

// programCache keeps each definition compiled once: a definition's spec is immutable, so
// its UID names its program.
type programCache struct {
	mu       sync.Mutex
	programs map[types.UID]*sagadef.Program
}

func (c *programCache) get(ctx context.Context, def *v1.SagaDefinition) (*sagadef.Program, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.programs[def.UID]; ok {
		return p, nil
	}
	p, err := sagadef.Compile(ctx, &def.Spec)
	if err != nil {
		return nil, fmt.Errorf("compile SagaDefinition %s/%s: %w", def.Namespace, def.Name, err)
	}
	if c.programs == nil {
		c.programs = map[types.UID]*sagadef.Program{}
	}
	c.programs[def.UID] = p
	return p, nil
}
