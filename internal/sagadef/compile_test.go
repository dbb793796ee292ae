package sagadef

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func TestCompileErrors(t *testing.T) {
	type want struct {
		Reason string
		Field  string
		Step   v1.StepName
	}
	cases := map[string]struct {
		reason   string
		spec     *v1.SagaDefinitionSpec
		want     want
		problems int
		contains string
	}{
		"UnknownInputField": {
			reason:   "input is typed by the schema: a field it does not declare fails to compile.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[0].Action.Body = "{'customer': input.customerID}" }),
			want:     want{ReasonInvalidExpression, "spec.steps[0].action.body", "CreateOrder"},
			contains: "step CreateOrder, spec.steps[0].action.body: undefined field 'customerID'",
		},
		"UndeclaredCompensationOutput": {
			reason: "A compensation's answer can only fill in an output its action declares: expressions are typed by the declared ones.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.Steps[0].Compensation.Outputs = map[string]v1.Expression{"cancelledAt": "'now'"}
			}),
			want:     want{ReasonInvalidExpression, "spec.steps[0].compensation.outputs[cancelledAt]", "CreateOrder"},
			contains: "not one of the step's outputs",
		},
		"LaterStepReferenced": {
			reason: "steps holds only the steps before this one.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.Steps[1].Action.Body = "{'payment': steps.ProcessPayment.outputs.paymentId}"
			}),
			want:     want{ReasonInvalidExpression, "spec.steps[1].action.body", "ReserveInventory"},
			contains: "undefined field 'ProcessPayment' (line 1, column 18): steps has only the steps before this one, and ProcessPayment is not one of them",
		},
		"OwnStepInAction": {
			reason: "An action cannot read its own outputs: they come from its answer.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.Steps[2].Action.Path = "'/v1/payments/' + steps.ProcessPayment.outputs.paymentId"
			}),
			want:     want{ReasonInvalidExpression, "spec.steps[2].action.path", "ProcessPayment"},
			contains: "ProcessPayment is not one of them",
		},
		"UndeclaredOutput": {
			reason: "A step's outputs are typed by the names it declares.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.Steps[2].Action.Body = "{'amount': steps.CreateOrder.outputs.amount}"
			}),
			want:     want{ReasonInvalidExpression, "spec.steps[2].action.body", "ProcessPayment"},
			contains: "undefined field 'amount'",
		},
		"OutputNotAString": {
			reason:   "An output must give a string; CEL knows status is an int.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[0].Outputs["total"] = "response.status" }),
			want:     want{ReasonInvalidExpression, "spec.steps[0].outputs[total]", "CreateOrder"},
			contains: "gives int, want string",
		},
		"OverrideNotABool": {
			reason:   "businessFailure must give a bool.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[5].BusinessFailure = "response.status + 1" }),
			want:     want{ReasonInvalidExpression, "spec.steps[5].businessFailure", "SendNotification"},
			contains: "gives int, want bool",
		},
		"PathNotAString": {
			reason:   "A path must give a string.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[3].Compensation.Path = "input.items.size()" }),
			want:     want{ReasonInvalidExpression, "spec.steps[3].compensation.path", "ScheduleShipment"},
			contains: "gives int, want string",
		},
		"SyntaxError": {
			reason:   "A syntax error names the field and where in the expression.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[4].Action.Path = "'/v1/orders/' +" }),
			want:     want{ReasonInvalidExpression, "spec.steps[4].action.path", "ConfirmOrder"},
			contains: "Syntax error",
		},
		"ResponseInPath": {
			reason:   "response exists only where an answer is read.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[1].Action.Path = "'/v1/reservations/' + response.body.id" }),
			want:     want{ReasonInvalidExpression, "spec.steps[1].action.path", "ReserveInventory"},
			contains: "undeclared reference to 'response' (line 1, column 23): response exists only in outputs, businessFailure and transient",
		},
		"FailureInAction": {
			reason:   "failure exists only while rolling back.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[0].Action.Body = "{'why': failure.code}" }),
			want:     want{ReasonInvalidExpression, "spec.steps[0].action.body", "CreateOrder"},
			contains: "failure exists only in a compensation and in onRollback",
		},
		"WhenOfOnRollback": {
			reason:   "onRollback's fields are named under spec.onRollback, with its name as the step.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.OnRollback.When = "steps.CreateOrder.outputs.orderId" }),
			want:     want{ReasonInvalidExpression, "spec.onRollback.when", "NotifyCancellation"},
			contains: "gives string, want bool",
		},
		"EveryProblemCollected": {
			reason: "All problems are reported, in spec order, not only the first.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.Steps[1].Action.Path = "nope"
				s.Steps[3].Outputs["shipmentId"] = "1"
				s.OnRollback.Action.Body = "{"
			}),
			want:     want{ReasonInvalidExpression, "spec.steps[1].action.path", "ReserveInventory"},
			problems: 3,
			contains: "3 problems: step ReserveInventory, spec.steps[1].action.path: undeclared reference to 'nope'",
		},
		"NonStructuralSchema": {
			reason:   "A property without a type is not structural.",
			spec:     schemaSpec(t, `{type: object, properties: {x: {description: untyped}}}`, "'/'", ""),
			want:     want{ReasonInvalidSchema, "spec.input.openAPIV3Schema.properties[x].type", ""},
			contains: "spec.input.openAPIV3Schema.properties[x].type: is not structural: Required value",
		},
		"SchemaNotAnObject": {
			reason: "A Saga's input is an object.",
			spec:   schemaSpec(t, `{type: string}`, "'/'", ""),
			want:   want{ReasonInvalidSchema, "spec.input.openAPIV3Schema.type", ""},
		},
		"MisspeltKeyword": {
			reason:   "An unknown keyword would be a constraint silently dropped.",
			spec:     schemaSpec(t, `{type: object, propertys: {x: {type: string}}}`, "'/'", ""),
			want:     want{ReasonInvalidSchema, "spec.input.openAPIV3Schema", ""},
			contains: `unknown field "propertys"`,
		},
		"ValidationRulesRefused": {
			reason:   "x-kubernetes-validations would not be enforced on a Saga's input.",
			spec:     schemaSpec(t, `{type: object, properties: {x: {type: string, x-kubernetes-validations: [{rule: "self != ''"}]}}}`, "'/'", ""),
			want:     want{ReasonInvalidSchema, "spec.input.openAPIV3Schema", ""},
			contains: "x-kubernetes-validations",
		},
		"InvalidDefault": {
			reason:   "A default must satisfy its own schema.",
			spec:     schemaSpec(t, `{type: object, properties: {count: {type: integer, minimum: 1, default: 0}}}`, "'/'", ""),
			want:     want{ReasonInvalidSchema, "spec.input.openAPIV3Schema.properties[count].default", ""},
			contains: "has an invalid default",
		},
		"MissingSchema": {
			reason: "The schema is required.",
			spec:   specWith(t, func(s *v1.SagaDefinitionSpec) { s.Input.OpenAPIV3Schema.Raw = nil }),
			want:   want{ReasonInvalidSchema, "spec.input.openAPIV3Schema", ""},
		},
		"TwoPivots": {
			reason:   "A plan the engine cannot run (the CRD refuses it too) is not compiled.",
			spec:     specWith(t, func(s *v1.SagaDefinitionSpec) { s.Steps[5].Pivot, s.Steps[5].ForwardOnly = true, false }),
			want:     want{ReasonInvalidPlan, "spec.steps", ""},
			contains: "a second pivot",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Compile(context.Background(), tc.spec)
			var ce *CompileError
			if !errors.As(err, &ce) {
				t.Fatalf("\nReason: %s\nCompile(...): want a *CompileError, got %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, want{ce.Reason, ce.Field, ce.Step}); diff != "" {
				t.Errorf("\nReason: %s\nCompile(...): -want, +got:\n%s\nmessage: %s", tc.reason, diff, ce.Message)
			}
			if !strings.Contains(ce.Message, tc.contains) {
				t.Errorf("\nReason: %s\nCompile(...).Message = %q, want it to contain %q", tc.reason, ce.Message, tc.contains)
			}
			if tc.problems > 0 && len(ce.Problems) != tc.problems {
				t.Errorf("\nReason: %s\nCompile(...): %d problems, want %d: %s", tc.reason, len(ce.Problems), tc.problems, ce.Message)
			}
		})
	}
}

func TestCompileErrorMessageIsBounded(t *testing.T) {
	spec := specWith(t, func(s *v1.SagaDefinitionSpec) {
		for i := range s.Steps {
			s.Steps[i].Action.Path = fmt.Sprintf("input.noSuchFieldWithAFairlyLongName%d + response.body", i)
			s.Steps[i].Action.Body = "steps.Nowhere"
		}
	})
	_, err := Compile(context.Background(), spec)
	var ce *CompileError
	if !errors.As(err, &ce) {
		t.Fatalf("Compile(...): want a *CompileError, got %v", err)
	}
	if len(ce.Message) > MaxMessageBytes || len(ce.Problems) != 12 {
		t.Errorf("Compile(...): message of %d bytes (max %d), %d problems (want 12): %s", len(ce.Message), MaxMessageBytes, len(ce.Problems), ce.Message)
	}
}

func TestCompileDoesNotKeepTheSpec(t *testing.T) {
	spec := orderSpec(t)
	p := mustCompile(t, spec)
	spec.Steps[0].Name, spec.Steps[0].Action.Path = "Changed", "'/changed'"
	if got := p.Plan().Steps[0].Name; got != "CreateOrder" {
		t.Errorf("Plan().Steps[0].Name = %s after the caller changed its spec, want CreateOrder", got)
	}
}

// BenchmarkCompile measures what a definition costs the controller once per generation.
func BenchmarkCompile(b *testing.B) {
	spec := orderSpec(b)
	for b.Loop() {
		if _, err := Compile(context.Background(), spec); err != nil {
			b.Fatal(err)
		}
	}
}
