package controllers

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// finish writes the status once, if it changed, then emits the Events of the
// transitions, then acts on the last decision: release the finalizer or delete the saga.
//
// The patch carries the resourceVersion the reconcile started from. A conflict means the
// object changed meanwhile: the write is dropped and finish reports it, so that the saga
// is reconciled again from the stored version, repeating any unrecorded calls with the
// same idempotency keys.
func (r *OrderSagaReconciler) finish(ctx context.Context, before, obj *v1.OrderSaga, last saga.Decision, events []event) (conflict bool, _ error) {
	obj.Status.ObservedGeneration = obj.Generation
	for i := range obj.Status.Conditions {
		obj.Status.Conditions[i].ObservedGeneration = obj.Generation
	}
	if !equality.Semantic.DeepEqual(before.Status, obj.Status) {
		err := writeStatus(ctx, r.Client, before, obj)
		switch {
		case apierrors.IsNotFound(err):
			return false, nil
		case apierrors.IsConflict(err):
			logf.FromContext(ctx).V(1).Info("status write dropped; reconciling the newer version", "reason", err.Error())
			return true, nil
		case err != nil:
			return false, fmt.Errorf("write status of %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		emit(r.Recorder, obj, events)
	}
	st := &obj.Status
	r.Metrics.track(metricKey{kindOrderSaga, client.ObjectKeyFromObject(obj)}, metricOrderSaga, before.Status.Phase, st.Phase, st.StartedAt, st.FinishedAt)
	switch last.Kind {
	case saga.KindRelease, saga.KindAbandon:
		return false, r.releaseFinalizer(ctx, obj)
	case saga.KindDelete:
		err := r.Delete(ctx, obj, client.Preconditions{UID: &obj.UID, ResourceVersion: &obj.ResourceVersion})
		if client.IgnoreNotFound(err) != nil {
			return false, fmt.Errorf("delete finished saga %s/%s after its TTL: %w", obj.Namespace, obj.Name, err)
		}
	default: // the status write was all
	}
	return false, nil
}
