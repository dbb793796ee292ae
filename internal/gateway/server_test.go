package gateway

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersaga/ordersaga/internal/gateway/auth"
	"github.com/ordersaga/ordersaga/internal/gateway/backend"
	"github.com/ordersaga/ordersaga/internal/gateway/graph"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// newTestHandler is the gateway's handler with its limits, and resolvers that must never be
// reached: every request here is refused or answered before them.
func newTestHandler(t *testing.T, ready error) http.Handler {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := backend.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHandler(Options{
		Resolver:      &graph.Resolver{Auth: auth.NewChecker(nil, auth.Options{Insecure: true, DefaultNamespace: "shop"}), MaxPageSize: 10},
		Services:      backend.NewClient(stepclient.Resolver{Template: "http://127.0.0.1:1"}, time.Second, m),
		Batch:         true,
		MaxDepth:      3,
		MaxComplexity: 50,
		MaxBodyBytes:  1024,
		Ready:         func() error { return ready },
		Registry:      reg,
		Gatherer:      reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func post(t *testing.T, h http.Handler, body string) (*httptest.ResponseRecorder, []map[string]any) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/graphql", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-ID", "req-1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var resp struct {
		Errors []map[string]any `json:"errors"`
	}
	if rec.Code == http.StatusOK {
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("decode %s: %v", rec.Body, err)
		}
	}
	return rec, resp.Errors
}

func codeOf(errs []map[string]any) string {
	if len(errs) == 0 {
		return ""
	}
	ext, _ := errs[0]["extensions"].(map[string]any)
	code, _ := ext["code"].(string)
	return code
}

func TestLimitsRefuseBeforeAnyResolverRuns(t *testing.T) {
	h := newTestHandler(t, nil)
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"too deep", `{"query":"{ orders { edges { node { saga { phase } } } } }"}`, http.StatusOK, "QUERY_TOO_COMPLEX"},
		{"too costly", `{"query":"{ orders(first: 10) { edges { node { record { status } payment { status } } } } }"}`, http.StatusOK, "QUERY_TOO_COMPLEX"},
		{"too large", `{"query":"{ products { id } }` + strings.Repeat(" ", 2048) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"not GraphQL", `{"query":"{ nope }"}`, http.StatusUnprocessableEntity, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec, errs := post(t, h, tc.body)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			if got := codeOf(errs); got != tc.code {
				t.Fatalf("code %q, want %q: %s", got, tc.code, rec.Body)
			}
			if rec.Header().Get("X-Request-ID") != "req-1" {
				t.Errorf("X-Request-ID %q, want the caller's", rec.Header().Get("X-Request-ID"))
			}
		})
	}
}

func TestProbes(t *testing.T) {
	for _, tc := range []struct {
		ready  error
		path   string
		status int
	}{
		{nil, "/healthz", http.StatusOK},
		{errors.New("not synced"), "/healthz", http.StatusOK},
		{nil, "/readyz", http.StatusOK},
		{errors.New("not synced"), "/readyz", http.StatusServiceUnavailable},
		{nil, "/metrics", http.StatusOK},
	} {
		rec := httptest.NewRecorder()
		newTestHandler(t, tc.ready).ServeHTTP(rec, httptest.NewRequestWithContext(t.Context(), http.MethodGet, tc.path, nil))
		if rec.Code != tc.status {
			t.Errorf("GET %s (ready: %v) = %d, want %d", tc.path, tc.ready, rec.Code, tc.status)
		}
	}
}
