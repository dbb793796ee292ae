package sagasim

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// orderDefinition is the order SagaDefinition, as test/sim reads it.
func orderDefinition(t *testing.T) *v1.SagaDefinitionSpec {
	t.Helper()
	for _, path := range []string{"../../config/samples/saga_v1alpha1_sagadefinition_order_fulfilment.yaml", "../sagadef/testdata/order.yaml"} {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		spec, err := LoadDefinition(path)
		if err != nil {
			t.Fatal(err)
		}
		return spec
	}
	t.Fatal("no order SagaDefinition")
	return nil
}

// A seed is a schedule: the same seed replays the same events, decisions and verdict,
// on either kind of saga.
func TestRunIsRepeatable(t *testing.T) {
	def := orderDefinition(t)
	for _, kind := range Kinds() {
		for _, seed := range []uint64{3, 7, 42} {
			opts := Options{Kind: kind, Definition: def}
			a, b := Run(seed, opts), Run(seed, opts)
			if a.Trace != b.Trace || a.Reconciles != b.Reconciles || len(a.Violations) != len(b.Violations) {
				t.Errorf("seed %d (%s) ran differently twice:\n--- first\n%s\n--- second\n%s", seed, kind, a, b)
			}
			if a.Reconciles == 0 || a.Trace == "" || a.Kind != kind {
				t.Errorf("seed %d (%s) ran nothing, or another kind: %s", seed, kind, a.Kind)
			}
		}
	}
}

// A Saga is judged as the OrderSaga it came from: its input reads back into the order's
// spec, with the definition's retry policy and step timeout.
func TestSagaViewIsTheOrder(t *testing.T) {
	def := &definition{spec: drawDefinition(rand.New(rand.NewPCG(1, 2)), orderDefinition(t))}
	k := &sagas{def: def}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 1; i <= 50; i++ {
		order := newSaga(rng, i, epoch())
		order.Spec.RetryPolicy, order.Spec.StepTimeout = def.policy()
		if diff := cmp.Diff(order, k.view(k.fromOrder(order))); diff != "" {
			t.Fatalf("order %d as a Saga and back: -want, +got:\n%s", i, diff)
		}
	}
}

// The store refuses what the API server refuses: a write from a stale resourceVersion,
// a delete whose precondition no longer holds; it keeps status to the status subresource,
// and deletes with finalizers gracefully; for each kind it stores.
func TestStoreKeepsTheAPIServersRules(t *testing.T) {
	meta := func() metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: "a", Namespace: Namespace, UID: "u1", Finalizers: []string{"f"}}
	}
	cases := map[string]struct {
		obj       client.Object
		setStatus func(client.Object, string)
		status    func(client.Object) string
	}{
		"OrderSaga": {&v1.OrderSaga{ObjectMeta: meta()},
			func(o client.Object, m string) { o.(*v1.OrderSaga).Status.Message = m },
			func(o client.Object) string { return o.(*v1.OrderSaga).Status.Message }},
		"Saga": {&v1.Saga{ObjectMeta: meta()},
			func(o client.Object, m string) { o.(*v1.Saga).Status.Message = m },
			func(o client.Object) string { return o.(*v1.Saga).Status.Message }},
		"SagaDefinition": {&v1.SagaDefinition{ObjectMeta: meta()},
			func(o client.Object, m string) {
				o.(*v1.SagaDefinition).Status.Conditions = []metav1.Condition{{Type: m}}
			},
			func(o client.Object) string {
				if c := o.(*v1.SagaDefinition).Status.Conditions; len(c) > 0 {
					return c[0].Type
				}
				return ""
			}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) { checkStoreRules(t, tc.obj, tc.setStatus, tc.status) })
	}
}

func checkStoreRules(t *testing.T, obj client.Object, setStatus func(client.Object, string), status func(client.Object) string) {
	t.Helper()
	ctx := context.Background()
	s := &sim{clock: &Clock{now: epoch()}, queue: map[string]time.Time{}}
	st := newStore(s)
	if err := st.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	stale := deepCopy(obj)
	setLabel(obj, "x", "1")
	setStatus(obj, "ignored")
	if err := st.Update(ctx, obj); err != nil || status(obj) != "" {
		t.Fatalf("update from the current version: %v, status %q; want it applied, without status", err, status(obj))
	}
	setStatus(stale, "late")
	if err := st.Status().Patch(ctx, stale, client.MergeFrom(deepCopy(stale))); !apierrors.IsConflict(err) {
		t.Errorf("status patch from a stale version = %v, want a conflict", err)
	}
	setStatus(obj, "kept")
	if err := st.Status().Patch(ctx, obj, client.MergeFrom(deepCopy(obj))); err != nil || obj.GetLabels()["x"] != "1" {
		t.Errorf("status patch from the current version: %v, labels %v; want it applied, labels kept", err, obj.GetLabels())
	}
	rv := stale.GetResourceVersion()
	if err := st.Delete(ctx, obj, client.Preconditions{ResourceVersion: &rv}); !apierrors.IsConflict(err) {
		t.Errorf("delete with a stale precondition = %v, want a conflict", err)
	}
	if err := st.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := deepCopy(obj)
	if err := st.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil || got.GetDeletionTimestamp() == nil || status(got) != "kept" {
		t.Fatalf("after delete with a finalizer: %v, deletionTimestamp %v, status %q; want it kept, marked, its status kept",
			err, got.GetDeletionTimestamp(), status(got))
	}
	got.SetFinalizers(nil)
	if err := st.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := st.Get(ctx, client.ObjectKeyFromObject(obj), got); !apierrors.IsNotFound(err) {
		t.Errorf("after the last finalizer went: %v, want NotFound", err)
	}
}
