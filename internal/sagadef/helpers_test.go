package sagadef

import (
	"context"
	"os"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// orderInput satisfies the order definition's schema; currency, paymentMethod and
// shipping.method take their defaults.
const orderInput = `{"customerId": "cust-1",
 "items": [{"productId": "sku-1", "quantity": 2, "unitPrice": "10.00"}, {"productId": "sku-2", "quantity": 1, "unitPrice": "5.50"}],
 "shipping": {"address": {"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": "US"}}}`

// orderSpec reads the order saga written as a definition (testdata/order.yaml).
func orderSpec(t testing.TB) *v1.SagaDefinitionSpec {
	t.Helper()
	data, err := os.ReadFile("testdata/order.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec := &v1.SagaDefinitionSpec{}
	if err := yaml.UnmarshalStrict(data, spec); err != nil {
		t.Fatalf("testdata/order.yaml: %v", err)
	}
	return spec
}

// specWith is the order spec changed by edit.
func specWith(t testing.TB, edit func(*v1.SagaDefinitionSpec)) *v1.SagaDefinitionSpec {
	t.Helper()
	spec := orderSpec(t)
	edit(spec)
	return spec
}

// schemaSpec is a one-step definition with the given input schema and action, for cases
// the order saga does not cover.
func schemaSpec(t testing.TB, schema, path, body string) *v1.SagaDefinitionSpec {
	t.Helper()
	return &v1.SagaDefinitionSpec{
		Input: v1.DefinitionInput{OpenAPIV3Schema: *raw(t, schema)},
		Steps: []v1.DefinitionStep{{Name: "Only", Service: "svc", Action: v1.HTTPCall{Method: "POST", Path: path, Body: body}}},
	}
}

func mustCompile(t testing.TB, spec *v1.SagaDefinitionSpec) *Program {
	t.Helper()
	p, err := Compile(context.Background(), spec)
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return p
}

// raw is JSON (or YAML) as a RawExtension, as the API server gives it: compact JSON.
func raw(t testing.TB, doc string) *runtime.RawExtension {
	t.Helper()
	data, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatalf("raw(%q): %v", doc, err)
	}
	return &runtime.RawExtension{Raw: data}
}

// statusWith is a status whose steps have the given outputs, rolling back for failure
// when it is set.
func statusWith(outputs map[v1.StepName]map[string]string, failure *v1.FailureStatus) *v1.SagaStatus {
	st := &v1.SagaStatus{Failure: failure}
	for name, out := range outputs {
		st.Steps = append(st.Steps, v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name, State: v1.StepSucceeded}, Outputs: out})
	}
	return st
}

// orderVars is the order saga o-1 with its input and the given status.
func orderVars(t testing.TB, st *v1.SagaStatus) Vars {
	t.Helper()
	return Vars{UID: "u-1", Name: "o-1", Namespace: "shop", Input: raw(t, orderInput), Status: st}
}
