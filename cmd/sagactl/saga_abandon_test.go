package main

import (
	"context"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// refusingExchanger answers every call of a Saga with a refusal, as the bucket deletion of
// failedBucketSaga still is.
type refusingExchanger struct{}

func (refusingExchanger) Exchange(context.Context, stepclient.Request, saga.Call, time.Duration) (stepclient.Response, saga.Outcome, bool) {
	return stepclient.Response{}, saga.Outcome{Kind: saga.BusinessFailure, Code: "BUCKET_NOT_EMPTY", Message: "not empty"}, false
}

// runSagaOperator reconciles one Saga with the real reconciler until the test ends.
func runSagaOperator(t *testing.T, key client.ObjectKey) {
	t.Helper()
	r := &controllers.SagaReconciler{Client: kube, APIReader: kube, Clock: controllers.RealClock{}, Steps: refusingExchanger{},
		MaxCallsPerReconcile: 16, ReconcileBudget: time.Minute, ProgressInterval: time.Second}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_, _ = r.Reconcile(ctx, ctrl.Request{NamespacedName: key})
			time.Sleep(20 * time.Millisecond)
		}
	}()
}

// TestAbandonSaga abandons a Failed Saga: the list comes from its definition's plan (each
// step's only output is what identifies it), and the real reconciler releases it.
func TestAbandonSaga(t *testing.T) {
	ns := newNamespace(t)
	def, plan := createDefinition(t, ns)
	obj := failedBucketSaga(t, def, plan, "bucket-stuck", controllers.Finalizer)
	runSagaOperator(t, client.ObjectKeyFromObject(obj))
	got := invocation{}.run(t, "abandon", "saga/bucket-stuck", "-n", ns, "--kubeconfig", kubeconfig, "--yes", "--wait", "20s")
	if got.code != 0 {
		t.Errorf("abandon = %d, want 0\nstdout:\n%s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
	uid := string(obj.UID)
	for _, want := range []string{
		"saga " + ns + "/bucket-stuck will leave undone:\n",
		"  CreateBucket      Compensating id bkt-bucket-stuck ",
		"key " + uid + "/CreateBucket/action\n",
		"last undo error: BUCKET_NOT_EMPTY: bucket not empty\n",
		"saga " + ns + "/bucket-stuck abandoned; the list is in its Abandoned Warning Event (kubectl events --for saga/bucket-stuck)\n",
	} {
		if !strings.Contains(got.stdout, want) {
			t.Errorf("abandon printed:\n%s\nwant %q", got.stdout, want)
		}
	}
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(obj), &v1.Saga{}); !apierrors.IsNotFound(err) {
		t.Errorf("the abandoned Saga still exists (%v)", err)
	}
}

// TestAbandonSagaWithoutDefinition: a Saga whose definition is gone cannot be released by
// the operator, so abandon refuses it and leaves it as it was.
func TestAbandonSagaWithoutDefinition(t *testing.T) {
	ns := newNamespace(t)
	def, plan := createDefinition(t, ns)
	obj := failedBucketSaga(t, def, plan, "bucket-orphan")
	if err := kube.Delete(t.Context(), def); err != nil {
		t.Fatalf("delete the definition: %v", err)
	}
	got := invocation{}.run(t, "abandon", "saga/bucket-orphan", "-n", ns, "--kubeconfig", kubeconfig, "--yes")
	want := "sagactl: saga " + ns + "/bucket-orphan started on SagaDefinition bucket-v1 (uid " + string(def.UID) + "), which is gone"
	if got.code != 1 || !strings.HasPrefix(got.stderr, want) {
		t.Errorf("abandon = %d, stderr %q; want 1 and %q", got.code, got.stderr, want)
	}
	fresh := &v1.Saga{}
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(obj), fresh); err != nil {
		t.Fatalf("get saga: %v", err)
	}
	if !fresh.DeletionTimestamp.IsZero() || fresh.Annotations[v1.AbandonAnnotation] != "" {
		t.Errorf("a refused abandon deleted (%v) or annotated (%q) the saga", fresh.DeletionTimestamp, fresh.Annotations[v1.AbandonAnnotation])
	}
}
