package platform_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestFaultsOffByDefault(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test"})
	for range 20 {
		c.Do(http.MethodPut, "/v1/things/a", "{}").Want(t, http.StatusCreated, nil)
	}
}

func TestFaultErrorRateAndRoutes(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test", Faults: platform.FaultConfig{ErrorRate: 1, Routes: []string{"PUT /v1/things"}}})
	c.Do(http.MethodPut, "/v1/things/a", "{}").WantError(t, http.StatusServiceUnavailable, platform.CodeFaultInjected, "")
	c.Do(http.MethodGet, "/healthz", nil).Want(t, http.StatusOK, nil) // probes are never faulted
	c.Do(http.MethodGet, "/v1/panic", nil).WantError(t, http.StatusInternalServerError, platform.CodeInternal, "")
}

func TestFaultPhaseAfterRunsTheAction(t *testing.T) {
	ran := 0
	c, _ := newTestServer(t, platform.Options{Service: "test", Faults: platform.FaultConfig{ErrorRate: 1, Phase: platform.FaultAfter}},
		func(srv *platform.Server) {
			srv.Route("PUT /v1/act", func(w http.ResponseWriter, _ *http.Request) {
				ran++
				w.WriteHeader(http.StatusCreated)
			})
		})
	c.Do(http.MethodPut, "/v1/act", nil).WantError(t, http.StatusServiceUnavailable, platform.CodeFaultInjected, "")
	if ran != 1 {
		t.Errorf("handler ran %d times, want 1 (the action happens, its answer is lost)", ran)
	}
}

func TestFaultLatency(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test", Faults: platform.FaultConfig{Latency: platform.Duration(150 * time.Millisecond)}})
	start := time.Now()
	c.Do(http.MethodPut, "/v1/things/a", "{}").Want(t, http.StatusCreated, nil)
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("request took %s, want at least the injected 150ms", d)
	}
}

func TestAdminFaultsAPI(t *testing.T) {
	c, _ := newTestServer(t, platform.Options{Service: "test", AdminAPI: true})
	var cfg platform.FaultConfig
	c.Do(http.MethodGet, "/admin/faults", nil).Want(t, http.StatusOK, &cfg)
	if diff := cmp.Diff(platform.FaultConfig{Phase: platform.FaultBefore}, cfg); diff != "" {
		t.Errorf("initial setting: -want +got:\n%s", diff)
	}
	c.Do(http.MethodPut, "/admin/faults", `{"errorRate":1,"latency":"10ms","routes":["/v1/things"]}`).Want(t, http.StatusOK, &cfg)
	c.Do(http.MethodPut, "/v1/things/a", "{}").WantError(t, http.StatusServiceUnavailable, platform.CodeFaultInjected, "")
	for body, field := range map[string]string{
		`{"errorRate":1.5}`:        "errorRate",
		`{"latency":"2m"}`:         "latency",
		`{"latency":"soon"}`:       "latency",
		`{"routes":["things"]}`:    "routes[0]",
		`{"phase":"during"}`:       "phase",
		`{"errorRate":"1"}`:        "errorRate",
		`{"errorRate":0,"rate":1}`: "rate",
	} {
		r := c.Do(http.MethodPut, "/admin/faults", body)
		if r.Status != http.StatusBadRequest || r.Object(t)["error"].(map[string]any)["field"] != field {
			t.Errorf("PUT %s = %d %s, want 400 naming %s", body, r.Status, r.Body, field)
		}
	}
	c.Do(http.MethodPut, "/admin/faults", `{}`).Want(t, http.StatusOK, nil)
	c.Do(http.MethodPut, "/v1/things/a", "{}").Want(t, http.StatusCreated, nil)
}
