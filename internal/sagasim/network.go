package sagasim

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"
)

// network delivers the step client's requests to the service models, in the calling
// goroutine, with the fault the schedule draws for each request. A fault decides whether
// the request takes effect and whether the caller hears the answer; both are independent,
// as on a real network.
type network struct {
	sim *sim
}

// parcel is a request that the network keeps to deliver again later.
type parcel struct {
	service, method, path, key string
	body                       []byte
}

func (p parcel) String() string { return p.method + " " + p.path }

// timeoutError is what the HTTP client sees when no answer came within stepTimeout.
type timeoutError struct{}

func (timeoutError) Error() string   { return "sagasim: no answer before the deadline" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// RoundTrip implements http.RoundTripper.
func (n network) RoundTrip(req *http.Request) (*http.Response, error) {
	s := n.sim
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, fmt.Errorf("sagasim: read request body: %w", err)
	}
	p := parcel{service: req.URL.Hostname(), method: req.Method, path: req.URL.Path,
		key: req.Header.Get("Idempotency-Key"), body: body}
	saga := s.sagaOfKey(p.key)
	if !s.proc.op() {
		s.trace.addf("%s: crash before %s", saga, p)
		return nil, errCrashed
	}
	if s.draw(s.faults.midBatchChange) == changeNow {
		s.externalChange(req.Context(), saga, "while calling "+p.String())
	}
	s.clock.Advance(time.Duration(1+s.rng.IntN(30)) * time.Millisecond)
	if s.draw(s.faults.duplicate) == duplicateLater {
		s.late = append(s.late, p)
	}
	return n.call(req, p, saga, s.draw(s.faults.call))
}

// call delivers p, or not, as the fault f drawn for it says, and returns what the client
// hears.
func (n network) call(req *http.Request, p parcel, saga string, f fault) (*http.Response, error) {
	s := n.sim
	switch f {
	case callUnavailableBefore, callThrottledBefore:
		status := map[fault]int{callUnavailableBefore: http.StatusServiceUnavailable, callThrottledBefore: http.StatusTooManyRequests}[f]
		s.trace.addf("%s: %s answered %d without effect", saga, p, status)
		return answer(req, status, []byte(`{"error":{"code":"UNAVAILABLE","message":"sagasim: injected"}}`)), nil
	case callUnavailableAfter:
		got := n.deliver(req.Context(), p)
		s.trace.addf("%s: %s took effect (%d), then answered 503", saga, p, got.Code)
		return answer(req, http.StatusServiceUnavailable, []byte(`{"error":{"code":"UNAVAILABLE","message":"sagasim: injected after"}}`)), nil
	case callTimeoutBefore:
		s.clock.Advance(s.timeoutOf(p.key))
		s.trace.addf("%s: %s timed out without effect", saga, p)
		return nil, timeoutError{}
	case callTimeoutAfter:
		got := n.deliver(req.Context(), p)
		s.clock.Advance(s.timeoutOf(p.key))
		s.trace.addf("%s: %s took effect (%d), answer lost (timeout)", saga, p, got.Code)
		return nil, timeoutError{}
	case callTimeoutLate:
		s.late = append(s.late, p)
		s.clock.Advance(s.timeoutOf(p.key))
		s.trace.addf("%s: %s timed out; it takes effect later", saga, p)
		return nil, timeoutError{}
	default: // none: the call is delivered and answered
	}
	got := n.deliver(req.Context(), p)
	s.trace.addf("%s: %s -> %d %s", saga, p, got.Code, errorCode(got.Body.Bytes()))
	return answer(req, got.Code, got.Body.Bytes()), nil
}

// deliver hands p to its service model and returns the answer.
func (n network) deliver(ctx context.Context, p parcel) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(ctx, p.method, n.sim.models.URL(p.service)+p.path, bytes.NewReader(p.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", p.key)
	rec := httptest.NewRecorder()
	n.sim.models.Handler(p.service).ServeHTTP(rec, req)
	return rec
}

// deliverLate delivers the i-th kept request; nobody hears its answer.
func (n network) deliverLate(ctx context.Context, i int) {
	s := n.sim
	p := s.late[i]
	s.late = append(s.late[:i], s.late[i+1:]...)
	got := n.deliver(ctx, p)
	s.trace.addf("%s: late delivery of %s -> %d %s", s.sagaOfKey(p.key), p, got.Code, errorCode(got.Body.Bytes()))
}

func answer(req *http.Request, status int, body []byte) *http.Response {
	return &http.Response{
		StatusCode: status, Status: http.StatusText(status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:  http.Header{"Content-Type": []string{"application/json"}},
		Body:    io.NopCloser(bytes.NewReader(body)),
		Request: req, ContentLength: int64(len(body)),
	}
}

// errorCode extracts a service error's code for the trace ("" for a success).
func errorCode(body []byte) string {
	_, rest, ok := bytes.Cut(body, []byte(`"code":"`))
	if !ok {
		return ""
	}
	if code, _, ok := bytes.Cut(rest, []byte(`"`)); ok {
		return string(code)
	}
	return ""
}
