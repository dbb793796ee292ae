package sagadef_test

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// TestDocsExample holds the complete example of docs/sagadefinitions.md to what it claims:
// the definition compiles, its Saga's input satisfies the schema, and every call builds a
// request once the steps before it have their outputs.
func TestDocsExample(t *testing.T) {
	def, run := docsExample(t)
	p, err := sagadef.Compile(context.Background(), &def.Spec)
	if err != nil {
		t.Fatalf("the example does not compile: %v", err)
	}
	if run.Spec.DefinitionRef.Name != def.Name {
		t.Errorf("the example Saga runs %q, not the example definition %q", run.Spec.DefinitionRef.Name, def.Name)
	}
	if errs := p.ValidateInput(run.Spec.Input); len(errs) > 0 {
		t.Fatalf("the example Saga's input is refused: %v", errs.ToAggregate())
	}
	st := &v1.SagaStatus{Failure: &v1.FailureStatus{Step: "ChargeCard", Reason: "PaymentDeclined", Message: "card declined"}}
	for _, s := range def.Spec.Steps {
		outputs := map[string]string{}
		for name := range s.Outputs {
			outputs[name] = "some-" + name
		}
		st.Steps = append(st.Steps, v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: s.Name, State: v1.StepSucceeded}, Outputs: outputs})
	}
	vars := sagadef.Vars{UID: "u-1", Name: run.Name, Namespace: "travel", Input: run.Spec.Input, Status: st}
	calls := []saga.Call{{Step: def.Spec.OnRollback.Name, Direction: saga.Action}}
	for _, s := range def.Spec.Steps {
		calls = append(calls, saga.Call{Step: s.Name, Direction: saga.Action})
		if s.Compensation != nil {
			calls = append(calls, saga.Call{Step: s.Name, Direction: saga.Compensate})
		}
	}
	for _, c := range calls {
		if _, err := p.Request(c, vars); err != nil {
			t.Errorf("%s %s: %v", c.Step, c.Direction, err)
		}
	}
	charge := saga.Call{Step: "ChargeCard", Direction: saga.Action}
	answers := map[string]saga.OutcomeKind{`{"id": "ch_1"}`: saga.Succeeded, `{"id": "ch_1", "status": "PENDING"}`: saga.Transient}
	for body, want := range answers {
		if got := p.Outcome(charge, vars, stepclient.Response{Status: 200, Body: []byte(body)}); got.Kind != want {
			t.Errorf("ChargeCard answered 200 %s: %+v, want %s", body, got, want)
		}
	}
	if wanted, err := p.RollbackWanted(vars); err != nil || !wanted {
		t.Errorf("RollbackWanted = %v, %v; want true: the seat was held", wanted, err)
	}
}

// docsExample reads the YAML block under "## A complete example": a SagaDefinition and a
// Saga.
func docsExample(t *testing.T) (*v1.SagaDefinition, *v1.Saga) {
	t.Helper()
	doc, err := os.ReadFile("../../docs/sagadefinitions.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := bytes.Cut(doc, []byte("\n## A complete example\n"))
	_, block, found := bytes.Cut(section, []byte("\n```yaml\n"))
	block, _, closed := bytes.Cut(block, []byte("\n```\n"))
	if !ok || !found || !closed {
		t.Fatal("docs/sagadefinitions.md has no yaml block under ## A complete example")
	}
	parts := strings.Split(string(block), "\n---\n")
	if len(parts) != 2 {
		t.Fatalf("the example has %d documents, want a SagaDefinition and a Saga", len(parts))
	}
	def, run := &v1.SagaDefinition{}, &v1.Saga{}
	if err := yaml.UnmarshalStrict([]byte(parts[0]), def); err != nil || def.Kind != "SagaDefinition" {
		t.Fatalf("the example's first document is not a SagaDefinition (%s): %v", def.Kind, err)
	}
	if err := yaml.UnmarshalStrict([]byte(parts[1]), run); err != nil || run.Kind != "Saga" {
		t.Fatalf("the example's second document is not a Saga (%s): %v", run.Kind, err)
	}
	return def, run
}
