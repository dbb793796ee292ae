package fakeservices

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// TestFront calls the fake with the real step client: what no rule matches the models
// answer by their rules, and each fault has the effect its Mode documents.
func TestFront(t *testing.T) {
	for name, tc := range frontCases() {
		t.Run(name, func(t *testing.T) {
			fake := Start()
			defer fake.Close()
			if tc.rule != nil {
				fake.Fail(*tc.rule)
			}
			opts := append([]testgen.OrderSagaOption{testgen.WithStepTimeout(200 * time.Millisecond)}, tc.opts...)
			obj := testgen.OrderSaga("o-1", opts...)
			obj.UID = types.UID("uid-" + name)
			obj.Status.Total, _ = ordersaga.Total(obj.Spec.Items)
			call := saga.Call{Step: tc.step, Direction: saga.Action, Attempt: 1, Key: saga.Key(string(obj.UID), tc.step, saga.Action)}
			out := ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: fake.URLs()})}.Call(context.Background(), obj, call)
			calls := fake.Calls(string(obj.UID))
			if len(calls) != 1 {
				t.Fatalf("\nReason: %s\nCalls: want 1, got %+v", tc.reason, calls)
			}
			got := frontWant{Kind: out.Kind, Code: out.Code, Effects: fake.Effects(call.Key), Status: calls[0].Status, Fault: calls[0].Fault}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nCall(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// frontWant is what TestFront compares: the step client's outcome, the effects the model
// logged, and the fake's record of the call.
type frontWant struct {
	Kind    saga.OutcomeKind
	Code    string
	Effects int
	Status  int
	Fault   Mode
}

type frontCase struct {
	reason string
	rule   *Rule
	step   v1.StepName
	opts   []testgen.OrderSagaOption
	want   frontWant
}

func frontCases() map[string]frontCase {
	type want = frontWant
	return map[string]frontCase{
		"ModelAnswers": {
			reason: "A request no rule matches is answered by the model, with effect.",
			step:   v1.StepProcessPayment,
			want:   want{Kind: saga.Succeeded, Effects: 1, Status: http.StatusCreated},
		},
		"DeclinedByTheModel": {
			reason: "A declined method is refused by the payment model's rules, and the decline is stored.",
			step:   v1.StepProcessPayment,
			opts:   []testgen.OrderSagaOption{testgen.WithPaymentMethod(DeclinedMethod)},
			want:   want{Kind: saga.BusinessFailure, Code: "PAYMENT_DECLINED", Effects: 1, Status: http.StatusPaymentRequired},
		},
		"OutOfStock": {
			reason: "Ordering more than ScarceStock of ScarceProduct is refused by the inventory model.",
			step:   v1.StepReserveInventory,
			opts:   []testgen.OrderSagaOption{testgen.WithItems(testgen.Item(ScarceProduct, ScarceStock+1, ScarcePrice))},
			want:   want{Kind: saga.BusinessFailure, Code: "OUT_OF_STOCK", Effects: 1, Status: http.StatusConflict},
		},
		"UnavailableWithoutEffect": {
			reason: "Unavailable answers the services' own 503 and the model never sees the request.",
			rule:   &Rule{Step: "ProcessPayment", Direction: "action", Mode: Unavailable},
			step:   v1.StepProcessPayment,
			want:   want{Kind: saga.Transient, Code: "FAULT_INJECTED", Status: http.StatusServiceUnavailable, Fault: Unavailable},
		},
		"HangWithoutEffect": {
			reason: "Hang never answers: the client times out, and the model never sees the request.",
			rule:   &Rule{Step: "ProcessPayment", Mode: Hang},
			step:   v1.StepProcessPayment,
			want:   want{Kind: saga.Transient, Code: "TIMEOUT", Fault: Hang},
		},
		"SlowWithEffect": {
			reason: "Slow answers late, and the model answers.",
			rule:   &Rule{Direction: "action", Mode: Slow, Delay: 20 * time.Millisecond},
			step:   v1.StepProcessPayment,
			want:   want{Kind: saga.Succeeded, Effects: 1, Status: http.StatusCreated, Fault: Slow},
		},
		"RuleOfAnotherStep": {
			reason: "A rule applies to its step only.",
			rule:   &Rule{Step: "ReserveInventory", Mode: Unavailable},
			step:   v1.StepProcessPayment,
			want:   want{Kind: saga.Succeeded, Effects: 1, Status: http.StatusCreated},
		},
	}
}

func TestEffectsPanicsOnAKeyOfNoCall(t *testing.T) {
	fake := Start()
	defer fake.Close()
	for _, key := range []string{"uid/ConfirmOrder/compensate", "uid/Typo/action", "uid/CreateOrder", "uid/CreateOrder/undo"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Effects(%q) did not panic", key)
				}
			}()
			fake.Effects(key)
		}()
	}
}

func TestFailRefusesARuleThatDoesNothing(t *testing.T) {
	fake := Start()
	defer fake.Close()
	for name, r := range map[string]Rule{"NoMode": {Step: "CreateOrder"}, "SlowWithoutDelay": {Mode: Slow}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: Fail(%+v) did not panic", name, r)
				}
			}()
			fake.Fail(r)
		}()
	}
}
