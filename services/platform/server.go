package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// Options configure a Server.
type Options struct {
	// Service names the service in logs and metrics ("inventory").
	Service string
	// Logger is the base logger; nil means slog.Default().
	Logger *slog.Logger
	// Ready is the readiness check (a Mongo ping); nil means always ready once set up.
	Ready func(context.Context) error
	// Faults is the initial fault injection setting (zero: none).
	Faults FaultConfig
	// AdminAPI enables GET/PUT /admin/faults.
	AdminAPI bool
	// ShutdownTimeout bounds the graceful drain on SIGTERM; zero means 15s.
	ShutdownTimeout time.Duration
	// Store, when set, is registered on the service's metrics: the store commands its
	// Mongo client sends (see ConnectMongo).
	Store *StoreMetrics
}

// Server is the HTTP front of one service: health, readiness, metrics, the optional admin
// API and the business routes, behind request IDs, access logs and JSON errors.
type Server struct {
	opts    Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *Metrics
	faults  *Faults
	// setUp turns true once the service's set-up (indexes, seed) succeeded; business
	// routes answer 503 NOT_READY before, so nothing is written without its unique indexes.
	setUp atomic.Bool
	// draining turns true on shutdown, so that /readyz fails while requests drain.
	draining atomic.Bool
}

// NewServer returns a Server with its built-in routes registered.
func NewServer(opts Options) (*Server, error) {
	if e := opts.Faults.Validate(); e != nil {
		return nil, fmt.Errorf("fault injection setting: %w", e)
	}
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{opts: opts, log: log.With("service", opts.Service), mux: http.NewServeMux(), metrics: NewMetrics(opts.Service)}
	s.faults = NewFaults(opts.Faults, s.metrics)
	if opts.Store != nil {
		if err := s.metrics.wrapped.Register(opts.Store); err != nil {
			return nil, fmt.Errorf("register store metrics: %w", err)
		}
	}
	s.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /metrics", s.metrics.Handler())
	if opts.AdminAPI {
		s.mux.HandleFunc("GET /admin/faults", s.faults.handleGet)
		s.mux.HandleFunc("PUT /admin/faults", s.faults.handlePut)
	}
	return s, nil
}

// Route registers a business handler for pattern ("PUT /v1/orders/{orderId}"), behind the
// set-up gate and fault injection.
func (s *Server) Route(pattern string, h http.HandlerFunc) {
	s.mux.HandleFunc(pattern, s.gate(s.faults.Wrap(h)))
}

// Metrics returns the server's metrics, for business counters.
func (s *Server) Metrics() *Metrics { return s.metrics }

// Logger returns the service logger.
func (s *Server) Logger() *slog.Logger { return s.log }

// Faults returns the live fault injection setting.
func (s *Server) Faults() *Faults { return s.faults }

// Handler returns the complete HTTP handler.
func (s *Server) Handler() http.Handler { return s.observe(s.mux) }

// MarkSetUp opens the business routes; Run calls it after set-up, tests call it directly.
func (s *Server) MarkSetUp() { s.setUp.Store(true) }

func (s *Server) gate(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !s.setUp.Load() {
			w.Header().Set("Retry-After", "1")
			WriteError(w, NewError(http.StatusServiceUnavailable, CodeNotReady, "the service is starting (waiting for its database)"))
			return
		}
		next(w, r)
	}
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	var err error
	switch {
	case s.draining.Load():
		err = errors.New("shutting down")
	case !s.setUp.Load():
		err = errors.New("set-up (indexes, seed) not finished")
	case s.opts.Ready != nil:
		err = s.opts.Ready(r.Context())
	}
	if err != nil {
		WriteError(w, NewError(http.StatusServiceUnavailable, CodeNotReady, err.Error()))
		return
	}
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// Run serves on addr until ctx is cancelled (SIGTERM in main), then drains in-flight
// requests for up to ShutdownTimeout. setUp (indexes, seed) runs in the background and is
// retried with capped backoff until it succeeds, so that the process can start before
// MongoDB does; /healthz answers meanwhile and /readyz does not.
func (s *Server) Run(ctx context.Context, addr string, setUp func(context.Context) error) error {
	ln, err := new(net.ListenConfig).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second, // above the largest injectable latency (1m)
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	go s.setUpLoop(ctx, setUp)
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	s.log.Info("listening", "addr", ln.Addr().String())
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.draining.Store(true)
	timeout := s.opts.ShutdownTimeout
	if timeout == 0 {
		timeout = 15 * time.Second
	}
	s.log.Info("shutting down", "timeout", timeout.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	s.log.Info("stopped")
	return nil
}

func (s *Server) setUpLoop(ctx context.Context, setUp func(context.Context) error) {
	backoff := 500 * time.Millisecond
	for {
		err := setUp(ctx)
		if err == nil {
			s.MarkSetUp()
			s.log.Info("set-up done; serving business routes")
			return
		}
		s.log.Warn("set-up failed; retrying", "error", err.Error(), "retry_in", backoff.String())
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 15*time.Second)
	}
}
