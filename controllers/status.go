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
// object changed meanwhile; that change queues a new reconcile, which repeats any
// unrecorded calls with the same idempotency keys, so the write is simply dropped.
func (r *OrderSagaReconciler) finish(ctx context.Context, before, obj *v1.OrderSaga, last saga.Decision, events []event) error {
	obj.Status.ObservedGeneration = obj.Generation
	for i := range obj.Status.Conditions {
		obj.Status.Conditions[i].ObservedGeneration = obj.Generation
	}
	if !equality.Semantic.DeepEqual(before.Status, obj.Status) {
		err := r.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
		switch {
		case apierrors.IsConflict(err), apierrors.IsNotFound(err):
			logf.FromContext(ctx).V(1).Info("status write dropped; a newer version will be reconciled", "reason", err.Error())
			return nil
		case err != nil:
			return fmt.Errorf("write status of %s/%s: %w", obj.Namespace, obj.Name, err)
		}
		r.emit(obj, events)
	}
	r.Metrics.track(before, obj)
	switch last.Kind {
	case saga.KindRelease:
		return r.releaseFinalizer(ctx, obj)
	case saga.KindDelete:
		err := r.Delete(ctx, obj, client.Preconditions{UID: &obj.UID, ResourceVersion: &obj.ResourceVersion})
		if client.IgnoreNotFound(err) != nil {
			return fmt.Errorf("delete finished saga %s/%s after its TTL: %w", obj.Namespace, obj.Name, err)
		}
	}
	return nil
}
