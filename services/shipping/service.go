package shipping

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Config configures the shipping service.
type Config struct {
	// Countries are the supported destinations; nil means DefaultCountries().
	Countries []string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the shipping service's HTTP API on its store.
type Service struct {
	store     *Store
	shipments *prometheus.CounterVec
}

// Register creates the service on db and registers its routes on srv.
func Register(srv *platform.Server, db *mongo.Database, cfg Config) *Service {
	if cfg.Countries == nil {
		cfg.Countries = DefaultCountries()
	}
	s := &Service{
		store:     NewStore(db, cfg.Countries, cfg.Now),
		shipments: srv.Metrics().Counter("shipments_total", "Shipment outcomes: scheduled, rejected, cancelled, cancel_noop, tombstone.", "outcome"),
	}
	srv.Route("PUT /v1/shipments/{shipmentId}", platform.Create(srv, "shipmentId", Normalize, s.schedule))
	srv.Route("POST /v1/shipments/{shipmentId}/cancel", platform.Transition("shipmentId", s.cancel))
	srv.Route("GET /v1/shipments/{shipmentId}", platform.Get("shipmentId", s.get))
	srv.Route("GET /v1/shipments", platform.List(map[string]func(string) bool{"orderId": platform.ValidID}, s.list))
	return s
}

// SetUp prepares the database (indexes).
func (s *Service) SetUp(ctx context.Context) error { return s.store.SetUp(ctx) }

func (s *Service) schedule(ctx context.Context, id string, spec CreateRequest, key string) (platform.StoredResponse, bool, error) {
	resp, replayed, err := s.store.Schedule(ctx, id, spec, key)
	if err == nil && !replayed {
		outcome := "scheduled"
		if resp.ErrorCode() != "" {
			outcome = "rejected"
		}
		s.shipments.WithLabelValues(outcome).Inc()
	}
	return resp, replayed, err
}

func (s *Service) cancel(ctx context.Context, id, reason string) (any, error) {
	d, changed, err := s.store.Cancel(ctx, id, reason)
	if err != nil {
		return nil, err
	}
	switch {
	case d.Tombstone:
		s.shipments.WithLabelValues("tombstone").Inc()
	case changed:
		s.shipments.WithLabelValues("cancelled").Inc()
	default:
		s.shipments.WithLabelValues("cancel_noop").Inc()
	}
	return d.view(), nil
}

func (s *Service) get(ctx context.Context, id string) (any, error) {
	d, err := s.store.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	return d.view(), nil
}

func (s *Service) list(ctx context.Context, p platform.ListParams) (any, error) {
	docs, next, err := s.store.List(ctx, p)
	if err != nil {
		return nil, err
	}
	return platform.ViewPage(docs, next, document.view), nil
}
