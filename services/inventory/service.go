package inventory

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Config configures the inventory service.
type Config struct {
	// Catalog is seeded at start-up (insert-if-absent); nil seeds nothing.
	Catalog []SeedProduct
	// WriteSerialization says what keeps concurrent writes of one document apart; empty
	// means SerializeProcess, which is safe on every server (see its doc for when "none"
	// is right).
	WriteSerialization WriteSerialization
	// SweepInterval is how often every product holding stock-move tokens is compacted;
	// zero means 15s, negative disables. Products also compact themselves as their tokens
	// reach compactAt, so this only tidies quiet products and repairs after crashes.
	SweepInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Service is the inventory service's HTTP API on its store.
type Service struct {
	cfg          Config
	log          *slog.Logger
	store        *Store
	reservations *prometheus.CounterVec
	releases     *prometheus.CounterVec
}

// Register creates the service on db and registers its routes on srv. It panics on an
// unknown cfg.WriteSerialization (see ParseWriteSerialization).
func Register(srv *platform.Server, db *mongo.Database, cfg Config) *Service {
	if cfg.SweepInterval == 0 {
		cfg.SweepInterval = 15 * time.Second
	}
	if cfg.WriteSerialization == "" {
		cfg.WriteSerialization = SerializeProcess
	}
	s := &Service{
		cfg:          cfg,
		log:          srv.Logger(),
		store:        NewStore(db, cfg.Now, cfg.WriteSerialization),
		reservations: srv.Metrics().Counter("inventory_reservations_total", "Reservation outcomes (first answers, not replays).", "outcome"),
		releases:     srv.Metrics().Counter("inventory_releases_total", "Releases that gave stock back, were no-ops or left a tombstone.", "outcome"),
	}
	srv.Route("GET /v1/products", platform.List(nil, platform.ListView(s.store.Products, ProductDocument.view)))
	srv.Route("GET /v1/products/{productId}", platform.Get("productId", platform.GetView(s.store.Product, ProductDocument.view)))
	srv.Route("PUT /v1/products/{productId}", s.putProduct)
	srv.Route("PUT /v1/reservations/{reservationId}", platform.Create(srv, "reservationId", NormalizeReserve, platform.OnFirstAnswer(s.reserve, s.countReservation)))
	srv.Route("POST /v1/reservations/{reservationId}/release", platform.Transition("reservationId",
		platform.CompensationView(s.release, ReservationDocument.view, s.releases, "released", "noop")))
	srv.Route("GET /v1/reservations/{reservationId}", platform.Get("reservationId", platform.GetView(s.store.Reservation, ReservationDocument.view)))
	srv.Route("GET /v1/reservations", platform.List(map[string]func(string) bool{"orderId": platform.ValidID},
		platform.ListView(s.store.Reservations, ReservationDocument.view)))
	return s
}

// SetUp creates the indexes, seeds the catalog and starts the sweeper, which runs until
// ctx ends.
func (s *Service) SetUp(ctx context.Context) error {
	if err := s.logWriteSerialization(ctx); err != nil {
		return err
	}
	if err := s.store.SetUp(ctx); err != nil {
		return err
	}
	if err := s.store.Seed(ctx, s.cfg.Catalog); err != nil {
		return err
	}
	if s.cfg.SweepInterval > 0 {
		go s.sweepLoop(ctx)
	}
	return nil
}

// logWriteSerialization logs the mode and what it relies on, and warns when SerializeNone
// runs on FerretDB (its buildInfo names a ferretdbVersion), where it oversells. It warns
// rather than refuses: the choice is explicit, and the tests use it to show the oversell.
func (s *Service) logWriteSerialization(ctx context.Context) error {
	mode := s.cfg.WriteSerialization
	s.log.Info("inventory write serialization", "mode", string(mode), "guarantee", mode.Guarantee())
	if mode != SerializeNone {
		return nil
	}
	var info bson.M
	if err := s.store.products.Database().RunCommand(ctx, bson.D{{Key: "buildInfo", Value: 1}}).Decode(&info); err != nil {
		return fmt.Errorf("read the database server's buildInfo: %w", err)
	}
	if _, ferret := info["ferretdbVersion"]; ferret {
		s.log.Warn("write serialization none on FerretDB: its conditional updates are not atomic, so concurrent reservations oversell; use process and one replica",
			"mode", string(mode))
	}
	return nil
}

// sweepLoop compacts every product holding tokens each SweepInterval; each sweep goes on,
// in batches, until it has passed every such product.
func (s *Service) sweepLoop(ctx context.Context) {
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := s.store.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("stock-move sweep failed", "tokens", n, "error", err.Error())
		} else if n > 0 {
			s.log.Debug("stock-move tokens compacted", "tokens", n)
		}
	}
}

// detached keeps a multi-step run going when the client goes away (a half-done run is
// repaired later, but a finished one is better), bounded by runDeadline.
func detached(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), runDeadline)
}

func (s *Service) reserve(ctx context.Context, id string, spec ReserveSpec, key string) (platform.StoredResponse, bool, error) {
	ctx, cancel := detached(ctx)
	defer cancel()
	return s.store.Reserve(ctx, id, spec, key)
}

// countReservation counts a first answer: reserved, or the refusal's code in lower case
// (out_of_stock, unknown_product, product_discontinued).
func (s *Service) countReservation(resp platform.StoredResponse) {
	outcome := "reserved"
	if code := resp.ErrorCode(); code != "" {
		outcome = strings.ToLower(code)
	}
	s.reservations.WithLabelValues(outcome).Inc()
}

func (s *Service) release(ctx context.Context, id, reason string) (ReservationDocument, bool, error) {
	ctx, cancel := detached(ctx)
	defer cancel()
	return s.store.Release(ctx, id, reason)
}

func (s *Service) putProduct(w http.ResponseWriter, r *http.Request) {
	id, e := platform.PathID(r, "productId")
	if e != nil {
		platform.WriteError(w, e)
		return
	}
	var req ProductRequest
	if e := platform.DecodeStrict(w, r, &req); e != nil {
		platform.WriteError(w, e)
		return
	}
	spec, e := NormalizeProduct(req)
	if e != nil {
		platform.WriteError(w, e)
		return
	}
	p, created, err := s.store.PutProduct(r.Context(), id, spec)
	if err != nil {
		platform.WriteErr(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	platform.WriteJSON(w, status, p.view())
}
