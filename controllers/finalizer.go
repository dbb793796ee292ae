package controllers

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"
)

// Finalizer holds a saga back from deletion until what it did is undone.
const Finalizer = "saga.ordersaga.io/compensate"

// InUseFinalizer holds a SagaDefinition back from deletion while a Saga that started on it
// is still running: a Saga finishes on the definition it started with.
const InUseFinalizer = "saga.ordersaga.io/in-use"

// ensureFinalizer adds finalizer to obj unless it is being deleted. A saga gets it before
// its first call, so that no call can happen for an object that could vanish without
// being compensated.
func ensureFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if !obj.GetDeletionTimestamp().IsZero() || controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	base, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("copy %s/%s: not a client.Object", obj.GetNamespace(), obj.GetName())
	}
	controllerutil.AddFinalizer(obj, finalizer)
	if err := c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
		return fmt.Errorf("add finalizer %s to %s/%s: %w", finalizer, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}

// releaseFinalizer removes finalizer from obj: a deleted saga once nothing is left to
// undo, a deleted definition once no running Saga needs it.
func releaseFinalizer(ctx context.Context, c client.Client, obj client.Object, finalizer string) error {
	if !controllerutil.ContainsFinalizer(obj, finalizer) {
		return nil
	}
	base, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		return fmt.Errorf("copy %s/%s: not a client.Object", obj.GetNamespace(), obj.GetName())
	}
	controllerutil.RemoveFinalizer(obj, finalizer)
	err := c.Patch(ctx, obj, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{}))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove finalizer %s from %s/%s: %w", finalizer, obj.GetNamespace(), obj.GetName(), err)
	}
	return nil
}
