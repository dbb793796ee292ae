package controllers

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// TestCacheTransformSharesRepeatedStrings: two sagas decoded apart, as a watch delivers
// them, come out of the cache's transform unchanged in value, without managedFields, and
// with their repeated strings in one copy, even with a collection between them; their
// customer data stays their own.
func TestCacheTransformSharesRepeatedStrings(t *testing.T) {
	decoded := func(name string) *v1.OrderSaga {
		t.Helper()
		o := testgen.OrderSaga(name, testgen.WithNamespace("shop"), testgen.WithCustomerID("cust-"+name))
		o.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl", Operation: metav1.ManagedFieldsOperationApply}}
		o.Status.Phase = v1.PhaseCompleted
		o.Status.Steps = []v1.StepStatus{{Name: v1.StepConfirmOrder, State: v1.StepSucceeded, Attempts: 1}}
		o.Status.Conditions = []metav1.Condition{{Type: v1.ConditionSucceeded, Status: metav1.ConditionTrue,
			Reason: v1.ReasonCompleted, Message: "order confirmed"}}
		raw, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		out := &v1.OrderSaga{}
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	transform := CacheOptions("").DefaultTransform
	a, b := decoded("order-a"), decoded("order-b")
	wantA := a.DeepCopy()
	wantA.ManagedFields = nil
	for _, o := range []*v1.OrderSaga{a, b} {
		if _, err := transform(o); err != nil {
			t.Fatalf("transform: %v", err)
		}
		runtime.GC() // the second saga arrives in another cycle of the collector
	}
	if diff := cmp.Diff(wantA, a); diff != "" {
		t.Errorf("the transform changed more than managedFields: -want, +got:\n%s", diff)
	}
	same := func(what, x, y string) {
		t.Helper()
		if unsafe.StringData(x) != unsafe.StringData(y) { //nolint:gosec // G103: compares two pointers, reads nothing
			t.Errorf("%s: two copies of %q, want one", what, x)
		}
	}
	same("namespace", a.Namespace, b.Namespace)
	same("phase", string(a.Status.Phase), string(b.Status.Phase))
	same("step name", string(a.Status.Steps[0].Name), string(b.Status.Steps[0].Name))
	same("condition message", a.Status.Conditions[0].Message, b.Status.Conditions[0].Message)
	if a.Spec.CustomerID == b.Spec.CustomerID {
		t.Fatalf("the two sagas should have different customers")
	}
}

// TestInternerIsBounded: past its bound the interner keeps new values as they are, so
// per-saga text in messages cannot grow it for ever, and values already shared stay so.
func TestInternerIsBounded(t *testing.T) {
	in := newInterner(2)
	first := in.intern(strings.Clone("Completed"))
	in.intern("Running")
	late := strings.Clone("payment pay-123 declined")
	if got := in.intern(late); unsafe.StringData(got) != unsafe.StringData(late) { //nolint:gosec // G103: compares two pointers, reads nothing
		t.Errorf("a value past the bound was copied, want it kept as it is")
	}
	if n := len(in.values); n != 2 {
		t.Errorf("the interner holds %d values, want its bound of 2", n)
	}
	if got := in.intern(strings.Clone("Completed")); unsafe.StringData(got) != unsafe.StringData(first) { //nolint:gosec // G103: compares two pointers, reads nothing
		t.Errorf("a value shared before the bound was reached is no longer shared")
	}
}
