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
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// failedHeldSaga is a Failed saga that the operator's finalizer holds: its payment was
// declined and the release of its stock refused.
func failedHeldSaga(t *testing.T, ns, name string) *v1.OrderSaga {
	t.Helper()
	obj := createSaga(t, ns, name, time.Now(), script("ord-"+name, map[string]string{
		"ProcessPayment/action": "PAYMENT_DECLINED", "ReserveInventory/compensate": "RESERVATION_LOCKED"}),
		testgen.WithFinalizers(controllers.Finalizer))
	if obj.Status.Phase != v1.PhaseFailed {
		t.Fatalf("saga %s is %s (%s), want Failed", name, obj.Status.Phase, obj.Status.Message)
	}
	return obj
}

// runOperator reconciles one saga with the real reconciler until the test ends; every
// call it makes is refused, as the stock release of failedHeldSaga still is.
func runOperator(t *testing.T, key client.ObjectKey) {
	t.Helper()
	r := &controllers.OrderSagaReconciler{Client: kube, Clock: controllers.RealClock{},
		MaxCallsPerReconcile: 16, ReconcileBudget: time.Minute, ProgressInterval: time.Second,
		Steps: controllers.StepCallerFn(func(context.Context, *v1.OrderSaga, saga.Call) saga.Outcome {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: "RESERVATION_LOCKED", Message: "locked"}
		})}
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

func TestAbandon(t *testing.T) {
	ns := newNamespace(t)
	cases := map[string]struct {
		reason   string
		stdin    string
		args     []string
		operator bool
		wantCode int
		wantGone bool
		wantOut  []string
	}{
		"Confirmed": {reason: "The person answers y: the saga is deleted, abandoned and released; exit 0.",
			stdin: "y\n", operator: true, wantCode: 0, wantGone: true,
			wantOut: []string{"will leave undone:\n", "  ReserveInventory ", "last undo error: RESERVATION_LOCKED",
				"Abandon ordersaga " + ns + "/abandon-confirmed and leave this undone? [y/N] ", "abandoned; the list is in its Abandoned Warning Event"}},
		"Yes": {reason: "--yes asks nothing.", args: []string{"--yes"}, operator: true, wantCode: 0, wantGone: true,
			wantOut: []string{"will leave undone:\n", "abandoned;"}},
		"Declined": {reason: "Any answer but yes leaves the saga as it was; exit 1.", stdin: "n\n", wantCode: 1,
			wantOut: []string{"[y/N] "}},
		"NoAnswer": {reason: "No answer (a script without --yes) is no.", wantCode: 1, wantOut: []string{"[y/N] "}},
		"NoOperator": {reason: "Nobody releases the saga: the wait runs out; exit 1.", args: []string{"--yes", "--wait", "300ms"},
			wantCode: 1, wantOut: []string{"deleted, and set saga.ordersaga.io/abandon="}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := failedHeldSaga(t, ns, "abandon-"+strings.ToLower(name))
			if tc.operator {
				runOperator(t, client.ObjectKeyFromObject(obj))
			}
			args := append([]string{"abandon", obj.Name, "-n", ns, "--kubeconfig", kubeconfig, "--wait", "20s"}, tc.args...)
			got := invocation{stdin: tc.stdin}.run(t, args...)
			if got.code != tc.wantCode {
				t.Errorf("\nReason: %s\nabandon = %d, want %d\nstdout:\n%s\nstderr: %s", tc.reason, got.code, tc.wantCode, got.stdout, got.stderr)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("\nReason: %s\nabandon printed:\n%s\nwant %q", tc.reason, got.stdout, want)
				}
			}
			unconfirmed := tc.wantCode == 1 && (tc.stdin != "" || name == "NoAnswer")
			checkAbandonedSaga(t, tc.reason, obj, tc.wantGone, unconfirmed)
		})
	}
}

// checkAbandonedSaga checks what abandon left of the saga: nothing when it was released,
// and the saga untouched (not deleted, not annotated) when the person did not confirm.
func checkAbandonedSaga(t *testing.T, reason string, obj *v1.OrderSaga, wantGone, unconfirmed bool) {
	t.Helper()
	fresh := &v1.OrderSaga{}
	err := kube.Get(t.Context(), client.ObjectKeyFromObject(obj), fresh)
	switch {
	case wantGone && !apierrors.IsNotFound(err):
		t.Errorf("\nReason: %s\nthe saga still exists (%v): %s", reason, err, fresh.Status.Message)
	case !wantGone && err != nil:
		t.Errorf("\nReason: %s\nget saga: %v", reason, err)
	case unconfirmed && (!fresh.DeletionTimestamp.IsZero() || fresh.Annotations[v1.AbandonAnnotation] != ""):
		t.Errorf("\nReason: %s\nan unconfirmed abandon deleted (%v) or annotated (%q) the saga", reason,
			fresh.DeletionTimestamp, fresh.Annotations[v1.AbandonAnnotation])
	}
}

// TestAbandonRefusesSagaThatIsNotFailed: only a Failed saga may be abandoned.
func TestAbandonRefusesSagaThatIsNotFailed(t *testing.T) {
	ns := newNamespace(t)
	createSaga(t, ns, "order-fine", time.Now(), script("ord-fine", nil))
	got := invocation{}.run(t, "abandon", "order-fine", "-n", ns, "--kubeconfig", kubeconfig, "--yes")
	want := "sagactl: ordersaga " + ns + "/order-fine is Completed, not Failed: abandon only gives up on a saga whose compensation gave up\n"
	if got.code != 1 || got.stderr != want {
		t.Errorf("abandon = %d, stderr %q; want 1, %q", got.code, got.stderr, want)
	}
}
