package stepclient

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

	"github.com/ordersaga/ordersaga/internal/saga"
)

func TestClassify(t *testing.T) {
	cases := map[string]struct {
		reason string
		status int
		body   string
		want   saga.Outcome
	}{
		"Created": {reason: "2xx succeeds.", status: 201, body: `{}`, want: saga.Outcome{Kind: saga.Succeeded}},
		"OutOfStock": {reason: "A 409 with the services' error body is a business failure carrying code and message.",
			status: 409, body: `{"error":{"code":"OUT_OF_STOCK","message":"LAP-001: requested 2, available 1"}}`,
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "OUT_OF_STOCK", Message: "LAP-001: requested 2, available 1"}},
		"FieldNamed": {reason: "A 400 names the field.", status: 400,
			body: `{"error":{"code":"INVALID_REQUEST","message":"must be positive","field":"items[0].quantity"}}`,
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "INVALID_REQUEST", Message: "must be positive (field items[0].quantity)"}},
		"Declined402": {reason: "402 is business.", status: 402, body: `{"error":{"code":"PAYMENT_DECLINED","message":"limit"}}`,
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "PAYMENT_DECLINED", Message: "limit"}},
		"Unavailable": {reason: "5xx is transient.", status: 503, body: `{"error":{"code":"UNAVAILABLE","message":"down"}}`,
			want: saga.Outcome{Kind: saga.Transient, Code: "UNAVAILABLE", Message: "down"}},
		"RequestTimeout": {reason: "408 is transient.", status: 408, body: ``,
			want: saga.Outcome{Kind: saga.Transient, Code: "HTTP_408", Message: "Request Timeout"}},
		"TooManyRequests": {reason: "429 is transient.", status: 429, body: `not json`,
			want: saga.Outcome{Kind: saga.Transient, Code: "HTTP_429", Message: "Too Many Requests"}},
		"NotFoundPlain": {reason: "Other 4xx without a body is business, with the HTTP code.", status: 404, body: `404 page not found`,
			want: saga.Outcome{Kind: saga.BusinessFailure, Code: "HTTP_404", Message: "Not Found"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Classify(Response{Status: tc.status, Body: []byte(tc.body)})); diff != "" {
				t.Errorf("\nReason: %s\nClassify(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestResolver(t *testing.T) {
	r := Resolver{Template: "http://ordersaga-{service}.{namespace}.svc.cluster.local:8080/", Namespace: "shop",
		Overrides: map[string]string{"payment": "http://127.0.0.1:18082/"}}
	for service, want := range map[string]string{
		"order":   "http://ordersaga-order.shop.svc.cluster.local:8080",
		"payment": "http://127.0.0.1:18082",
	} {
		if got := r.BaseURL(service); got != want {
			t.Errorf("BaseURL(%q) = %q, want %q", service, got, want)
		}
	}
	if got := (Resolver{Namespace: "ns"}).BaseURL("order"); got != "http://order.ns.svc.cluster.local:8080" {
		t.Errorf("default template BaseURL = %q", got)
	}
}

func TestParseOverrides(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    map[string]string
		wantErr string
	}{
		"Empty":   {in: "", want: map[string]string{}},
		"Two":     {in: "order=http://a:1, payment=http://b:2", want: map[string]string{"order": "http://a:1", "payment": "http://b:2"}},
		"Unknown": {in: "orders=http://a:1", wantErr: `unknown service "orders"`},
		"NoURL":   {in: "order=", wantErr: "want service=url"},
		"NoEqual": {in: "order", wantErr: "want service=url"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseOverrides(tc.in)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("ParseOverrides(%q) error = %v, want one containing %q", tc.in, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseOverrides(%q): %v", tc.in, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("ParseOverrides(%q): -want, +got:\n%s", tc.in, diff)
			}
		})
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

func clientFor(s *server) *Client {
	return New(Resolver{Overrides: map[string]string{"order": s.URL}})
}

var testCall = saga.Call{Step: "CreateOrder", Direction: saga.Action, Attempt: 2, Key: "uid-1/CreateOrder/action"}

func exchange(s *server, body []byte) (Response, saga.Outcome, bool) {
	return clientFor(s).Exchange(context.Background(),
		Request{Service: "order", Method: http.MethodPut, Path: "/v1/orders/ord-1", Body: body}, testCall, 200*time.Millisecond)
}

// TestExchangeAnswered checks that an answer comes back as it is, whatever its status, and
// that the request carries the call's idempotency key, its request ID, and a content type
// only when it has a body.
func TestExchangeAnswered(t *testing.T) {
	for name, body := range map[string][]byte{"WithBody": []byte(`{"a":1}`), "NoBody": nil} {
		t.Run(name, func(t *testing.T) {
			s := serve(t, http.StatusCreated, `{"orderId":"ord-1"}`, 0)
			resp, failure, answered := exchange(s, body)
			if !answered || resp.Status != http.StatusCreated || string(resp.Body) != `{"orderId":"ord-1"}` {
				t.Fatalf("Exchange = %d %q answered %v (failure %+v), want the server's 201 and body", resp.Status, resp.Body, answered, failure)
			}
			if key := s.last.Header.Get("Idempotency-Key"); key != testCall.Key {
				t.Errorf("Idempotency-Key = %q, want %q", key, testCall.Key)
			}
			if got := s.last.Header.Get("X-Request-ID"); got != testCall.Key+":2" {
				t.Errorf("X-Request-ID = %q, want %s:2", got, testCall.Key)
			}
			if got, want := s.last.Header.Get("Content-Type") != "", body != nil; got != want {
				t.Errorf("Content-Type set = %v, want %v (only with a body)", got, want)
			}
			if body == nil && s.lastBody != nil {
				t.Errorf("request body = %v, want none", s.lastBody)
			}
		})
	}
}

// TestExchangeUnanswered checks that a call that got no answer is transient: the request
// may have taken effect.
func TestExchangeUnanswered(t *testing.T) {
	slow := serve(t, http.StatusCreated, `{}`, 5*time.Second)
	want := saga.Outcome{Kind: saga.Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}
	if _, failure, answered := exchange(slow, nil); answered || !cmp.Equal(want, failure) {
		t.Errorf("Exchange past the timeout = answered %v, failure %+v; want a transient TIMEOUT", answered, failure)
	}
	closed := serve(t, http.StatusCreated, `{}`, 0)
	closed.Close()
	if _, failure, answered := exchange(closed, nil); answered || failure.Kind != saga.Transient || failure.Code != "CONNECTION" {
		t.Errorf("Exchange to a closed port = answered %v, failure %+v; want a transient CONNECTION outcome", answered, failure)
	}
}
