package controllers

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// Metrics are the controller's Prometheus metrics, for machines; Events are for people.
type Metrics struct {
	finished      *prometheus.CounterVec
	sagaDuration  *prometheus.HistogramVec
	stepDuration  *prometheus.HistogramVec
	attempts      *prometheus.CounterVec
	compensations *prometheus.CounterVec
	inFlight      prometheus.Gauge

	mu      sync.Mutex
	running map[types.NamespacedName]struct{}
}

// Label names shared by several metrics.
const (
	labelStep    = "step"
	labelOutcome = "outcome"
)

// NewMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager; a fresh registry in tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_sagas_finished_total", Help: "Sagas that reached a final phase, by phase."}, []string{"phase"}),
		sagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ordersaga_saga_duration_seconds", Help: "Time from start to final phase, by phase.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}, []string{"phase"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ordersaga_step_call_duration_seconds", Help: "Duration of one service call, by step, direction and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{labelStep, "direction", labelOutcome}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_step_attempts_total", Help: "Calls of step actions, by step and outcome."}, []string{labelStep, labelOutcome}),
		compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_compensations_total", Help: "Calls of compensations, by step and outcome."}, []string{labelStep, labelOutcome}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ordersaga_sagas_in_flight", Help: "Sagas this manager saw in a non-final phase."}),
		running: map[types.NamespacedName]struct{}{},
	}
	reg.MustRegister(m.finished, m.sagaDuration, m.stepDuration, m.attempts, m.compensations, m.inFlight)
	return m
}

func (m *Metrics) observeCall(c saga.Call, out saga.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	m.stepDuration.WithLabelValues(string(c.Step), string(c.Direction), string(out.Kind)).Observe(took.Seconds())
	if c.Direction == saga.Compensate {
		m.compensations.WithLabelValues(string(c.Step), string(out.Kind)).Inc()
		return
	}
	m.attempts.WithLabelValues(string(c.Step), string(out.Kind)).Inc()
}

// track updates the in-flight set and counts sagas that just reached a final phase.
func (m *Metrics) track(before, after *v1.OrderSaga) {
	if m == nil {
		return
	}
	key := types.NamespacedName{Namespace: after.Namespace, Name: after.Name}
	st := after.Status
	if st.Phase.IsTerminal() && !before.Status.Phase.IsTerminal() {
		m.finished.WithLabelValues(string(st.Phase)).Inc()
		if st.StartedAt != nil && st.FinishedAt != nil {
			m.sagaDuration.WithLabelValues(string(st.Phase)).Observe(st.FinishedAt.Sub(st.StartedAt.Time).Seconds())
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if st.Phase.IsTerminal() {
		delete(m.running, key)
	} else {
		m.running[key] = struct{}{}
	}
	m.inFlight.Set(float64(len(m.running)))
}

func (m *Metrics) forget(key types.NamespacedName) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, key)
	m.inFlight.Set(float64(len(m.running)))
}
