package sagadef

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func TestValidateInput(t *testing.T) {
	// problem is a field error reduced to what the caller shows and branches on.
	type problem struct {
		Type  field.ErrorType
		Field string
	}
	big := `{"customerId": "` + strings.Repeat("x", v1.MaxInputBytes) + `"}`
	cases := map[string]struct {
		reason string
		input  *runtime.RawExtension
		want   []problem
	}{
		"Valid": {
			reason: "The order input satisfies the schema once defaults apply.",
			input:  raw(t, orderInput),
		},
		"NilInputLacksRequiredFields": {
			reason: "No input is {}, which still has to have the required fields.",
			input:  nil,
			want: []problem{
				{field.ErrorTypeRequired, "spec.input.customerId"},
				{field.ErrorTypeRequired, "spec.input.items"},
				{field.ErrorTypeRequired, "spec.input.shipping"},
			},
		},
		"NullInput": {
			reason: "null is no input.",
			input:  &runtime.RawExtension{Raw: []byte("null")},
			want: []problem{
				{field.ErrorTypeRequired, "spec.input.customerId"},
				{field.ErrorTypeRequired, "spec.input.items"},
				{field.ErrorTypeRequired, "spec.input.shipping"},
			},
		},
		"WrongTypes": {
			reason: "Each wrong value is named by its path under spec.input.",
			input:  raw(t, strings.Replace(strings.Replace(orderInput, `"quantity": 2`, `"quantity": "two"`, 1), `"cust-1"`, `7`, 1)),
			want: []problem{
				{field.ErrorTypeTypeInvalid, "spec.input.customerId"},
				{field.ErrorTypeTypeInvalid, "spec.input.items[0].quantity"},
			},
		},
		"OutOfRangeAndNotInTheEnum": {
			reason: "minimum and enum are checked.",
			input:  raw(t, strings.Replace(strings.Replace(orderInput, `"quantity": 2`, `"quantity": 0`, 1), `"customerId"`, `"currency": "JPY", "customerId"`, 1)),
			want: []problem{
				{field.ErrorTypeNotSupported, "spec.input.currency"},
				{field.ErrorTypeInvalid, "spec.input.items[0].quantity"},
			},
		},
		"UnknownFields": {
			reason: "A field the schema does not declare is refused, not silently dropped.",
			input:  raw(t, strings.Replace(strings.Replace(orderInput, `"customerId"`, `"coupon": "X", "customerId"`, 1), `"productId": "sku-2"`, `"color": "red", "productId": "sku-2"`, 1)),
			want: []problem{
				{field.ErrorTypeForbidden, "spec.input.coupon"},
				{field.ErrorTypeForbidden, "spec.input.items[1].color"},
			},
		},
		"TooLarge": {
			reason: "The input is at most v1.MaxInputBytes as JSON.",
			input:  raw(t, big),
			want:   []problem{{field.ErrorTypeTooLong, "spec.input"}},
		},
		"NotAnObject": {
			reason: "The input is a JSON object.",
			input:  raw(t, `["cust-1"]`),
			want:   []problem{{field.ErrorTypeInvalid, "spec.input"}},
		},
		"NotJSON": {
			reason: "Raw bytes that are not JSON are refused.",
			input:  &runtime.RawExtension{Raw: []byte(`{"customerId": `)},
			want:   []problem{{field.ErrorTypeInvalid, "spec.input"}},
		},
	}
	p := mustCompile(t, orderSpec(t))
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			errs := p.ValidateInput(tc.input)
			got := make([]problem, 0, len(errs))
			for _, e := range errs {
				got = append(got, problem{e.Type, e.Field})
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("\nReason: %s\nValidateInput(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRollbackWanted(t *testing.T) {
	order := mustCompile(t, orderSpec(t))
	cases := map[string]struct {
		reason  string
		program *Program
		status  *v1.SagaStatus
		want    bool
		wantErr string
	}{
		"OrderNeverCreated": {
			reason:  "when is has(steps.CreateOrder.outputs.orderId): no order, no cancellation notice.",
			program: order,
			status:  statusWith(nil, &v1.FailureStatus{Step: "CreateOrder", Reason: "StepRejected"}),
			want:    false,
		},
		"OrderCreated": {
			reason:  "An order was created: the customer hears of its cancellation.",
			program: order,
			status:  statusWith(map[v1.StepName]map[string]string{"CreateOrder": {"orderId": "ord-u-1"}}, &v1.FailureStatus{Step: "ReserveInventory", Reason: "OutOfStock"}),
			want:    true,
		},
		"NoWhen": {
			reason: "Without when the call is always made.",
			program: mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.OnRollback.When = ""
			})),
			want: true,
		},
		"NoOnRollback": {
			reason:  "Without onRollback there is no call to make.",
			program: mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) { s.OnRollback = nil })),
			want:    false,
		},
		"WhenFails": {
			reason: "Reading an absent output without has() is an error, for the caller to decide on.",
			program: mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.OnRollback.When = "steps.CreateOrder.outputs.orderId != ''"
			})),
			wantErr: "step NotifyCancellation, spec.onRollback.when: no such key: orderId",
		},
		"WhenReadsTheFailure": {
			reason: "when sees the failure.",
			program: mustCompile(t, specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.OnRollback.When = "failure.code != 'Deleted'"
			})),
			status: statusWith(nil, &v1.FailureStatus{Step: "CreateOrder", Reason: "Deleted"}),
			want:   false,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := tc.program.RollbackWanted(orderVars(t, tc.status))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("\nReason: %s\nRollbackWanted(...) error = %v, want one containing %q", tc.reason, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("\nReason: %s\nRollbackWanted(...) = %v, %v; want %v, nil", tc.reason, got, err, tc.want)
			}
		})
	}
}
