package ordersaga

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

const uid = "0b9a1d2e-0000-4000-8000-000000000001"

func testSaga(opts ...testgen.OrderSagaOption) *v1.OrderSaga {
	obj := testgen.OrderSaga("order-1", append([]testgen.OrderSagaOption{testgen.WithNamespace("shop")}, opts...)...)
	obj.UID = types.UID(uid)
	obj.Status.Total = "999.99"
	obj.Status.TrackingNumber = "TRK-1"
	return obj
}

func TestRequestFor(t *testing.T) {
	type req struct{ Service, Method, Path string }
	cases := map[string]struct {
		step v1.StepName
		dir  saga.Direction
		want req
	}{
		"CreateOrder":     {v1.StepCreateOrder, saga.Action, req{"order", "PUT", "/v1/orders/ord-" + uid}},
		"CancelOrder":     {v1.StepCreateOrder, saga.Compensate, req{"order", "POST", "/v1/orders/ord-" + uid + "/cancel"}},
		"Reserve":         {v1.StepReserveInventory, saga.Action, req{"inventory", "PUT", "/v1/reservations/res-" + uid}},
		"Release":         {v1.StepReserveInventory, saga.Compensate, req{"inventory", "POST", "/v1/reservations/res-" + uid + "/release"}},
		"Charge":          {v1.StepProcessPayment, saga.Action, req{"payment", "PUT", "/v1/payments/pay-" + uid}},
		"Refund":          {v1.StepProcessPayment, saga.Compensate, req{"payment", "POST", "/v1/payments/pay-" + uid + "/refund"}},
		"Ship":            {v1.StepScheduleShipment, saga.Action, req{"shipping", "PUT", "/v1/shipments/shp-" + uid}},
		"CancelShipment":  {v1.StepScheduleShipment, saga.Compensate, req{"shipping", "POST", "/v1/shipments/shp-" + uid + "/cancel"}},
		"Confirm":         {v1.StepConfirmOrder, saga.Action, req{"order", "POST", "/v1/orders/ord-" + uid + "/confirm"}},
		"NotifyConfirmed": {v1.StepSendNotification, saga.Action, req{"notification", "PUT", "/v1/notifications/ntf-" + uid + "-confirmed"}},
		"NotifyCancelled": {NotifyCancellation, saga.Action, req{"notification", "PUT", "/v1/notifications/ntf-" + uid + "-cancelled"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r, err := requestFor(testSaga(), saga.Call{Step: tc.step, Direction: tc.dir})
			if err != nil {
				t.Fatalf("requestFor: %v", err)
			}
			if diff := cmp.Diff(tc.want, req{r.service, r.method, r.path}); diff != "" {
				t.Errorf("requestFor(%s, %s): -want, +got:\n%s", tc.step, tc.dir, diff)
			}
		})
	}
	if _, err := requestFor(testSaga(), saga.Call{Step: v1.StepConfirmOrder, Direction: saga.Compensate}); err == nil {
		t.Errorf("requestFor(ConfirmOrder, compensate) = nil error, want an error: the pivot has no compensation")
	}
}

// server answers every request with status and body, and records the last request.
type server struct {
	*httptest.Server
	last     *http.Request
	lastBody map[string]any
}

func serve(t *testing.T, status int, body string, delay time.Duration) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.last = r
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &s.lastBody)
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func clientFor(s *server) Caller {
	overrides := map[string]string{}
	for _, name := range stepclient.Services() {
		overrides[name] = s.URL
	}
	return Caller{Client: stepclient.New(stepclient.Resolver{Overrides: overrides})}
}

func TestCall(t *testing.T) {
	call := func(step v1.StepName) saga.Call {
		return saga.Call{Step: step, Direction: saga.Action, Attempt: 2, Key: saga.Key(uid, step, saga.Action)}
	}
	cases := map[string]struct {
		reason string
		status int
		body   string
		delay  time.Duration
		obj    *v1.OrderSaga
		call   saga.Call
		want   saga.Outcome
	}{
		"OrderOutputs": {reason: "A created order yields its ID and total.", status: 201,
			body: `{"orderId":"ord-` + uid + `","total":"999.99","status":"PENDING"}`, obj: testSaga(), call: call(v1.StepCreateOrder),
			want: saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"orderId": "ord-" + uid, "total": "999.99"}}},
		"TotalMismatch": {reason: "An order total that differs from the saga's is refused: money must agree.", status: 201,
			body: `{"orderId":"ord-1","total":"1000.00"}`, obj: testSaga(), call: call(v1.StepCreateOrder),
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "TOTAL_MISMATCH", Message: "the order service computed 1000.00, the saga 999.99"}},
		"ShipmentOutputs": {reason: "A shipment yields its ID and tracking number.", status: 201,
			body: `{"shipmentId":"shp-1","trackingNumber":"1Z999"}`, obj: testSaga(), call: call(v1.StepScheduleShipment),
			want: saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"shipmentId": "shp-1", "trackingNumber": "1Z999"}}},
		"NotificationFailed": {reason: "A notice the service could not deliver is a business failure of the notice.", status: 201,
			body: `{"notificationId":"n","status":"FAILED"}`, obj: testSaga(), call: call(v1.StepSendNotification),
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "NOTIFICATION_FAILED", Message: "the notification service could not deliver the notice"}},
		"CancelFindsTheOrder": {reason: "A cancel that found an order reports its ID: the order existed, so the customer must hear of the cancellation.",
			status: 200, body: `{"orderId":"ord-` + uid + `","status":"CANCELLED"}`, obj: testSaga(),
			call: saga.Call{Step: v1.StepCreateOrder, Direction: saga.Compensate, Attempt: 1, Key: saga.Key(uid, v1.StepCreateOrder, saga.Compensate)},
			want: saga.Outcome{Kind: saga.Succeeded, Outputs: map[string]string{"orderId": "ord-" + uid}}},
		"CancelLeavesATombstone": {reason: "A cancel that found no order (a tombstone) reports nothing: there is no order to tell the customer of.",
			status: 200, body: `{"orderId":"ord-` + uid + `","status":"CANCELLED","tombstone":true}`, obj: testSaga(),
			call: saga.Call{Step: v1.StepCreateOrder, Direction: saga.Compensate, Attempt: 1, Key: saga.Key(uid, v1.StepCreateOrder, saga.Compensate)},
			want: saga.Outcome{Kind: saga.Succeeded}},
		"Garbled2xx": {reason: "A 2xx that cannot be read is transient: a replay returns the same stored answer or a fixed one.",
			status: 200, body: `{`, obj: testSaga(), call: call(v1.StepProcessPayment),
			want: saga.Outcome{Kind: saga.Transient, Code: "INVALID_RESPONSE", Message: "decode answer: unexpected end of JSON input"}},
		"Timeout": {reason: "No answer within stepTimeout is a transient TIMEOUT.", status: 201, body: `{}`, delay: 5 * time.Second,
			obj: testSaga(testgen.WithStepTimeout(100 * time.Millisecond)), call: call(v1.StepProcessPayment),
			want: saga.Outcome{Kind: saga.Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			s := serve(t, tc.status, tc.body, tc.delay)
			got := clientFor(s).Call(context.Background(), tc.obj, tc.call)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nCall(...): -want, +got:\n%s", tc.reason, diff)
			}
			if key := s.last.Header.Get("Idempotency-Key"); key != tc.call.Key {
				t.Errorf("Idempotency-Key = %q, want %q", key, tc.call.Key)
			}
		})
	}
}

func TestCallSendsTheSagaAsRequest(t *testing.T) {
	s := serve(t, 201, `{"paymentId":"pay-1"}`, 0)
	obj := testSaga(testgen.WithPaymentMethod(v1.PaymentMethodPayPal))
	out := clientFor(s).Call(context.Background(), obj, saga.Call{Step: v1.StepProcessPayment, Direction: saga.Action, Attempt: 1, Key: "k"})
	if out.Kind != saga.Succeeded {
		t.Fatalf("Call = %+v, want success", out)
	}
	want := map[string]any{"orderId": "ord-" + uid, "customerId": testgen.DefaultCustomerID, "amount": "999.99", "currency": "USD", "method": "PAYPAL"}
	if diff := cmp.Diff(want, s.lastBody); diff != "" {
		t.Errorf("payment request body: -want, +got:\n%s", diff)
	}
	if got := s.last.Header.Get("X-Request-ID"); got != "k:1" {
		t.Errorf("X-Request-ID = %q, want k:1", got)
	}
}

func TestNotificationDataOmitsEmptyValues(t *testing.T) {
	s := serve(t, 201, `{"notificationId":"n","status":"SENT"}`, 0)
	obj := testSaga()
	obj.Status.TrackingNumber = ""
	_ = clientFor(s).Call(context.Background(), obj, saga.Call{Step: v1.StepSendNotification, Direction: saga.Action, Key: "k"})
	want := map[string]any{"orderId": "ord-" + uid, "customerId": testgen.DefaultCustomerID, "type": "ORDER_CONFIRMED",
		"data": map[string]any{"total": "999.99"}}
	if diff := cmp.Diff(want, s.lastBody); diff != "" {
		t.Errorf("notification request body: -want, +got:\n%s", diff)
	}
}

func TestCallConnectionRefused(t *testing.T) {
	s := serve(t, 200, `{}`, 0)
	s.Close()
	out := clientFor(s).Call(context.Background(), testSaga(), saga.Call{Step: v1.StepCreateOrder, Direction: saga.Action, Key: "k"})
	if out.Kind != saga.Transient || out.Code != "CONNECTION" {
		t.Errorf("Call to a closed port = %+v, want a transient CONNECTION outcome", out)
	}
}

// The order-cancelled notice is built from what cannot change, so that its retry after
// a lost status write, whatever cause the retry then sees, sends the same body.
func TestCancellationNoticeIgnoresTheFailureMessage(t *testing.T) {
	bodies := make([]any, 0, 2)
	for _, msg := range []string{"ProcessPayment failed: PAYMENT_DECLINED", strings.Repeat("a long cause ", 60)} {
		s := serve(t, 201, `{"notificationId":"n","status":"SENT"}`, 0)
		obj := testSaga()
		obj.Status.Failure = &v1.FailureStatus{Step: v1.StepProcessPayment, Reason: v1.ReasonPaymentDeclined, Message: msg}
		_ = clientFor(s).Call(context.Background(), obj, saga.Call{Step: NotifyCancellation, Direction: saga.Action, Key: "k"})
		bodies = append(bodies, s.lastBody)
	}
	want := map[string]any{"orderId": "ord-" + uid, "customerId": testgen.DefaultCustomerID, "type": "ORDER_CANCELLED",
		"data": map[string]any{"total": "999.99"}}
	for i, got := range bodies {
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("notice %d: -want, +got:\n%s", i, diff)
		}
	}
}
