package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Finalizer holds a saga back from deletion until what it did is undone.
const Finalizer = "saga.ordersaga.io/compensate"

// ensureFinalizer adds the finalizer before the first call, so that no call can happen
// for an object that could vanish without being compensated.
func (r *OrderSagaReconciler) ensureFinalizer(ctx context.Context, obj *v1.OrderSaga) error {
	if !obj.DeletionTimestamp.IsZero() || controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	base := obj.DeepCopy()
	controllerutil.AddFinalizer(obj, Finalizer)
	if err := r.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer to %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return nil
}

// releaseFinalizer lets a deleted saga go once nothing is left to undo.
func (r *OrderSagaReconciler) releaseFinalizer(ctx context.Context, obj *v1.OrderSaga) error {
	if !controllerutil.ContainsFinalizer(obj, Finalizer) {
		return nil
	}
	base := obj.DeepCopy()
	controllerutil.RemoveFinalizer(obj, Finalizer)
	err := r.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer from %s/%s: %w", obj.Namespace, obj.Name, err)
	}
	return nil
}
