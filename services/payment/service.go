package payment

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// DefaultDeclineAbove is the default per-order limit (5,000.00).
const DefaultDeclineAbove platform.Money = 5000_00

// Config configures the payment service.
type Config struct {
	Rules Rules
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the payment service's HTTP API on its store.
type Service struct {
	store    *Store
	payments *prometheus.CounterVec
	refunds  *prometheus.CounterVec
}

// Register creates the service on db and registers its routes on srv.
func Register(srv *platform.Server, db *mongo.Database, cfg Config) *Service {
	s := &Service{
		store:    NewStore(db, cfg.Rules, cfg.Now),
		payments: srv.Metrics().Counter("payments_total", "Payment outcomes (first answers, not replays).", "outcome"),
		refunds:  srv.Metrics().Counter("payment_refunds_total", "Refunds that refunded, were no-ops or left a tombstone.", "outcome"),
	}
	srv.Route("PUT /v1/payments/{paymentId}", platform.Create(srv, "paymentId", Normalize, platform.OnFirstAnswer(s.store.Capture, s.countPayment)))
	srv.Route("POST /v1/payments/{paymentId}/refund", platform.Transition("paymentId",
		platform.CompensationView(s.store.Refund, Document.view, s.refunds, "refunded", "noop")))
	srv.Route("GET /v1/payments/{paymentId}", platform.Get("paymentId", platform.GetView(s.store.Get, Document.view)))
	srv.Route("GET /v1/payments", platform.List(map[string]func(string) bool{"orderId": platform.ValidID},
		platform.ListView(s.store.List, Document.view), platform.OrderIDsFilter()))
	return s
}

// SetUp prepares the database (indexes).
func (s *Service) SetUp(ctx context.Context) error { return s.store.SetUp(ctx) }

// countPayment counts a first answer: a capture or a decline.
func (s *Service) countPayment(resp platform.StoredResponse) {
	s.payments.WithLabelValues(platform.CreateOutcome(resp, "captured", "declined")).Inc()
}
