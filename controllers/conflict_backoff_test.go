package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// TestConflictsBackOff checks that a saga whose status writes keep conflicting is retried
// after the workqueue's growing per-item delay, and that a write that lands resets it.
func TestConflictsBackOff(t *testing.T) {
	obj := testgen.OrderSaga("order-contended", testgen.WithNamespace("shop"))
	conflicting := true
	c := fake.NewClientBuilder().WithScheme(newSchemeForUnitTests(t)).WithObjects(obj).WithStatusSubresource(obj).
		WithInterceptorFuncs(interceptor.Funcs{SubResourcePatch: func(ctx context.Context, c client.Client, sub string, o client.Object, p client.Patch, opts ...client.SubResourcePatchOption) error {
			if conflicting {
				return apierrors.NewConflict(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "ordersagas"}, o.GetName(), nil)
			}
			return c.SubResource(sub).Patch(ctx, o, p, opts...)
		}}).Build()
	r := &OrderSagaReconciler{Client: c, APIReader: c, Clock: RealClock{}, MaxCallsPerReconcile: 1, ReconcileBudget: time.Minute,
		ProgressInterval: time.Second, Steps: StepCallerFn(func(context.Context, *v1.OrderSaga, saga.Call) saga.Outcome {
			return saga.Outcome{Kind: saga.Succeeded}
		})}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	reconcile := func() time.Duration {
		t.Helper()
		res, err := r.Reconcile(t.Context(), req)
		if err != nil {
			t.Fatalf("Reconcile: %v", err)
		}
		return res.RequeueAfter
	}

	delays := make([]time.Duration, 0, 4)
	for range 4 {
		delays = append(delays, reconcile())
	}
	want := []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	if !slices.Equal(delays, want) {
		t.Errorf("requeue delays after consecutive conflicts = %v, want %v", delays, want)
	}

	conflicting = false
	if d := reconcile(); d >= conflictBaseDelay {
		t.Errorf("a reconcile whose write landed requeues after %v, want the engine's own short wait", d)
	}
	conflicting = true
	if d := reconcile(); d != conflictBaseDelay {
		t.Errorf("the first conflict after a landed write requeues after %v, want %v: the backoff resets", d, conflictBaseDelay)
	}
}

func newSchemeForUnitTests(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}
