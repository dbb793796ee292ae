package controllers

import (
	"encoding/json"
	"runtime"
	"testing"
	"unique"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// TestCacheTransformSharesRepeatedStrings: two sagas decoded apart, as a watch delivers
// them, come out of the cache's transform unchanged in value, without managedFields, and
// with their repeated strings in one copy; their customer data stays their own.
func TestCacheTransformSharesRepeatedStrings(t *testing.T) {
	// A handle keeps the canonical copy alive for the test, as other cached sagas do in a
	// manager, so that a collection between the two transforms cannot make a second one.
	keep := []unique.Handle[string]{unique.Make(string(v1.PhaseCompleted)), unique.Make("shop"),
		unique.Make(string(v1.StepConfirmOrder)), unique.Make("order confirmed")}
	defer runtime.KeepAlive(keep)

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
