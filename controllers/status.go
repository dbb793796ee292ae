package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// written is a batch ready to be stored: the object as the reconcile read it and as the
// batch left it, whether its status changed, the last decision and the Events to emit.
type written struct {
	before, obj client.Object
	changed     bool
	last        saga.Decision
	events      []event
}

// storeResult says how a batch's status write went.
type storeResult int

const (
	stored     storeResult = iota // written, or nothing to write
	conflicted                    // the object changed meanwhile; reconcile it again
	vanished                      // the object is gone
	unwritten                     // the write failed; the error says why
)

// store writes the status once, if it changed, then emits the Events of the transitions,
// then acts on the last decision: release the finalizer or delete the saga.
//
// The patch carries the resourceVersion the reconcile started from. A conflict means the
// object changed meanwhile: the write is dropped and store reports it, so that the saga
// is reconciled again from the stored version, repeating any unrecorded calls with the
// same idempotency keys.
func store(ctx context.Context, c client.Client, recorder events.EventRecorder, w written) (storeResult, error) {
	obj := w.obj
	if w.changed {
		err := writeStatus(ctx, c, w.before, obj)
		switch {
		case apierrors.IsNotFound(err):
			return vanished, nil
		case apierrors.IsConflict(err):
			logf.FromContext(ctx).V(1).Info("status write dropped; reconciling the newer version", "reason", err.Error())
			return conflicted, nil
		case err != nil:
			return unwritten, fmt.Errorf("write status of %s/%s: %w", obj.GetNamespace(), obj.GetName(), err)
		}
		emit(recorder, obj, w.events)
	}
	switch w.last.Kind {
	case saga.KindRelease, saga.KindAbandon:
		return stored, releaseFinalizer(ctx, c, obj, Finalizer)
	case saga.KindDelete:
		uid, rv := obj.GetUID(), obj.GetResourceVersion()
		err := c.Delete(ctx, obj, client.Preconditions{UID: &uid, ResourceVersion: &rv})
		if client.IgnoreNotFound(err) != nil {
			return stored, fmt.Errorf("delete finished saga %s/%s after its TTL: %w", obj.GetNamespace(), obj.GetName(), err)
		}
	default: // the status write was all
	}
	return stored, nil
}

// finish stamps the generation on the OrderSaga's status, stores the batch, and counts the
// saga in the metrics.
func (r *OrderSagaReconciler) finish(ctx context.Context, before, obj *v1.OrderSaga, last saga.Decision, events []event) (conflict bool, _ error) {
	obj.Status.ObservedGeneration = obj.Generation
	for i := range obj.Status.Conditions {
		obj.Status.Conditions[i].ObservedGeneration = obj.Generation
	}
	result, err := store(ctx, r.Client, r.Recorder, written{before: before, obj: obj,
		changed: !equality.Semantic.DeepEqual(before.Status, obj.Status), last: last, events: events})
	if result != stored {
		return result == conflicted, err
	}
	st := &obj.Status
	r.Metrics.track(metricKey{kindOrderSaga, client.ObjectKeyFromObject(obj)}, metricOrderSaga, before.Status.Phase, st.Phase, st.StartedAt, st.FinishedAt)
	return false, err
}
