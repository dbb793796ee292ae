package controllers

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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

// Unit tests of the reconciler on controller-runtime's fake client, for what envtest cannot
// provoke on demand: status writes that keep conflicting, and reads that time out.

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
	metrics := NewMetrics(prometheus.NewRegistry())
	r := &OrderSagaReconciler{Client: c, Clock: RealClock{}, MaxCallsPerReconcile: 1, ReconcileBudget: oneBatch,
		ProgressInterval: time.Second, Metrics: metrics, Steps: StepCallerFn(func(context.Context, *v1.OrderSaga, saga.Call) saga.Outcome {
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
	if n := testutil.ToFloat64(metrics.requeues.WithLabelValues(kindOrderSaga, requeueConflict)); n != 4 {
		t.Errorf("ordersaga_reconcile_requeues_total{reason=Conflict} = %v after 4 conflicts, want 4", n)
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

// oneBatch is a reconcile budget too short for a second batch after the first (whose call
// always runs): each reconcile then makes one call and one status write.
const oneBatch = time.Second

func newSchemeForUnitTests(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	if err := v1.AddToScheme(s); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestInFlightEntryDroppedOnlyWhenGone: a failed read of a saga in flight (an API server
// that times out) keeps it in ordersaga_sagas_in_flight; only NotFound drops it.
func TestInFlightEntryDroppedOnlyWhenGone(t *testing.T) {
	obj := testgen.OrderSaga("order-in-flight", testgen.WithNamespace("shop"))
	failReads := false
	c := fake.NewClientBuilder().WithScheme(newSchemeForUnitTests(t)).WithObjects(obj).WithStatusSubresource(obj).
		WithInterceptorFuncs(interceptor.Funcs{Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, o client.Object, opts ...client.GetOption) error {
			if failReads {
				return apierrors.NewServerTimeout(schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "ordersagas"}, "get", 1)
			}
			return c.Get(ctx, key, o, opts...)
		}}).Build()
	r := &OrderSagaReconciler{Client: c, Clock: RealClock{}, MaxCallsPerReconcile: 1, ReconcileBudget: oneBatch,
		ProgressInterval: time.Second, Metrics: NewMetrics(prometheus.NewRegistry()),
		Steps: StepCallerFn(func(context.Context, *v1.OrderSaga, saga.Call) saga.Outcome {
			return saga.Outcome{Kind: saga.Succeeded}
		})}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	inFlight := func() float64 { return testutil.ToFloat64(r.Metrics.inFlight) }

	if _, err := r.Reconcile(t.Context(), req); err != nil || inFlight() != 1 {
		t.Fatalf("after the first batch: err %v, in flight %v; want nil, 1", err, inFlight())
	}
	failReads = true
	if _, err := r.Reconcile(t.Context(), req); err == nil || inFlight() != 1 {
		t.Errorf("after a read that timed out: err %v, in flight %v; want the error, and still 1", err, inFlight())
	}
	failReads = false
	latest := &v1.OrderSaga{} // gone for good: without the finalizer the first reconcile added
	if err := c.Get(t.Context(), req.NamespacedName, latest); err != nil {
		t.Fatal(err)
	}
	latest.Finalizers = nil
	if err := c.Update(t.Context(), latest); err != nil {
		t.Fatal(err)
	}
	if err := c.Delete(t.Context(), latest); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reconcile(t.Context(), req); err != nil || inFlight() != 0 {
		t.Errorf("after the saga is gone: err %v, in flight %v; want nil, 0", err, inFlight())
	}
}

// TestCacheBehindWaits checks that a reconcile whose cached saga is at a version its own
// last write replaced makes no call, looks again soon, and is counted.
func TestCacheBehindWaits(t *testing.T) {
	obj := testgen.OrderSaga("order-behind", testgen.WithNamespace("shop"))
	c := fake.NewClientBuilder().WithScheme(newSchemeForUnitTests(t)).WithObjects(obj).WithStatusSubresource(obj).Build()
	metrics := NewMetrics(prometheus.NewRegistry())
	calls := 0
	r := &OrderSagaReconciler{Client: c, Clock: RealClock{}, MaxCallsPerReconcile: 1, ReconcileBudget: oneBatch,
		ProgressInterval: time.Second, Metrics: metrics, Steps: StepCallerFn(func(context.Context, *v1.OrderSaga, saga.Call) saga.Outcome {
			calls++
			return saga.Outcome{Kind: saga.Succeeded}
		})}
	req := ctrl.Request{NamespacedName: client.ObjectKeyFromObject(obj)}
	cached := &v1.OrderSaga{}
	if err := c.Get(t.Context(), req.NamespacedName, cached); err != nil {
		t.Fatalf("Get: %v", err)
	}
	r.memory.writes.wrote(req.NamespacedName, []string{cached.ResourceVersion})

	res, err := r.Reconcile(t.Context(), req)
	if err != nil || res.RequeueAfter != cacheLagBaseDelay || calls != 0 {
		t.Errorf("Reconcile on a copy older than its own write = %+v, %v, %d call(s); want a requeue after %v and no call", res, err, calls, cacheLagBaseDelay)
	}
	if n := testutil.ToFloat64(metrics.requeues.WithLabelValues(kindOrderSaga, requeueCacheBehind)); n != 1 {
		t.Errorf("ordersaga_reconcile_requeues_total{reason=CacheBehind} = %v, want 1", n)
	}
}
