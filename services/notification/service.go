package notification

import (
	"context"
	"encoding/json"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Config configures the notification service.
type Config struct {
	Delivery Delivery
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the notification service's HTTP API on its store.
type Service struct {
	store *Store
	sent  *prometheus.CounterVec
}

// Register creates the service on db and registers its routes on srv.
func Register(srv *platform.Server, db *mongo.Database, cfg Config) *Service {
	s := &Service{
		store: NewStore(db, cfg.Delivery, cfg.Now),
		sent:  srv.Metrics().Counter("notifications_total", "Notifications by type and delivery status (first answers only).", "type", "status"),
	}
	srv.Route("PUT /v1/notifications/{notificationId}", platform.Create(srv, "notificationId", Normalize, platform.OnFirstAnswer(s.store.Send, s.countSent)))
	srv.Route("GET /v1/notifications/{notificationId}", platform.Get("notificationId", platform.GetView(s.store.Get, Document.view)))
	srv.Route("GET /v1/notifications", platform.List(map[string]func(string) bool{"orderId": platform.ValidID},
		platform.ListView(s.store.List, Document.view), platform.OrderIDsFilter()))
	return s
}

// SetUp prepares the database (indexes).
func (s *Service) SetUp(ctx context.Context) error { return s.store.SetUp(ctx) }

// countSent counts a first answer by the type and delivery status it reports.
func (s *Service) countSent(resp platform.StoredResponse) {
	var n Notification
	if json.Unmarshal([]byte(resp.Body), &n) == nil {
		s.sent.WithLabelValues(n.Type, string(n.Status)).Inc()
	}
}
