package stepclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// maxResponseBody bounds what is read of a service's answer.
const maxResponseBody = 1 << 20

// Client calls the services over one pooled HTTP client.
type Client struct {
	http     *http.Client
	resolver Resolver
}

// New returns a Client that finds services with resolver. Connections are pooled and
// kept alive across sagas; each call is bounded by the saga's stepTimeout, not here.
func New(resolver Resolver) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone() //nolint:forcetypeassert // net/http initializes DefaultTransport to an *http.Transport and nothing here replaces it
	transport.MaxIdleConns = 512
	transport.MaxIdleConnsPerHost = 128
	transport.IdleConnTimeout = 90 * time.Second
	return NewWithTransport(resolver, transport)
}

// NewWithTransport returns a Client that sends its requests through rt. The simulator
// uses it to deliver requests to in-memory service models, and to lose, delay or repeat
// them, without a network.
func NewWithTransport(resolver Resolver, rt http.RoundTripper) *Client {
	return &Client{http: &http.Client{Transport: rt}, resolver: resolver}
}

// Call makes one call of the saga and classifies its outcome. It never returns an error:
// every failure is an Outcome the engine knows how to handle.
func (c *Client) Call(ctx context.Context, obj *v1.OrderSaga, call saga.Call) saga.Outcome {
	req, err := requestFor(obj, call)
	if err != nil {
		return saga.Outcome{Kind: saga.BusinessFailure, Code: "UNSUPPORTED_CALL", Message: err.Error()}
	}
	ctx, cancel := context.WithTimeout(ctx, saga.StepTimeout(&obj.Spec))
	defer cancel()
	status, body, err := c.do(ctx, req, call)
	if err != nil {
		return transportOutcome(ctx, err)
	}
	out := classify(status, body)
	if out.Kind == saga.Succeeded {
		return decodeOutputs(obj, call, body)
	}
	return out
}

func (c *Client) do(ctx context.Context, r request, call saga.Call) (int, []byte, error) {
	payload, err := json.Marshal(r.body)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s request: %w", call.Step, err)
	}
	url := c.resolver.BaseURL(r.service) + r.path
	req, err := http.NewRequestWithContext(ctx, r.method, url, bytes.NewReader(payload))
	if err != nil {
		return 0, nil, fmt.Errorf("build request %s %s: %w", r.method, url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", call.Key)
	// uid/Step/direction:attempt, in the alphabet the services keep (they replace
	// anything else with a random ID, and the logs of both sides no longer match).
	req.Header.Set("X-Request-ID", call.Key+":"+strconv.Itoa(int(call.Attempt)))
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the method and URL already; the service name says which one it is
		// in the saga's status. errors.As still finds the net.Error that classifies a timeout.
		return 0, nil, fmt.Errorf("%s service: %w", r.service, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return 0, nil, fmt.Errorf("read response of %s %s: %w", r.method, url, err)
	}
	return resp.StatusCode, body, nil
}

// transportOutcome classifies a call that got no HTTP answer. The request may have
// reached the service, so the outcome is unknown: transient, and compensated if given up.
func transportOutcome(ctx context.Context, err error) saga.Outcome {
	var netErr net.Error
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return saga.Outcome{Kind: saga.Transient, Code: "TIMEOUT", Message: "no answer within stepTimeout"}
	case errors.Is(ctx.Err(), context.Canceled):
		return saga.Outcome{Kind: saga.Transient, Code: "CANCELED", Message: "the call was canceled"}
	}
	return saga.Outcome{Kind: saga.Transient, Code: "CONNECTION", Message: err.Error()}
}

// serviceError is the services' error body: {"error":{"code","message","field"}}.
type serviceError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

// classify maps an HTTP answer to an outcome: 2xx succeeded; 408, 429 and 5xx are
// transient; any other status is a business failure. The service's code and message are
// carried through so that status says why.
func classify(status int, body []byte) saga.Outcome {
	if status >= 200 && status < 300 {
		return saga.Outcome{Kind: saga.Succeeded}
	}
	kind := saga.BusinessFailure
	if status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500 {
		kind = saga.Transient
	}
	out := saga.Outcome{Kind: kind, Code: "HTTP_" + strconv.Itoa(status), Message: http.StatusText(status)}
	var se serviceError
	if json.Unmarshal(body, &se) == nil && se.Error.Code != "" {
		out.Code, out.Message = se.Error.Code, se.Error.Message
		if se.Error.Field != "" {
			out.Message += " (field " + se.Error.Field + ")"
		}
	}
	return out
}

// outputsBody holds every identifier a service may return.
type outputsBody struct {
	OrderID        string `json:"orderId"`
	Tombstone      bool   `json:"tombstone"`
	Total          string `json:"total"`
	ReservationID  string `json:"reservationId"`
	PaymentID      string `json:"paymentId"`
	ShipmentID     string `json:"shipmentId"`
	TrackingNumber string `json:"trackingNumber"`
	Status         string `json:"status"`
}

// decodeOutputs reads a successful answer. A notification the service could not deliver
// comes back 2xx with status FAILED: it is a business failure of the notice.
func decodeOutputs(obj *v1.OrderSaga, call saga.Call, body []byte) saga.Outcome {
	var b outputsBody
	if err := json.Unmarshal(body, &b); err != nil {
		return saga.Outcome{Kind: saga.Transient, Code: "INVALID_RESPONSE", Message: "decode answer: " + err.Error()}
	}
	if call.Direction == saga.Compensate {
		// A cancel that found an order (not a tombstone) proves the order existed, even
		// when the status write that recorded its creation was lost: the customer must
		// then hear of the cancellation.
		if call.Step == v1.StepCreateOrder && !b.Tombstone && b.OrderID != "" {
			return saga.Outcome{Kind: saga.Succeeded, Outputs: saga.Outputs{OrderID: b.OrderID}}
		}
		return saga.Outcome{Kind: saga.Succeeded}
	}
	switch call.Step {
	case v1.StepCreateOrder:
		if obj.Status.Total != "" && b.Total != obj.Status.Total {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: "TOTAL_MISMATCH",
				Message: fmt.Sprintf("the order service computed %s, the saga %s", b.Total, obj.Status.Total)}
		}
		return saga.Outcome{Kind: saga.Succeeded, Outputs: saga.Outputs{OrderID: b.OrderID, Total: b.Total}}
	case v1.StepReserveInventory:
		return saga.Outcome{Kind: saga.Succeeded, Outputs: saga.Outputs{ReservationID: b.ReservationID}}
	case v1.StepProcessPayment:
		return saga.Outcome{Kind: saga.Succeeded, Outputs: saga.Outputs{PaymentID: b.PaymentID}}
	case v1.StepScheduleShipment:
		return saga.Outcome{Kind: saga.Succeeded, Outputs: saga.Outputs{ShipmentID: b.ShipmentID, TrackingNumber: b.TrackingNumber}}
	case v1.StepConfirmOrder:
		// The confirmation's answer carries nothing the saga keeps.
	case v1.StepSendNotification, saga.NotifyCancellation:
		if b.Status == "FAILED" {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: "NOTIFICATION_FAILED", Message: "the notification service could not deliver the notice"}
		}
	}
	return saga.Outcome{Kind: saga.Succeeded}
}
