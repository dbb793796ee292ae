package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// createEvent records an events.k8s.io/v1 Event about obj at t, as the controller's
// recorder does.
func createEvent(t *testing.T, obj *v1.OrderSaga, name string, at time.Time, typ, reason, note string) {
	t.Helper()
	e := &eventsv1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: name, Namespace: obj.Namespace},
		EventTime:           metav1.NewMicroTime(at),
		ReportingController: "ordersaga-controller",
		ReportingInstance:   "ordersaga-controller-test",
		Action:              "Reconcile",
		Reason:              reason,
		Note:                note,
		Type:                typ,
		Regarding: corev1.ObjectReference{APIVersion: v1.GroupVersion.String(), Kind: "OrderSaga",
			Namespace: obj.Namespace, Name: obj.Name, UID: obj.UID},
	}
	if err := kube.Create(t.Context(), e); err != nil {
		t.Fatalf("create event: %v", err)
	}
}

// TestDescribe renders the timeline of a saga that ran out of stock and rolled back, with
// its Events in time order and none of another saga's.
func TestDescribe(t *testing.T) {
	ns := newNamespace(t)
	obj := createSaga(t, ns, "order-1002", t0, script("ord-1002", map[string]string{"ReserveInventory/action": "OUT_OF_STOCK"}),
		testgen.WithItems(testgen.Item("LAP-001", 7, "999.99")))
	other := createSaga(t, ns, "order-1003", t0, script("ord-1003", nil))
	createEvent(t, obj, "order-1002.2", t0.Add(20*time.Millisecond), corev1.EventTypeWarning, "StepFailed", "ReserveInventory failed: OUT_OF_STOCK: out of stock")
	createEvent(t, obj, "order-1002.1", t0.Add(10*time.Millisecond), corev1.EventTypeNormal, "StepSucceeded", "CreateOrder succeeded after 1 attempt(s)")
	createEvent(t, obj, "order-1002.3", t0.Add(50*time.Millisecond), corev1.EventTypeWarning, "OutOfStock", "the saga rolled back")
	createEvent(t, other, "order-1003.1", t0.Add(15*time.Millisecond), corev1.EventTypeNormal, "StepSucceeded", "not about order-1002")

	got := invocation{now: t0.Add(time.Minute)}.run(t, "describe", "order-1002", "-n", ns, "--kubeconfig", kubeconfig)
	if got.code != 0 {
		t.Fatalf("describe = %d; stderr: %s", got.code, got.stderr)
	}
	want := strings.ReplaceAll(`Name:      order-1002
Namespace: NS
Phase:     Compensated
Order:     ord-1002
Customer:  cust-0001
Total:     6999.93 USD
Items:     LAP-001 x7 @ 999.99
Started:   2026-11-28T12:00:00.000Z (1m0s ago)
Finished:  2026-11-28T12:00:00.050Z (59.95s ago)
Duration:  50ms
Message:   rolled back: ReserveInventory failed: OUT_OF_STOCK: out of stock
Failure:   ReserveInventory OutOfStock: ReserveInventory failed: OUT_OF_STOCK: out of stock
Conditions:
  TYPE       STATUS  REASON      SINCE     MESSAGE
  Succeeded  False   OutOfStock  1m0s ago  rolled back: ReserveInventory failed: OUT_OF_STOCK: out of stock
  Ready      True    OutOfStock  1m0s ago  rolled back: ReserveInventory failed: OUT_OF_STOCK: out of stock

STEP                   STATE        ATTEMPTS  DURATION  NEXT ATTEMPT  LAST ERROR
↺ CreateOrder          Compensated  1         0s
  └ ✔ cancel order     Succeeded    1         0s
↺ ReserveInventory     Compensated  1         0s                      OUT_OF_STOCK: out of stock
  └ ✔ release stock    Succeeded    1         0s
- ProcessPayment       Skipped
- ScheduleShipment     Skipped
- ConfirmOrder         Skipped
- SendNotification     Skipped
✔ cancellation notice  Succeeded    1         0s

Events:
  TIME                                   TYPE     REASON         MESSAGE
  2026-11-28T12:00:00.010Z (59.99s ago)  Normal   StepSucceeded  CreateOrder succeeded after 1 attempt(s)
  2026-11-28T12:00:00.020Z (59.98s ago)  Warning  StepFailed     ReserveInventory failed: OUT_OF_STOCK: out of stock
  2026-11-28T12:00:00.050Z (59.95s ago)  Warning  OutOfStock     the saga rolled back
`, "NS", ns)
	if got.stdout != want {
		t.Errorf("describe printed:\n%s\nwant:\n%s", got.stdout, want)
	}
}

// TestDescribeInFlight shows a step waiting for its next attempt, and a saga that does
// not exist is exit 1.
func TestDescribeInFlight(t *testing.T) {
	ns := newNamespace(t)
	createSaga(t, ns, "order-2001", t0, func(c saga.Call) saga.Outcome {
		if c.Step == v1.StepProcessPayment {
			return saga.Outcome{Kind: saga.Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}
		}
		return script("ord-2001", nil)(c)
	})
	inv := invocation{now: t0.Add(500 * time.Millisecond)}
	got := inv.run(t, "describe", "order-2001", "-n", ns, "--kubeconfig", kubeconfig)
	for _, want := range []string{ // the backoff has jitter, hence a pattern
		`(?m)^Phase: +Running$`,
		`(?m)^● ProcessPayment +Running +1 +running 470ms +in \d+ms +TIMEOUT: no answer within stepTimeout$`,
		`(?m)^○ ScheduleShipment +Pending$`,
		`(?m)^Events: none\.$`,
	} {
		if !regexp.MustCompile(want).MatchString(got.stdout) {
			t.Errorf("describe printed:\n%s\nwant a line matching %s", got.stdout, want)
		}
	}
	got = inv.run(t, "describe", "no-such-saga", "-n", ns, "--kubeconfig", kubeconfig)
	if want := `sagactl: ordersaga "no-such-saga" not found in namespace "` + ns + `"`; got.code != 1 || !strings.Contains(got.stderr, want) {
		t.Errorf("describe of a missing saga = %d, stderr %q; want 1 and %q", got.code, got.stderr, want)
	}
}

// TestKubeconfigFromEnvironment: without --kubeconfig, $KUBECONFIG names the cluster, and
// without -n the namespace is its context's.
func TestKubeconfigFromEnvironment(t *testing.T) {
	ns := newNamespace(t)
	createSaga(t, ns, "order-3001", t0, script("ord-3001", nil))
	t.Setenv("KUBECONFIG", kubeconfigWithNamespace(t, kubeconfig, ns))
	got := invocation{now: t0}.run(t, "describe", "order-3001")
	if got.code != 0 || !strings.Contains(got.stdout, "Namespace: "+ns+"\n") || !strings.Contains(got.stdout, "Phase:     Completed\n") {
		t.Errorf("describe = %d\nstdout:\n%s\nstderr: %s", got.code, got.stdout, got.stderr)
	}
}
