package platform

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault phases: "before" answers 503 instead of running the handler (the action did not
// happen); "after" runs the handler and then answers 503 (the action happened, the answer
// was lost), which exercises the saga's unknown-outcome compensation.
const (
	FaultBefore = "before"
	FaultAfter  = "after"
)

// FaultConfig is the fault injection setting. The zero value injects nothing.
type FaultConfig struct {
	// ErrorRate is the probability, 0 to 1, that a request gets a 503 FAULT_INJECTED.
	ErrorRate float64 `json:"errorRate"`
	// Latency is added to every affected request before it runs.
	Latency Duration `json:"latency"`
	// Routes limits faults to these entries: a route pattern ("POST /v1/payments/{paymentId}/refund"),
	// "METHOD /path-prefix" or "/path-prefix". Empty means every business route.
	Routes []string `json:"routes"`
	// Phase is FaultBefore (default) or FaultAfter.
	Phase string `json:"phase"`
}

// Validate returns a 400 naming the first bad field.
func (c FaultConfig) Validate() *APIError {
	var v Validator
	v.Checkf(c.ErrorRate >= 0 && c.ErrorRate <= 1, "errorRate", "must be between 0 and 1")
	v.Checkf(c.Latency >= 0 && time.Duration(c.Latency) <= time.Minute, "latency", "must be between 0s and 1m")
	for i, r := range c.Routes {
		v.Checkf(strings.Contains(r, "/") && len(r) <= 256, fmt.Sprintf("routes[%d]", i), "must be a route pattern or path prefix")
	}
	v.Checkf(c.Phase == "" || c.Phase == FaultBefore || c.Phase == FaultAfter, "phase", "must be %q or %q", FaultBefore, FaultAfter)
	return v.Err()
}

// SplitList splits a comma-separated setting (FAULT_ROUTES, SHIPPING_COUNTRIES...),
// trimming spaces and dropping empty entries.
func SplitList(s string) []string {
	var out []string
	for r := range strings.SplitSeq(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func (c FaultConfig) active() bool { return c.ErrorRate > 0 || c.Latency > 0 }

func (c FaultConfig) applies(r *http.Request) bool {
	if len(c.Routes) == 0 {
		return true
	}
	for _, rt := range c.Routes {
		if rt == r.Pattern {
			return true
		}
		method, prefix, ok := strings.Cut(rt, " ")
		if !ok {
			method, prefix = "", rt
		}
		if (method == "" || method == r.Method) && strings.HasPrefix(r.URL.Path, prefix) {
			return true
		}
	}
	return false
}

// Faults holds the live fault setting; the admin API changes it at run time.
type Faults struct {
	mu      sync.RWMutex
	cfg     FaultConfig
	metrics *Metrics
}

// NewFaults returns Faults with cfg, which must be valid.
func NewFaults(cfg FaultConfig, m *Metrics) *Faults {
	f := &Faults{metrics: m}
	_ = f.Set(cfg) // validated by the caller; Set fills in the default phase
	return f
}

// Get returns the current setting.
func (f *Faults) Get() FaultConfig {
	f.mu.RLock()
	defer f.mu.RUnlock()
	return f.cfg
}

// Set replaces the setting after validating it.
func (f *Faults) Set(cfg FaultConfig) *APIError {
	if e := cfg.Validate(); e != nil {
		return e
	}
	if cfg.Phase == "" {
		cfg.Phase = FaultBefore
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = cfg
	return nil
}

// Wrap injects faults into next, a business route.
func (f *Faults) Wrap(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		cfg := f.Get()
		if !cfg.active() || !cfg.applies(r) {
			next(w, r)
			return
		}
		if cfg.Latency > 0 {
			f.metrics.faults.WithLabelValues("latency").Inc()
			select {
			case <-time.After(time.Duration(cfg.Latency)):
			case <-r.Context().Done():
				return
			}
		}
		if rand.Float64() >= cfg.ErrorRate { //nolint:gosec // G404: chaos testing picks which requests fail; nothing depends on it being unpredictable
			next(w, r)
			return
		}
		f.metrics.faults.WithLabelValues("error").Inc()
		if cfg.Phase == FaultAfter {
			next(discardWriter{h: http.Header{}}, r)
		}
		WriteError(w, NewError(http.StatusServiceUnavailable, CodeFaultInjected, "fault injected for chaos testing"))
	}
}

func (f *Faults) handleGet(w http.ResponseWriter, _ *http.Request) {
	WriteJSON(w, http.StatusOK, f.Get())
}

func (f *Faults) handlePut(w http.ResponseWriter, r *http.Request) {
	var cfg FaultConfig
	if e := DecodeStrict(w, r, &cfg); e != nil {
		WriteError(w, e)
		return
	}
	if e := f.Set(cfg); e != nil {
		WriteError(w, e)
		return
	}
	Logger(r.Context()).Warn("fault injection changed", "errorRate", cfg.ErrorRate,
		"latency", time.Duration(cfg.Latency).String(), "routes", cfg.Routes, "phase", cfg.Phase)
	WriteJSON(w, http.StatusOK, f.Get())
}

type discardWriter struct{ h http.Header }

func (d discardWriter) Header() http.Header         { return d.h }
func (d discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d discardWriter) WriteHeader(int)             {}

// Duration is a time.Duration that travels as a Go duration string ("250ms").
type Duration time.Duration

// MarshalJSON encodes d as a duration string. time.Duration.String yields only digits, ".",
// "-", unit letters and "µ", which JSON leaves unescaped, so quoting is the whole encoding.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// UnmarshalJSON decodes a duration string.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("duration must be a string such as \"250ms\": %w", err)
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("parse duration: %w", err)
	}
	*d = Duration(v)
	return nil
}
