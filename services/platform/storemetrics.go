package platform

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
)

// StoreMetrics counts the commands a service sends to its store (MongoDB, or the embedded
// FerretDB of the tests and the local stack) and the time each takes, by command and
// collection. Every request's cost in round trips is then visible on /metrics, which is how
// docs/services.md ("Store operations per saga") measures the operations per saga.
//
// It is fed by the driver's command monitor (Monitor), so it counts what goes over the wire,
// retries included, rather than what the code meant to send.
type StoreMetrics struct {
	commands *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// inFlight maps a started command's request ID to its collection: the finished event
	// carries only the command name, and the duration is labelled like the count.
	inFlight sync.Map
}

// NewStoreMetrics returns store metrics that are not yet registered anywhere: pass them to
// ConnectMongo, which monitors the client's commands, and to NewServer (Options.Store),
// which registers them on the service's registry with its service label.
func NewStoreMetrics() *StoreMetrics {
	return &StoreMetrics{
		commands: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_store_commands_total",
			Help: "Commands sent to the store (MongoDB wire protocol) by command name and collection.",
		}, []string{"command", "collection"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordersaga_store_command_duration_seconds",
			Help:    "Round-trip time of store commands by command name and collection.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"command", "collection"}),
	}
}

// Monitor returns the command monitor that feeds the metrics.
func (m *StoreMetrics) Monitor() *event.CommandMonitor {
	return &event.CommandMonitor{
		Started: m.started,
		Succeeded: func(_ context.Context, e *event.CommandSucceededEvent) {
			m.finished(e.CommandFinishedEvent)
		},
		Failed: func(_ context.Context, e *event.CommandFailedEvent) {
			m.finished(e.CommandFinishedEvent)
		},
	}
}

func (m *StoreMetrics) started(_ context.Context, e *event.CommandStartedEvent) {
	coll := CommandCollection(e.Command)
	m.commands.WithLabelValues(e.CommandName, coll).Inc()
	m.inFlight.Store(e.RequestID, coll)
}

func (m *StoreMetrics) finished(e event.CommandFinishedEvent) {
	coll, ok := m.inFlight.LoadAndDelete(e.RequestID)
	if !ok {
		return // started before the monitor was attached: nothing to pair it with
	}
	m.duration.WithLabelValues(e.CommandName, coll.(string)).Observe(e.Duration.Seconds()) //nolint:forcetypeassert // only started stores, and always a string
}

// Describe implements prometheus.Collector.
func (m *StoreMetrics) Describe(ch chan<- *prometheus.Desc) {
	m.commands.Describe(ch)
	m.duration.Describe(ch)
}

// Collect implements prometheus.Collector.
func (m *StoreMetrics) Collect(ch chan<- prometheus.Metric) {
	m.commands.Collect(ch)
	m.duration.Collect(ch)
}

// CommandCollection returns the collection a command addresses: the value of its first
// element for the CRUD and index commands ({"find": "orders", ...}), the "collection" field
// of a getMore, and "" for commands on no collection (ping, endSessions, buildInfo).
func CommandCollection(cmd bson.Raw) string {
	elems, err := cmd.Elements()
	if err != nil || len(elems) == 0 {
		return ""
	}
	if elems[0].Key() == "getMore" {
		if c, ok := cmd.Lookup("collection").StringValueOK(); ok {
			return c
		}
		return ""
	}
	if c, ok := elems[0].Value().StringValueOK(); ok {
		return c
	}
	return ""
}
