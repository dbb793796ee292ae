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
		err := r.writeStatus(ctx, before, obj)
		switch {
		case apierrors.IsNotFound(err):
			return false, nil
		case apierrors.IsConflict(err):
			logf.FromContext(ctx).V(1).Info("status write dropped; reconciling the newer version", "reason", err.Error())
			return true, nil
		case err != nil:
			return false, fmt.Errorf("write status of %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		r.emit(obj, events)
	}
	r.Metrics.track(before, obj)
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

// writeStatus patches the status with optimistic locking. It does not inherit ctx's
// cancellation: when the manager shuts down mid-batch, the calls already made must still
// be recorded, and statusWriteGrace bounds how long that may take.
func (r *OrderSagaReconciler) writeStatus(ctx context.Context, before, obj *v1.OrderSaga) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteGrace)
	defer cancel()
	//nolint:wrapcheck // finish tells NotFound and Conflict apart by the API status error, then wraps the rest with the saga's name
	return r.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}
