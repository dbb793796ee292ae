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
// kept alive across sagas; each call is bounded by the timeout Exchange is given.
func New(resolver Resolver) *Client {
	transport := http.DefaultTransport.(*http.Transport).Clone() //nolint:forcetypeassert // net/http initializes DefaultTransport to an *http.Transport and nothing here replaces it
	// Keep up to 64 idle connections to each of the five services, a quarter of the
	// manager's workers (controllers' DefaultMaxConcurrentReconciles, 256): a burst beyond
	// that opens connections and closes them after use. Each idle connection holds two
	// goroutines and their buffers, about 25 KiB: the 1,000 that 256 per service kept after
	// a burst were 15-20 MiB of a manager that had gone quiet (make bench-memory).
	transport.MaxIdleConns = 5 * 64
	transport.MaxIdleConnsPerHost = 64
	transport.IdleConnTimeout = 90 * time.Second
	return NewWithTransport(resolver, transport)
}

// NewWithTransport returns a Client that sends its requests through rt. The simulator
// uses it to deliver requests to in-memory service models, and to lose, delay or repeat
// them, without a network.
func NewWithTransport(resolver Resolver, rt http.RoundTripper) *Client {
	return &Client{http: &http.Client{Transport: rt}, resolver: resolver}
}

// Request is one HTTP call to a service.
type Request struct {
	Service string
	Method  string
	// Path starts with "/" and is appended to the service's base URL.
	Path string
	// Body is the JSON request body; nil sends none.
	Body []byte
}

// Response is a service's answer: its status and up to 1 MiB of its body.
type Response struct {
	Status int
	Body   []byte
}

// Exchange sends r as call c, bounded by timeout, and returns the service's answer. When
// no answer came (a timeout, a refused connection, a cancelled call) answered is false
// and failure says why: a transient outcome, since the request may have taken effect.
func (c *Client) Exchange(ctx context.Context, r Request, call saga.Call, timeout time.Duration) (resp Response, failure saga.Outcome, answered bool) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	resp, err := c.do(ctx, r, call)
	if err != nil {
		return Response{}, transportOutcome(ctx, err), false
	}
	return resp, saga.Outcome{}, true
}

func (c *Client) do(ctx context.Context, r Request, call saga.Call) (Response, error) {
	url := c.resolver.BaseURL(r.Service) + r.Path
	var body io.Reader = http.NoBody
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, url, body)
	if err != nil {
		return Response{}, fmt.Errorf("build request %s %s: %w", r.Method, url, err)
	}
	if r.Body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Idempotency-Key", call.Key)
	// uid/Step/direction:attempt, in the alphabet the services keep (they replace
	// anything else with a random ID, and the logs of both sides no longer match).
	req.Header.Set("X-Request-ID", call.Key+":"+strconv.Itoa(int(call.Attempt)))
	resp, err := c.http.Do(req)
	if err != nil {
		// The error names the method and URL already; the service name says which one it is
		// in the saga's status. errors.As still finds the net.Error that classifies a timeout.
		return Response{}, fmt.Errorf("%s service: %w", r.Service, err)
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	if err != nil {
		return Response{}, fmt.Errorf("read response of %s %s: %w", r.Method, url, err)
	}
	return Response{Status: resp.StatusCode, Body: data}, nil
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

// Classify maps an HTTP answer to an outcome: 2xx succeeded; 408, 429 and 5xx are
// transient; any other status is a business failure. The service's code and message are
// carried through so that status says why. Outputs are the caller's to read.
func Classify(resp Response) saga.Outcome {
	status, body := resp.Status, resp.Body
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
