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
	srv.Route("PUT /v1/shipments/{shipmentId}", platform.Create(srv, "shipmentId", Normalize, platform.OnFirstAnswer(s.store.Schedule, s.countShipment)))
	srv.Route("POST /v1/shipments/{shipmentId}/cancel", platform.Transition("shipmentId",
		platform.CompensationView(s.store.Cancel, Document.view, s.shipments, "cancelled", "cancel_noop")))
	srv.Route("GET /v1/shipments/{shipmentId}", platform.Get("shipmentId", platform.GetView(s.store.Get, Document.view)))
	srv.Route("GET /v1/shipments", platform.List(map[string]func(string) bool{"orderId": platform.ValidID},
		platform.ListView(s.store.List, Document.view), platform.OrderIDsFilter()))
	return s
}

// SetUp prepares the database (indexes).
func (s *Service) SetUp(ctx context.Context) error { return s.store.SetUp(ctx) }

// countShipment counts a first answer: a scheduled or a rejected shipment.
func (s *Service) countShipment(resp platform.StoredResponse) {
	s.shipments.WithLabelValues(platform.CreateOutcome(resp, "scheduled", "rejected")).Inc()
}
