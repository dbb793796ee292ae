package ordersaga_test

import (
	"slices"
	"testing"
	"time"

	"github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/order"
)

// The order saga's fence (ADR 0011) is only as good as the order service's state
// machine: the cancel of a confirmed order must be refused with a code the plan names, and
// the confirmation of a cancelled order refused. These run the saga's own calls against
// the service model, which the contract suite (internal/testing/servicemodel) holds to the
// real order service on both refusals.
func TestFenceRefusalsOfTheOrderService(t *testing.T) {
	plan := fencedPlan(t)
	t.Run("CancelOfAConfirmedOrder", func(t *testing.T) {
		call := orderCalls(t)
		for _, step := range []v1alpha1.StepName{v1alpha1.StepCreateOrder, v1alpha1.StepConfirmOrder} {
			if out := call(step, saga.Action); out.Kind != saga.Succeeded {
				t.Fatalf("%s: %+v", step, out)
			}
		}
		out := call(plan.Fence.Step, saga.Compensate)
		if out.Kind != saga.BusinessFailure || !slices.Contains(plan.Fence.PivotRan, out.Code) {
			t.Errorf("the fence on a confirmed order answered %+v, want a business failure with one of %v", out, plan.Fence.PivotRan)
		}
	})
	t.Run("ConfirmOfACancelledOrder", func(t *testing.T) {
		call := orderCalls(t)
		if out := call(v1alpha1.StepCreateOrder, saga.Action); out.Kind != saga.Succeeded {
			t.Fatalf("CreateOrder: %+v", out)
		}
		if out := call(plan.Fence.Step, saga.Compensate); out.Kind != saga.Succeeded {
			t.Fatalf("the fence on a pending order answered %+v, want success", out)
		}
		if out := call(v1alpha1.StepConfirmOrder, saga.Action); out.Kind != saga.BusinessFailure || out.Code != order.CodeOrderCancelled {
			t.Errorf("ConfirmOrder after the fence answered %+v, want a business failure %s", out, order.CodeOrderCancelled)
		}
	})
	t.Run("FenceBeforeTheOrderExists", func(t *testing.T) {
		call := orderCalls(t)
		if out := call(plan.Fence.Step, saga.Compensate); out.Kind != saga.Succeeded {
			t.Fatalf("the fence before CreateOrder answered %+v, want success (a tombstone)", out)
		}
		if out := call(v1alpha1.StepConfirmOrder, saga.Action); out.Kind == saga.Succeeded {
			t.Errorf("ConfirmOrder after a fence on no order succeeded: the pivot ran after its fence")
		}
	})
}

// orderCalls returns a maker of the order saga's calls, for one saga, against a fresh
// service model.
func orderCalls(t *testing.T) func(v1alpha1.StepName, saga.Direction) saga.Outcome {
	t.Helper()
	world := servicemodel.New(servicemodel.Config{Now: func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) }})
	urls := map[string]string{}
	for _, s := range world.Services() {
		urls[s] = world.URL(s)
	}
	caller := ordersaga.Caller{Client: stepclient.NewWithTransport(stepclient.Resolver{Overrides: urls}, world.Client().Transport)}
	obj := testgen.OrderSaga("fenced", testgen.WithNamespace("shop"))
	obj.UID = "0b9a1d2e-0000-4000-8000-0000000000fe"
	return func(step v1alpha1.StepName, dir saga.Direction) saga.Outcome {
		return caller.Call(t.Context(), obj, saga.Call{Step: step, Direction: dir, Attempt: 1, Key: saga.Key(string(obj.UID), step, dir)})
	}
}

// fencedPlan is the order plan, checked to fence its pivot with CreateOrder's cancel,
// refused with the order service's own code.
func fencedPlan(t *testing.T) *saga.Plan {
	t.Helper()
	plan := ordersaga.Plan(&v1alpha1.OrderSagaSpec{})
	if err := plan.Validate(); err != nil {
		t.Fatalf("the order plan: %v", err)
	}
	if f := plan.Fence; f == nil || f.Step != v1alpha1.StepCreateOrder || !slices.Equal(f.PivotRan, []string{order.CodeOrderConfirmed}) {
		t.Fatalf("the order plan's fence is %+v, want CreateOrder's cancel, refused with %s", plan.Fence, order.CodeOrderConfirmed)
	}
	return plan
}
