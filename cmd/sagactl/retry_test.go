package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// failedSaga creates a saga whose payment was declined and whose stock release was then
// refused: Failed, a person must act.
func failedSaga(t *testing.T, ns, name string) *v1.OrderSaga {
	t.Helper()
	obj := createSaga(t, ns, name, time.Now(), script("ord-"+name, map[string]string{
		"ProcessPayment/action": "PAYMENT_DECLINED", "ReserveInventory/compensate": "RESERVATION_LOCKED"}))
	if obj.Status.Phase != v1.PhaseFailed {
		t.Fatalf("saga %s is %s (%s), want Failed", name, obj.Status.Phase, obj.Status.Message)
	}
	return obj
}

// fakeController plays the operator for one saga: when the retry annotation is new, it
// re-drives the saga with the real engine (one status write for the re-drive, one when
// it settles), each call answered by answer.
func fakeController(t *testing.T, key client.ObjectKey, answer func(saga.Call) saga.Outcome) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			obj := &v1.OrderSaga{}
			if err := kube.Get(ctx, key, obj); err == nil && obj.Annotations[v1.RetryAnnotation] != "" &&
				obj.Status.LastHandledRetry != saga.RetryToken(obj.Annotations[v1.RetryAnnotation]) {
				d := saga.Next(ordersaga.ViewOf(obj), time.Now())
				ordersaga.Record(obj, d, saga.Outcome{}, time.Now())
				if kube.Status().Update(ctx, obj) == nil {
					time.Sleep(50 * time.Millisecond)
					drive(obj, time.Now(), answer)
					_ = kube.Status().Update(ctx, obj)
				}
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
}

func TestRetry(t *testing.T) {
	ns := newNamespace(t)
	cases := map[string]struct {
		reason string
		// answer is the fake operator's step client; nil runs no operator.
		answer     func(saga.Call) saga.Outcome
		wait       string
		wantCode   int
		wantStdout []string
	}{
		"Compensated": {reason: "The re-drive undoes what was left: exit 0.", answer: script("", nil), wait: "20s", wantCode: 0,
			wantStdout: []string{"  Compensating: re-driven by the saga.ordersaga.io/retry annotation\n", "/redrive-ok is Compensated\n"}},
		"FailedAgain": {reason: "The compensation is refused again: exit 1.", wait: "20s", wantCode: 1,
			answer:     script("", map[string]string{"ReserveInventory/compensate": "RESERVATION_LOCKED"}),
			wantStdout: []string{"  Failed: compensation of ReserveInventory was refused", "/redrive-failed is Failed\n"}},
		"NoOperator": {reason: "Nobody handles the annotation: the wait runs out, exit 1.", wait: "300ms", wantCode: 1,
			wantStdout: []string{"/redrive-nobody: the re-drive was not picked up within 300ms; is the operator running?\n"}},
	}
	names := map[string]string{"Compensated": "redrive-ok", "FailedAgain": "redrive-failed", "NoOperator": "redrive-nobody"}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			obj := failedSaga(t, ns, names[name])
			if tc.answer != nil {
				fakeController(t, client.ObjectKeyFromObject(obj), tc.answer)
			}
			before := time.Now()
			got := invocation{}.run(t, "retry", obj.Name, "-n", ns, "--kubeconfig", kubeconfig, "--wait", tc.wait)
			if got.code != tc.wantCode {
				t.Errorf("\nReason: %s\nretry = %d, want %d\nstdout:\n%s\nstderr: %s", tc.reason, got.code, tc.wantCode, got.stdout, got.stderr)
			}
			for _, want := range tc.wantStdout {
				if !strings.Contains(got.stdout, want) {
					t.Errorf("\nReason: %s\nretry printed:\n%s\nwant %q", tc.reason, got.stdout, want)
				}
			}
			checkAnnotation(t, obj, before)
		})
	}
}

// checkAnnotation: the retry annotation holds the RFC 3339 time of the retry.
func checkAnnotation(t *testing.T, obj *v1.OrderSaga, notBefore time.Time) {
	t.Helper()
	fresh := &v1.OrderSaga{}
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(obj), fresh); err != nil {
		t.Fatalf("get saga: %v", err)
	}
	at, err := time.Parse(time.RFC3339Nano, fresh.Annotations[v1.RetryAnnotation])
	if err != nil || at.Before(notBefore) {
		t.Errorf("annotation %s = %q, want the RFC 3339 time of the retry (after %s)", v1.RetryAnnotation,
			fresh.Annotations[v1.RetryAnnotation], notBefore.Format(time.RFC3339Nano))
	}
}

// TestRetryRefusesSagaThatIsNotFailed: only a Failed saga is re-driven; the others are
// left alone, exit 1.
func TestRetryRefusesSagaThatIsNotFailed(t *testing.T) {
	ns := newNamespace(t)
	obj := createSaga(t, ns, "order-ok", time.Now(), script("ord-ok", nil))
	got := invocation{}.run(t, "retry", "order-ok", "-n", ns, "--kubeconfig", kubeconfig)
	want := "sagactl: ordersaga " + ns + "/order-ok is Completed, not Failed: retry only re-drives a saga whose compensation gave up\n"
	if got.code != 1 || got.stderr != want {
		t.Errorf("retry = %d, stderr %q; want 1, %q", got.code, got.stderr, want)
	}
	fresh := &v1.OrderSaga{}
	if err := kube.Get(t.Context(), client.ObjectKeyFromObject(obj), fresh); err != nil {
		t.Fatalf("get saga: %v", err)
	}
	if v, ok := fresh.Annotations[v1.RetryAnnotation]; ok {
		t.Errorf("a refused retry set the annotation to %q", v)
	}
}
