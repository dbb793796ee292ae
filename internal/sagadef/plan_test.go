package sagadef

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

func TestPlan(t *testing.T) {
	def := saga.Policy{MaxAttempts: 4, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 30 * time.Second}
	step := func(name v1.StepName, resource string) saga.Step {
		return saga.Step{Name: name, Compensable: true, Policy: def, Timeout: 5 * time.Second, ResourceOutput: resource}
	}
	order := &saga.Plan{
		Steps: []saga.Step{
			step("CreateOrder", ""), // two outputs: neither is known to be the resource
			func() saga.Step {
				s := step("ReserveInventory", "reservationId")
				s.Timeout = 2 * time.Second
				return s
			}(),
			func() saga.Step { s := step("ProcessPayment", "paymentId"); s.Policy.MaxAttempts = 8; return s }(),
			step("ScheduleShipment", ""),
			{Name: "ConfirmOrder", Pivot: true, Policy: def, Timeout: 5 * time.Second},
			{Name: "SendNotification", ForwardOnly: true, Policy: def, Timeout: 5 * time.Second},
		},
		AfterRollback: &saga.AfterRollback{Name: "NotifyCancellation", Policy: def, Timeout: 5 * time.Second},
		Reasons:       map[string]string{"OUT_OF_STOCK": "OutOfStock", "PAYMENT_DECLINED": "PaymentDeclined"},
	}
	cases := map[string]struct {
		reason string
		spec   *v1.SagaDefinitionSpec
		want   *saga.Plan
	}{
		"OrderDefinition": {
			reason: "Flags from the steps; the definition's policy and timeout unless a step overrides them; the only output is the resource.",
			spec:   orderSpec(t),
			want:   order,
		},
		"Defaults": {
			reason: "Without retryPolicy or stepTimeout (no API server defaulting), the engine's defaults apply; onRollback is named OnRollback.",
			spec: specWith(t, func(s *v1.SagaDefinitionSpec) {
				s.RetryPolicy, s.StepTimeout, s.FailureReasons = nil, nil, nil
				s.Steps = s.Steps[:1]
				s.OnRollback.Name, s.OnRollback.Action.Body = "", "{}"
			}),
			want: &saga.Plan{
				Steps: []saga.Step{{Name: "CreateOrder", Compensable: true, Policy: saga.PolicyOf(nil), Timeout: saga.DefaultStepTimeout}},
				AfterRollback: &saga.AfterRollback{
					Name: "OnRollback", Policy: saga.PolicyOf(nil), Timeout: saga.DefaultStepTimeout,
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mustCompile(t, tc.spec).Plan()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nPlan(): -want, +got:\n%s", tc.reason, diff)
			}
			if err := got.Validate(); err != nil {
				t.Errorf("Plan().Validate(): %v", err)
			}
		})
	}
}

func TestPlanIsACopy(t *testing.T) {
	p := mustCompile(t, orderSpec(t))
	got := p.Plan()
	got.Steps[0].Pivot, got.Reasons["OUT_OF_STOCK"], got.AfterRollback.Skip = true, "Changed", true
	again := p.Plan()
	if again.Steps[0].Pivot || again.Reasons["OUT_OF_STOCK"] != "OutOfStock" || again.AfterRollback.Skip {
		t.Errorf("Plan() returned the program's own plan: a change to one copy shows in the next: %+v", again)
	}
}
