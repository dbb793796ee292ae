package controllers

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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
	requeues      *prometheus.CounterVec

	mu      sync.Mutex
	running map[metricKey]struct{}
}

// metricKey names one saga of one kind: an OrderSaga and a Saga may share a name.
type metricKey struct {
	kind string
	types.NamespacedName
}

// Kinds, as metricKey names them.
const (
	kindOrderSaga = "OrderSaga"
	kindSaga      = "Saga"
)

// metricOrderSaga is the definition label of OrderSagas: the built-in order saga. No
// SagaDefinition can be named so (object names are lower case).
const metricOrderSaga = "OrderSaga"

// Label names shared by several metrics.
const (
	labelDefinition = "definition"
	labelStep       = "step"
	labelOutcome    = "outcome"
)

// NewMetrics creates the metrics and registers them with reg (controller-runtime's
// metrics.Registry in the manager; a fresh registry in tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_sagas_finished_total", Help: "Sagas that reached a final phase, by definition and phase."}, []string{labelDefinition, "phase"}),
		sagaDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ordersaga_saga_duration_seconds", Help: "Time from start to final phase, by definition and phase.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 16)}, []string{labelDefinition, "phase"}),
		stepDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ordersaga_step_call_duration_seconds", Help: "Duration of one service call, by definition, step, direction and outcome.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 16)}, []string{labelDefinition, labelStep, "direction", labelOutcome}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_step_attempts_total", Help: "Calls of step actions, by definition, step and outcome."}, []string{labelDefinition, labelStep, labelOutcome}),
		compensations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_compensations_total", Help: "Calls of compensations, by definition, step and outcome."}, []string{labelDefinition, labelStep, labelOutcome}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "ordersaga_sagas_in_flight", Help: "Sagas this manager saw in a non-final phase."}),
		requeues: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_reconcile_requeues_total",
			Help: "Reconciles that stopped to run again later, by kind and reason: Conflict (a status write met a newer version), " +
				"CacheBehind (the cached saga predates this reconciler's own last write)."}, []string{"kind", "reason"}),
		running: map[metricKey]struct{}{},
	}
	reg.MustRegister(m.finished, m.sagaDuration, m.stepDuration, m.attempts, m.compensations, m.inFlight, m.requeues)
	return m
}

// Reasons of ordersaga_reconcile_requeues_total.
const (
	requeueConflict    = "Conflict"
	requeueCacheBehind = "CacheBehind"
)

// requeued counts a reconcile of a saga of kind that stopped for reason.
func (m *Metrics) requeued(kind, reason string) {
	if m == nil {
		return
	}
	m.requeues.WithLabelValues(kind, reason).Inc()
}

func (m *Metrics) observeCall(definition string, c saga.Call, out saga.Outcome, took time.Duration) {
	if m == nil {
		return
	}
	m.stepDuration.WithLabelValues(definition, string(c.Step), string(c.Direction), string(out.Kind)).Observe(took.Seconds())
	if c.Direction == saga.Compensate {
		m.compensations.WithLabelValues(definition, string(c.Step), string(out.Kind)).Inc()
		return
	}
	m.attempts.WithLabelValues(definition, string(c.Step), string(out.Kind)).Inc()
}

// track updates the in-flight set and counts sagas that just reached a final phase.
func (m *Metrics) track(key metricKey, definition string, before, phase v1.Phase, startedAt, finishedAt *metav1.MicroTime) {
	if m == nil {
		return
	}
	if phase.IsTerminal() && !before.IsTerminal() {
		m.finished.WithLabelValues(definition, string(phase)).Inc()
		if startedAt != nil && finishedAt != nil {
			m.sagaDuration.WithLabelValues(definition, string(phase)).Observe(finishedAt.Sub(startedAt.Time).Seconds())
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if phase.IsTerminal() {
		delete(m.running, key)
	} else {
		m.running[key] = struct{}{}
	}
	m.inFlight.Set(float64(len(m.running)))
}

func (m *Metrics) forget(key metricKey) {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.running, key)
	m.inFlight.Set(float64(len(m.running)))
}
