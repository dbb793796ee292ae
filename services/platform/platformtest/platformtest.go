// Package platformtest helps service tests drive real handlers over real HTTP
// (httptest) and check JSON answers.
package platformtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
)

// NewServer builds a platform.Server for service (admin API on, logs discarded), lets
// register add the routes and set up the database, opens the business routes and serves it
// over httptest until t ends.
func NewServer(t testing.TB, service string, register func(ctx context.Context, srv *platform.Server) error) (*Client, *platform.Server) {
	t.Helper()
	return NewServerWith(t, platform.Options{Service: service, AdminAPI: true}, register)
}

// NewServerWith is NewServer with explicit options; a nil Logger discards logs.
func NewServerWith(t testing.TB, opts platform.Options, register func(ctx context.Context, srv *platform.Server) error) (*Client, *platform.Server) {
	t.Helper()
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	srv, err := platform.NewServer(opts)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	if err := register(t.Context(), srv); err != nil {
		t.Fatalf("register %s: %v", opts.Service, err)
	}
	srv.MarkSetUp()
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &Client{t: t, BaseURL: ts.URL, HTTP: ts.Client()}, srv
}

// NewClient returns a Client for a server at baseURL.
func NewClient(t testing.TB, baseURL string) *Client {
	t.Helper()
	return &Client{t: t, BaseURL: baseURL, HTTP: &http.Client{Timeout: 30 * time.Second}}
}

// Client sends requests to a test server.
type Client struct {
	t       testing.TB
	BaseURL string
	HTTP    *http.Client
}

// Response is an answer read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends method path with body (nil: none; string or []byte: raw; else JSON-encoded) and
// headers given as name, value pairs.
func (c *Client) Do(method, path string, body any, headers ...string) Response {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = bytes.NewBufferString(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			c.t.Fatalf("encode request body: %v", err)
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, c.BaseURL+path, rd)
	if err != nil {
		c.t.Fatalf("new request: %v", err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below: a failed close loses nothing
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s %s: %v", method, path, err)
	}
	return Response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// Want fails t unless r has status, and decodes the body into v when v is not nil.
func (r Response) Want(t testing.TB, status int, v any) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body: %s", r.Status, status, r.Body)
	}
	if v != nil {
		if err := json.Unmarshal(r.Body, v); err != nil {
			t.Fatalf("decode %s: %v", r.Body, err)
		}
	}
}

// WantSame fails t unless r is first again, status and body to the byte: the answer to a
// replay.
func (r Response) WantSame(t testing.TB, first Response) {
	t.Helper()
	if r.Status != first.Status || !bytes.Equal(r.Body, first.Body) {
		t.Errorf("replay = %d %s, want the first answer %d %s", r.Status, r.Body, first.Status, first.Body)
	}
}

// WantError fails t unless r is a JSON error with status, code and field.
func (r Response) WantError(t testing.TB, status int, code, field string) platform.APIError {
	t.Helper()
	var env struct {
		Error platform.APIError `json:"error"`
	}
	r.Want(t, status, &env)
	if env.Error.Code != code || env.Error.Field != field {
		t.Fatalf("error = {code %q, field %q}, want {code %q, field %q}; body: %s", env.Error.Code, env.Error.Field, code, field, r.Body)
	}
	if env.Error.Message == "" {
		t.Fatalf("error has no message: %s", r.Body)
	}
	return env.Error
}

// Object decodes r's body into a generic map, for checks on exact field presence.
func (r Response) Object(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Body, &m); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
	return m
}

// FuzzServer returns an in-process handler with the routes register adds, for fuzz
// targets that drive real decoders and validation without a database.
func FuzzServer(f *testing.F, register func(srv *platform.Server)) http.Handler {
	srv, err := platform.NewServer(platform.Options{Service: "fuzz", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		f.Fatalf("new server: %v", err)
	}
	register(srv)
	srv.MarkSetUp()
	return srv.Handler()
}

// Serve sends body to h in-process and fails t on a 5xx or on an error answer that is not a
// complete JSON error. It returns the status.
func Serve(t *testing.T, h http.Handler, method, path string, body []byte) int {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), method, path, bytes.NewReader(body)))
	if rec.Code >= 500 {
		t.Fatalf("%s %s with %q = %d %s, want no 5xx", method, path, body, rec.Code, rec.Body)
	}
	if rec.Code >= 400 {
		var env struct {
			Error platform.APIError `json:"error"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Error.Code == "" || env.Error.Message == "" {
			t.Fatalf("%s %s with %q = %d %s, want a JSON error with code and message", method, path, body, rec.Code, rec.Body)
		}
	}
	return rec.Code
}

// Broken is what a fuzz target's stub store returns when validation let through something
// it must refuse: a 500 whose message Serve reports.
func Broken(format string, args ...any) error {
	return platform.NewError(http.StatusInternalServerError, "TEST_INVARIANT_BROKEN", fmt.Sprintf(format, args...))
}

// Created returns a stub store's success answer.
func Created() platform.StoredResponse {
	return platform.StoredResponse{Status: http.StatusCreated, Body: "{}"}
}
