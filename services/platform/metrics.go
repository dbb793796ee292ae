package platform

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics owns a service's Prometheus registry (never the global one, so that tests can
// build many servers in one process) and the HTTP metrics every service exports.
type Metrics struct {
	reg      *prometheus.Registry
	wrapped  prometheus.Registerer
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	replays  *prometheus.CounterVec
	faults   *prometheus.CounterVec
}

// NewMetrics returns the metrics of service; every series carries the label service.
func NewMetrics(service string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := &Metrics{reg: reg, wrapped: prometheus.WrapRegistererWith(prometheus.Labels{"service": service}, reg)}
	m.requests = m.Counter("http_requests_total", "HTTP requests by route pattern and status code.", "route", "code")
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "ordersaga_http_request_duration_seconds",
		Help:    "HTTP request durations by route pattern.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route"})
	m.wrapped.MustRegister(m.duration)
	m.replays = m.Counter("idempotency_outcomes_total",
		"Creates that met an existing ID: replayed, key_reused or already_compensated.", "outcome")
	m.faults = m.Counter("faults_injected_total", "Injected faults by kind (error, latency).", "kind")
	return m
}

// Counter registers and returns a counter vector named ordersaga_<name>.
func (m *Metrics) Counter(name, help string, labels ...string) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "ordersaga_" + name, Help: help}, labels)
	m.wrapped.MustRegister(c)
	return c
}

// Idempotency counts how a create that met an existing ID ended.
func (m *Metrics) Idempotency(outcome string) { m.replays.WithLabelValues(outcome).Inc() }

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Registry returns the registry, for tests that read values.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }
