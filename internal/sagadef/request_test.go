package sagadef

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// request is a stepclient.Request with its body as text, for readable diffs.
type request struct {
	Service, Method, Path, Body string
}

// ranAll is the status of an order saga whose first four steps succeeded, rolling back
// because of failure (nil: not rolling back).
func ranAll(failure *v1.FailureStatus) *v1.SagaStatus {
	return statusWith(map[v1.StepName]map[string]string{
		"CreateOrder":      {"orderId": "ord-u-1", "total": "25.50"},
		"ReserveInventory": {"reservationId": "res-u-1"},
		"ProcessPayment":   {"paymentId": "pay-u-1"},
		"ScheduleShipment": {"shipmentId": "shp-u-1", "trackingNumber": "TRK1"},
	}, failure)
}

func TestRequestOrderDefinition(t *testing.T) {
	declined := &v1.FailureStatus{Step: "ProcessPayment", Reason: "PaymentDeclined", Message: "card declined"}
	items := `"items":[{"productId":"sku-1","quantity":2},{"productId":"sku-2","quantity":1}]`
	cases := map[string]struct {
		reason string
		call   saga.Call
		status *v1.SagaStatus
		want   request
	}{
		"CreateOrder": {
			reason: "The order service's PUT body, with the schema's default currency applied.",
			call:   saga.Call{Step: "CreateOrder", Direction: saga.Action},
			want: request{"order", "PUT", "/v1/orders/ord-u-1",
				`{"currency":"USD","customerId":"cust-1","items":[{"productId":"sku-1","quantity":2,"unitPrice":"10.00"},{"productId":"sku-2","quantity":1,"unitPrice":"5.50"}]}`},
		},
		"CancelOrder": {
			reason: "A compensation reads the saga's name and namespace.",
			call:   saga.Call{Step: "CreateOrder", Direction: saga.Compensate},
			status: ranAll(declined),
			want:   request{"order", "POST", "/v1/orders/ord-u-1/cancel", `{"reason":"saga shop/o-1 rolled back"}`},
		},
		"ReserveInventory": {
			reason: "An action reads an earlier step's output.",
			call:   saga.Call{Step: "ReserveInventory", Direction: saga.Action},
			status: ranAll(nil),
			want:   request{"inventory", "PUT", "/v1/reservations/res-u-1", `{` + items + `,"orderId":"ord-u-1"}`},
		},
		"ReleaseInventory": {
			reason: "A compensation reads the failure; its code is status.failure.reason.",
			call:   saga.Call{Step: "ReserveInventory", Direction: saga.Compensate},
			status: ranAll(declined),
			want:   request{"inventory", "POST", "/v1/reservations/res-u-1/release", `{"reason":"saga shop/o-1 rolled back: PaymentDeclined"}`},
		},
		"ProcessPayment": {
			reason: "The amount is CreateOrder's total output; the method, the schema's default.",
			call:   saga.Call{Step: "ProcessPayment", Direction: saga.Action},
			status: ranAll(nil),
			want: request{"payment", "PUT", "/v1/payments/pay-u-1",
				`{"amount":"25.50","currency":"USD","customerId":"cust-1","method":"CARD","orderId":"ord-u-1"}`},
		},
		"RefundPayment": {
			reason: "A compensation reads its own step's output.",
			call:   saga.Call{Step: "ProcessPayment", Direction: saga.Compensate},
			status: ranAll(declined),
			want:   request{"payment", "POST", "/v1/payments/pay-u-1/refund", `{"reason":"refund of pay-u-1"}`},
		},
		"RefundAPaymentThatNeverAnswered": {
			reason: "A refund whose charge timed out, with no paymentId recorded, can still be asked for.",
			call:   saga.Call{Step: "ProcessPayment", Direction: saga.Compensate},
			status: &v1.SagaStatus{Failure: declined},
			want:   request{"payment", "POST", "/v1/payments/pay-u-1/refund", `{"reason":"saga rolled back"}`},
		},
		"ScheduleShipment": {
			reason: "Part of the input goes into the body as it is, defaults applied.",
			call:   saga.Call{Step: "ScheduleShipment", Direction: saga.Action},
			status: ranAll(nil),
			want: request{"shipping", "PUT", "/v1/shipments/shp-u-1",
				`{"address":{"city":"Springfield","country":"US","line1":"1 Main St","name":"Ada","postalCode":"12345"},` + items + `,"method":"STANDARD","orderId":"ord-u-1"}`},
		},
		"ConfirmOrder": {
			reason: "An empty object is a body.",
			call:   saga.Call{Step: "ConfirmOrder", Direction: saga.Action},
			status: ranAll(nil),
			want:   request{"order", "POST", "/v1/orders/ord-u-1/confirm", `{}`},
		},
		"SendNotification": {
			reason: "Nested objects from several steps' outputs.",
			call:   saga.Call{Step: "SendNotification", Direction: saga.Action},
			status: ranAll(nil),
			want: request{"notification", "PUT", "/v1/notifications/ntf-u-1-confirmed",
				`{"customerId":"cust-1","data":{"total":"25.50","trackingNumber":"TRK1"},"orderId":"ord-u-1","type":"ORDER_CONFIRMED"}`},
		},
		"NotifyCancellation": {
			reason: "The onRollback call is asked for by its name.",
			call:   saga.Call{Step: "NotifyCancellation", Direction: saga.Action},
			status: ranAll(declined),
			want: request{"notification", "PUT", "/v1/notifications/ntf-u-1-cancelled",
				`{"customerId":"cust-1","data":{"total":"25.50"},"orderId":"ord-u-1","type":"ORDER_CANCELLED"}`},
		},
	}
	p := mustCompile(t, orderSpec(t))
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			req, err := p.Request(tc.call, orderVars(t, tc.status))
			if err != nil {
				t.Fatalf("\nReason: %s\nRequest(%s): %v", tc.reason, tc.call.Step, err)
			}
			got := request{req.Service, req.Method, req.Path, string(req.Body)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nRequest(%s): -want, +got:\n%s", tc.reason, tc.call.Step, diff)
			}
		})
	}
}

func TestRequestValues(t *testing.T) {
	const anything = `{type: object, x-kubernetes-preserve-unknown-fields: true,
	  properties: {namespace: {type: string}, x-y: {type: string}, ref: {x-kubernetes-int-or-string: true}}}`
	cases := map[string]struct {
		reason string
		path   string
		body   string
		input  string
		want   request
	}{
		"JSONOfEveryKind": {
			reason: "Ints stay exact, timestamps and durations become strings, and input keeps its keys as written.",
			path:   "'/v1/things/' + saga.uid",
			body: `{'all': input, 'ns': input.namespace, 'dash': input.x__dash__y, 'n': null, 'b': true, 'd': 1.5, 'i': -3, 'u': 7u,
			        'l': [1, 'a'], 't': timestamp('2026-01-02T03:04:05Z'), 'dur': duration('90s')}`,
			input: `{"namespace": "n1", "x-y": "z", "extra": {"k": [1, 2.5]}}`,
			want: request{"svc", "POST", "/v1/things/u-1",
				`{"all":{"extra":{"k":[1,2.5]},"namespace":"n1","x-y":"z"},"b":true,"d":1.5,"dash":"z","dur":"1m30s","i":-3,"l":[1,"a"],"n":null,"ns":"n1","t":"2026-01-02T03:04:05Z","u":7}`},
		},
		"NoBody": {
			reason: "Without a body expression the request has none.",
			path:   "'/v1/ping'",
			want:   request{Service: "svc", Method: "POST", Path: "/v1/ping"},
		},
		"NilInput": {
			reason: "A Saga without input reads {}.",
			path:   "'/v1/' + (has(input.namespace) ? input.namespace : 'none')",
			want:   request{Service: "svc", Method: "POST", Path: "/v1/none"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := mustCompile(t, schemaSpec(t, anything, tc.path, tc.body))
			vars := Vars{UID: "u-1", Name: "s", Namespace: "ns"}
			if tc.input != "" {
				vars.Input = raw(t, tc.input)
			}
			req, err := p.Request(saga.Call{Step: "Only", Direction: saga.Action}, vars)
			if err != nil {
				t.Fatalf("\nReason: %s\nRequest: %v", tc.reason, err)
			}
			got := request{req.Service, req.Method, req.Path, string(req.Body)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nRequest: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	const intOrString = `{type: object, properties: {ref: {x-kubernetes-int-or-string: true}}}`
	order := mustCompile(t, orderSpec(t))
	cases := map[string]struct {
		reason  string
		program *Program
		call    saga.Call
		vars    Vars
		want    []string // parts of the error
	}{
		"OutputAbsent": {
			reason:  "Reading an output of a step that has not succeeded names the expression and the key.",
			program: order,
			call:    saga.Call{Step: "ProcessPayment", Direction: saga.Action},
			vars:    orderVars(t, nil),
			want:    []string{"step ProcessPayment, spec.steps[2].action.body: ", "no such key: orderId", "has()"},
		},
		"UnknownStep": {
			reason:  "A call of a step the definition does not have.",
			program: order,
			call:    saga.Call{Step: "Nope", Direction: saga.Action},
			vars:    orderVars(t, nil),
			want:    []string{"the definition has no step Nope"},
		},
		"NoCompensation": {
			reason:  "The pivot has no compensation.",
			program: order,
			call:    saga.Call{Step: "ConfirmOrder", Direction: saga.Compensate},
			vars:    orderVars(t, ranAll(nil)),
			want:    []string{"step ConfirmOrder has no compensation"},
		},
		"InputNotAnObject": {
			reason:  "An input that is not an object cannot be read.",
			program: order,
			call:    saga.Call{Step: "CreateOrder", Direction: saga.Action},
			vars:    Vars{UID: "u-1", Input: raw(t, `[1, 2]`)},
			want:    []string{"read the saga's input", "must be a JSON object"},
		},
		"RelativePath": {
			reason:  "A path must start with /.",
			program: mustCompile(t, schemaSpec(t, intOrString, "'v1/things'", "")),
			call:    saga.Call{Step: "Only", Direction: saga.Action},
			want:    []string{`step Only, spec.steps[0].action.path: gave "v1/things", not a request path starting with "/"`},
		},
		"PathOfTheWrongTypeAtRunTime": {
			reason:  "A dyn path is checked when evaluated.",
			program: mustCompile(t, schemaSpec(t, intOrString, "input.ref", "")),
			call:    saga.Call{Step: "Only", Direction: saga.Action},
			vars:    Vars{Input: raw(t, `{"ref": 3}`)},
			want:    []string{"step Only, spec.steps[0].action.path: gave a int, want a string"},
		},
		"NoJSONForm": {
			reason:  "Infinity is not JSON.",
			program: mustCompile(t, schemaSpec(t, intOrString, "'/'", "{'x': 1.0 / 0.0}")),
			call:    saga.Call{Step: "Only", Direction: saga.Action},
			want:    []string{"step Only, spec.steps[0].action.body: ", `at "x": +Inf has no JSON form`},
		},
		"CostLimit": {
			reason:  "An evaluation is bounded as the API server bounds a validation rule.",
			program: mustCompile(t, schemaSpec(t, intOrString, "'/'", "lists.range(3000).map(i, lists.range(3000).map(j, i + j))")),
			call:    saga.Call{Step: "Only", Direction: saga.Action},
			want:    []string{"step Only, spec.steps[0].action.body: ", "cost limit exceeded"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.program.Request(tc.call, tc.vars)
			if err == nil {
				t.Fatalf("\nReason: %s\nRequest(%s): no error, want one containing %q", tc.reason, tc.call.Step, tc.want)
			}
			for _, part := range tc.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("\nReason: %s\nRequest(%s) = %q, want it to contain %q", tc.reason, tc.call.Step, err, part)
				}
			}
		})
	}
}

// BenchmarkRequest measures what one call's request costs: input decoding, defaults and
// two evaluations.
func BenchmarkRequest(b *testing.B) {
	p := mustCompile(b, orderSpec(b))
	vars := orderVars(b, ranAll(nil))
	call := saga.Call{Step: "ScheduleShipment", Direction: saga.Action}
	for b.Loop() {
		if _, err := p.Request(call, vars); err != nil {
			b.Fatal(err)
		}
	}
}

func TestProgramIsSafeForConcurrentUse(t *testing.T) {
	p := mustCompile(t, orderSpec(t))
	vars := orderVars(t, ranAll(nil))
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := p.Request(saga.Call{Step: "ScheduleShipment", Direction: saga.Action}, vars)
			if err == nil {
				p.Outcome(saga.Call{Step: "CreateOrder", Direction: saga.Action}, vars, stepclient.Response{Status: 200, Body: []byte(`{"orderId": "o", "total": "1"}`)})
				_ = p.ValidateInput(vars.Input)
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// TestRequestRefusesDotSegments checks that a value from a Saga's input cannot walk a
// request path to another resource, escaped or not.
func TestRequestRefusesDotSegments(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/orders/ord-1":            false,
		"/v1/orders/ord-1/cancel?x=.": false,
		"/v1/orders/../payments/p":    true,
		"/v1/orders/%2e%2e/payments":  true,
		"/v1/./orders":                true,
		"/v1/orders/..":               true,
	} {
		if got := dotSegment(path); got != want {
			t.Errorf("dotSegment(%q) = %v, want %v", path, got, want)
		}
	}
}
