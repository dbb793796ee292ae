package sagasim

import (
	"context"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// What happens to the definition in Saga mode: a user may delete it at any moment; its
// controller, which runs beside the Saga controller, then keeps it while a Saga runs on
// it, and lets it go after. Every function here does nothing in OrderSaga mode.
//
// Caveats: before it is deleted, the definition's controller is not run on the watch
// events that would wake it (a Saga's phase change, a restart): it would find the
// finalizer and Ready condition in place and change nothing, and each run compiles the
// definition, which costs more than a whole OrderSaga schedule.

// definitionMeanwhile is what befalls the definition while a Saga is written: a user
// deletes it; or, once it is being deleted, its controller runs between the Saga
// reconciler's reads and this write, as the two controllers run concurrently. The write
// of a Saga that pins the definition is where the pin's protocol (pin, then read the
// definition again) must hold against the definition's controller.
func (s *sim) definitionMeanwhile(ctx context.Context, when string) {
	d := s.def
	if d == nil {
		return
	}
	if !d.deleted && s.draw(s.faults.definition) == definitionDeleted {
		s.deleteDefinition(ctx, when)
	}
	if d.deleted && s.definitionObject(ctx) != nil && s.draw(s.faults.definitionActs) == definitionReconciled {
		s.trace.addf("definition %s: its controller runs %s", definitionName, when)
		s.reconciles++
		res, err := s.reconcileDefinition(ctx)
		if !s.proc.dead {
			s.requeue(definitionKey, res, err)
		}
	}
}

// deleteDefinition deletes the definition as kubectl delete would.
func (s *sim) deleteDefinition(ctx context.Context, when string) {
	obj := s.definitionObject(ctx)
	if obj == nil {
		return
	}
	if err := s.api.store.Delete(ctx, obj); err != nil {
		s.trace.addf("definition %s: user delete refused: %v", definitionName, err)
		return
	}
	s.def.deleted = true
	s.trace.addf("definition %s: user deletes it %s", definitionName, when)
	s.definitionChanged(ctx)
}

// touchDefinition is a user's label change to the definition, which bumps its
// resourceVersion, so that a write of its controller in flight conflicts.
func (s *sim) touchDefinition(ctx context.Context, when string) {
	obj := s.definitionObject(ctx)
	if obj == nil {
		return
	}
	setLabel(obj, "example.com/touched", s.api.nextToken())
	if err := s.api.store.Update(ctx, obj); err != nil {
		s.trace.addf("definition %s: user update refused: %v", definitionName, err)
		return
	}
	s.trace.addf("definition %s: user changes a label %s", definitionName, when)
	s.definitionChanged(ctx)
}

// definitionChanged delivers the watch events of a change to the definition: its own
// controller wakes (once it is being deleted), and so does every Saga that names it and
// has not started (SagaReconciler's sagasNaming).
func (s *sim) definitionChanged(ctx context.Context) {
	if s.def == nil {
		return
	}
	if s.def.deleted && s.definitionObject(ctx) != nil {
		s.enqueue(definitionKey, s.clock.Now())
	}
	for _, obj := range s.api.store.stored(resourceOf(&v1.Saga{}).Resource) {
		if asSaga(obj).Status.Definition == nil {
			s.enqueue(obj.GetName(), s.clock.Now())
		}
	}
}

// sagaChanged delivers a Saga's watch event to the definition's controller, which wakes
// when a Saga changes phase or goes (sagaLetGo), once the definition is being deleted;
// obj is the Saga as stored, nil once it is gone. It also traces the Saga's pin.
func (s *sim) sagaChanged(name string, obj client.Object) {
	d := s.def
	if d == nil {
		return
	}
	exists, phase, pinned := obj != nil, v1.Phase(""), false
	if exists {
		sg := asSaga(obj)
		phase, pinned = sg.Status.Phase, sg.Status.Definition != nil
	}
	if exists && pinned != d.pinned[name] {
		s.trace.addf("%s: pin of definition %s %s", name, definitionName, map[bool]string{true: "stored", false: "removed"}[pinned])
	}
	d.pinned[name] = pinned
	last, seen := d.phases[name]
	switch {
	case !exists && !seen, exists && seen && last == phase:
		return
	case !exists:
		delete(d.phases, name)
	case !seen: // a creation: sagaLetGo passes none
		d.phases[name] = phase
		return
	default:
		d.phases[name] = phase
	}
	if d.deleted {
		s.enqueue(definitionKey, s.clock.Now())
	}
}

// definitionRestarted is the first list of a manager that starts: it wakes the
// definition's controller, once the definition is being deleted.
func (s *sim) definitionRestarted(ctx context.Context) {
	if s.def != nil && s.def.deleted && s.definitionObject(ctx) != nil {
		s.enqueue(definitionKey, s.clock.Now())
	}
}

// deleteStranded deletes, as a person would once the faults stop, the Sagas that have
// not started while their definition is being deleted or gone: an unpinned one can never
// start, and a pinned one may be unpinned before it does. Whatever such a saga did before
// its start was stored must be undone, or nothing was done.
func (s *sim) deleteStranded(ctx context.Context) {
	if s.def == nil || !s.def.deleted {
		return
	}
	for _, sg := range s.sagas {
		obj, ok := s.api.raw(ctx, sg.Name)
		if !ok {
			continue
		}
		if phase := asSaga(obj).Status.Phase; phase == "" || phase == v1.PhasePending {
			s.userDelete(ctx, sg.Name, ": it has not started, and its definition is deleted")
		}
	}
}

// runningOnDefinition names the Sagas that pinned the definition and may still call its
// steps: every one not Completed or Compensated.
func (s *sim) runningOnDefinition() []string {
	var running []string
	for _, obj := range s.api.store.stored(resourceOf(&v1.Saga{}).Resource) {
		sg := asSaga(obj)
		pin := sg.Status.Definition
		if pin != nil && pin.UID == definitionUID && sg.Status.Phase != v1.PhaseCompleted && sg.Status.Phase != v1.PhaseCompensated {
			running = append(running, sg.Name+" ("+string(sg.Status.Phase)+")")
		}
	}
	return running
}

// checkDefinitionKept: when the definition is first seen gone, no Saga runs on it.
func (s *sim) checkDefinitionKept() {
	if s.def.released {
		return
	}
	s.def.released = true
	if running := s.runningOnDefinition(); len(running) > 0 {
		s.violatef(invDefinitionKept, "definition %s went while Sagas still run on it: %s", definitionName, strings.Join(running, ", "))
	}
}

// checkDefinitionReleased: once every saga ended, a deleted definition goes at its
// controller's next run.
func (s *sim) checkDefinitionReleased(ctx context.Context) {
	if s.def == nil || !s.def.deleted || s.definitionObject(ctx) == nil || len(s.runningOnDefinition()) > 0 {
		return
	}
	s.reconcile(ctx, definitionKey)
	if obj := s.definitionObject(ctx); obj != nil {
		why := "no Ready condition"
		if ready := meta.FindStatusCondition(obj.Status.Conditions, v1.ConditionReady); ready != nil {
			why = ready.Message
		}
		s.violatef(invDefinitionKept, "definition %s: deleted, and no Saga runs on it, yet it is still there: %s", definitionName, why)
	}
}
