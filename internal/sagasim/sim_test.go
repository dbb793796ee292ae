package sagasim

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// A seed is a schedule: the same seed replays the same events, decisions and verdict.
func TestRunIsRepeatable(t *testing.T) {
	for _, seed := range []uint64{3, 7, 42} {
		a, b := Run(seed, Options{}), Run(seed, Options{})
		if a.Trace != b.Trace || a.Reconciles != b.Reconciles || len(a.Violations) != len(b.Violations) {
			t.Errorf("seed %d ran differently twice:\n--- first\n%s\n--- second\n%s", seed, a, b)
		}
		if a.Reconciles == 0 || a.Trace == "" {
			t.Errorf("seed %d ran nothing", seed)
		}
	}
}

// The store refuses what the API server refuses: a write from a stale resourceVersion,
// a delete whose precondition no longer holds; and deletes with finalizers gracefully.
func TestStoreKeepsTheAPIServersRules(t *testing.T) {
	ctx := context.Background()
	s := &sim{clock: &Clock{now: epoch()}, queue: map[string]time.Time{}}
	st := newStore(s)
	obj := &v1.OrderSaga{ObjectMeta: metav1.ObjectMeta{Name: "a", Namespace: Namespace, UID: "u1", Finalizers: []string{"f"}}}
	if err := st.Create(ctx, obj); err != nil {
		t.Fatal(err)
	}
	stale := obj.DeepCopy()
	obj.Labels = map[string]string{"x": "1"}
	if err := st.Update(ctx, obj); err != nil {
		t.Fatalf("update from the current version: %v", err)
	}
	stale.Status.Message = "late"
	if err := st.Status().Patch(ctx, stale, client.MergeFrom(stale.DeepCopy())); !apierrors.IsConflict(err) {
		t.Errorf("status patch from a stale version = %v, want a conflict", err)
	}
	rv := stale.ResourceVersion
	if err := st.Delete(ctx, obj, client.Preconditions{ResourceVersion: &rv}); !apierrors.IsConflict(err) {
		t.Errorf("delete with a stale precondition = %v, want a conflict", err)
	}
	if err := st.Delete(ctx, obj); err != nil {
		t.Fatal(err)
	}
	got := &v1.OrderSaga{}
	if err := st.Get(ctx, client.ObjectKeyFromObject(obj), got); err != nil || got.DeletionTimestamp == nil {
		t.Fatalf("after delete with a finalizer: %v, deletionTimestamp %v; want it kept and marked", err, got.DeletionTimestamp)
	}
	got.Finalizers = nil
	if err := st.Update(ctx, got); err != nil {
		t.Fatal(err)
	}
	if err := st.Get(ctx, client.ObjectKeyFromObject(obj), got); !apierrors.IsNotFound(err) {
		t.Errorf("after the last finalizer went: %v, want NotFound", err)
	}
}
