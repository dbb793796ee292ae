package platform_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// newTestServer serves a Server with one business route (PUT /v1/things/{id}), a route
// that panics and the routes that extra adds.
func newTestServer(t *testing.T, opts platform.Options, extra ...func(*platform.Server)) (*platformtest.Client, *platform.Server) {
	t.Helper()
	return platformtest.NewServerWith(t, opts, func(_ context.Context, srv *platform.Server) error {
		srv.Route("PUT /v1/things/{id}", func(w http.ResponseWriter, r *http.Request) {
			platform.WriteJSON(w, http.StatusCreated, map[string]string{"id": r.PathValue("id")})
		})
		srv.Route("GET /v1/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
		for _, f := range extra {
			f(srv)
		}
		return nil
	})
}

func TestRequestIDIsAcceptedOrGenerated(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test"})
	if got := c.Do(http.MethodGet, "/healthz", nil, "X-Request-ID", "saga-1/step").Header.Get("X-Request-ID"); got != "saga-1/step" {
		t.Errorf("echoed request ID = %q, want saga-1/step", got)
	}
	for _, bad := range []string{"", "has space", strings.Repeat("x", 129)} {
		got := c.Do(http.MethodGet, "/healthz", nil, "X-Request-ID", bad).Header.Get("X-Request-ID")
		if got == "" || got == bad {
			t.Errorf("request ID for %q = %q, want a generated one", bad, got)
		}
	}
}

func TestUnmatchedRequestsGetJSONErrors(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test"})
	c.Do(http.MethodGet, "/nope", nil).WantError(t, http.StatusNotFound, platform.CodeNotFound, "")
	r := c.Do(http.MethodDelete, "/v1/things/a", nil)
	r.WantError(t, http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")
	if r.Header.Get("Allow") != "PUT" {
		t.Errorf("Allow = %q, want PUT", r.Header.Get("Allow"))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	// The admin API is off unless asked for.
	c.Do(http.MethodGet, "/admin/faults", nil).WantError(t, http.StatusNotFound, platform.CodeNotFound, "")
}

func TestPanicIsA500(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test"})
	c.Do(http.MethodGet, "/v1/panic", nil).WantError(t, http.StatusInternalServerError, platform.CodeInternal, "")
}

func TestReadiness(t *testing.T) {
	var pingErr error
	c, _ := platformtest.NewServerWith(t, platform.Options{Service: "test", Ready: func(context.Context) error { return pingErr }},
		func(context.Context, *platform.Server) error { return nil })
	c.Do(http.MethodGet, "/readyz", nil).Want(t, http.StatusOK, nil)
	pingErr = errors.New("mongo down")
	c.Do(http.MethodGet, "/readyz", nil).WantError(t, http.StatusServiceUnavailable, platform.CodeNotReady, "")
	c.Do(http.MethodGet, "/healthz", nil).Want(t, http.StatusOK, nil) // liveness does not depend on Mongo
}

func TestBusinessRoutesWaitForSetUp(t *testing.T) {
	srv, err := platform.NewServer(platform.Options{Service: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	srv.Route("GET /v1/x", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
	ctx, cancel := context.WithCancel(t.Context())
	release := make(chan struct{})
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() {
		done <- srv.Run(ctx, addr, func(context.Context) error {
			select {
			case <-release:
				return nil
			default:
				return errors.New("database not there yet")
			}
		})
	}()
	c := platformtest.NewClient(t, "http://"+addr)
	waitFor(t, func() bool { return get(t, c, "/healthz") == http.StatusOK })
	if s := get(t, c, "/v1/x"); s != http.StatusServiceUnavailable {
		t.Errorf("business route before set-up = %d, want 503", s)
	}
	if s := get(t, c, "/readyz"); s != http.StatusServiceUnavailable {
		t.Errorf("readyz before set-up = %d, want 503", s)
	}
	close(release) // the set-up is retried with backoff and now succeeds
	waitFor(t, func() bool { return get(t, c, "/v1/x") == http.StatusNoContent })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run after cancel = %v, want a clean shutdown", err)
	}
}

func TestGracefulShutdownFinishesInFlightRequests(t *testing.T) {
	srv, err := platform.NewServer(platform.Options{Service: "test", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv.Route("GET /v1/slow", func(w http.ResponseWriter, _ *http.Request) {
		close(started)
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	})
	ctx, cancel := context.WithCancel(t.Context())
	addr := freeAddr(t)
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx, addr, func(context.Context) error { return nil }) }()
	c := platformtest.NewClient(t, "http://"+addr)
	waitFor(t, func() bool { return get(t, c, "/readyz") == http.StatusOK })
	status := make(chan int, 1)
	go func() { status <- get(t, c, "/v1/slow") }()
	<-started
	cancel() // what SIGTERM does in main
	if s := <-status; s != http.StatusNoContent {
		t.Errorf("in-flight request = %d, want it to finish with 204", s)
	}
	if err := <-done; err != nil {
		t.Errorf("Run = %v, want a clean shutdown", err)
	}
}

func TestMetricsByRoute(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test"})
	c.Do(http.MethodPut, "/v1/things/a", "{}").Want(t, http.StatusCreated, nil)
	c.Do(http.MethodPut, "/v1/things/b", "{}").Want(t, http.StatusCreated, nil)
	body := string(c.Do(http.MethodGet, "/metrics", nil).Body)
	for _, want := range []string{
		`ordersaga_http_requests_total{code="201",route="PUT /v1/things/{id}",service="test"} 2`,
		`ordersaga_http_request_duration_seconds_count{route="PUT /v1/things/{id}",service="test"} 2`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := new(net.ListenConfig).Listen(t.Context(), "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }() // only its address was wanted
	return l.Addr().String()
}

func get(t *testing.T, c *platformtest.Client, path string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, c.BaseURL+path, nil)
	if err != nil { // Errorf, not Fatalf: get also runs in a goroutine of its own
		t.Errorf("new request: %v", err)
		return 0
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // drained: a failed close loses nothing
	return resp.StatusCode
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
