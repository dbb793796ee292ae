package order

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Config configures the order service.
type Config struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the order service's HTTP API on its store.
type Service struct {
	store       *Store
	transitions *prometheus.CounterVec
}

// Register creates the service on db and registers its routes on srv.
func Register(srv *platform.Server, db *mongo.Database, cfg Config) *Service {
	s := &Service{
		store:       NewStore(db, cfg.Now),
		transitions: srv.Metrics().Counter("orders_transitions_total", "Order state changes by new status.", "status"),
	}
	srv.Route("PUT /v1/orders/{orderId}", platform.Create(srv, "orderId", Normalize, platform.OnFirstAnswer(s.store.Create, s.countCreated)))
	srv.Route("POST /v1/orders/{orderId}/confirm", platform.Transition("orderId", s.confirm))
	srv.Route("POST /v1/orders/{orderId}/cancel", platform.Transition("orderId", s.cancel))
	srv.Route("GET /v1/orders/{orderId}", platform.Get("orderId", platform.GetView(s.store.Get, Document.view)))
	srv.Route("GET /v1/orders", platform.List(map[string]func(string) bool{
		"customerId": func(v string) bool { return v != "" && len(v) <= 64 },
		"status":     func(v string) bool { return v == string(Pending) || v == string(Confirmed) || v == string(Cancelled) },
	}, platform.ListView(s.store.List, Document.view), platform.OrderIDsFilter()))
	return s
}

// SetUp prepares the database (indexes); the server retries it until it succeeds.
func (s *Service) SetUp(ctx context.Context) error { return s.store.SetUp(ctx) }

// countCreated counts a new order: it starts PENDING.
func (s *Service) countCreated(platform.StoredResponse) {
	s.transitions.WithLabelValues(string(Pending)).Inc()
}

// confirm ignores the optional reason: only cancellations record one.
func (s *Service) confirm(ctx context.Context, id, _ string) (any, error) {
	d, changed, err := s.store.Confirm(ctx, id)
	if err != nil {
		return nil, err
	}
	if changed {
		s.transitions.WithLabelValues(string(Confirmed)).Inc()
	}
	return d.view(), nil
}

func (s *Service) cancel(ctx context.Context, id, reason string) (any, error) {
	d, changed, err := s.store.Cancel(ctx, id, reason)
	if err != nil {
		return nil, err
	}
	if changed {
		s.transitions.WithLabelValues(string(Cancelled)).Inc()
	}
	return d.view(), nil
}
