// Package gateway serves OrderSaga to shops and operators over HTTP: the GraphQL API of
// api/graphql/schema.graphqls at /graphql (POST, and graphql-transport-ws over WebSocket),
// the dashboard at /, and /healthz, /readyz and /metrics.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/ordersaga/ordersaga/internal/gateway/auth"
	"github.com/ordersaga/ordersaga/internal/gateway/backend"
	"github.com/ordersaga/ordersaga/internal/gateway/graph"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
)

// Defaults of the limits.
const (
	DefaultMaxDepth      = 10
	DefaultMaxComplexity = 3000
	DefaultMaxBodyBytes  = 1 << 20
	DefaultMaxPageSize   = 200
)

// Options configure a server.
type Options struct {
	Resolver *graph.Resolver
	// Services reads the services; Batch collects a request's reads into one call per
	// service (false only to measure what that saves).
	Services *backend.Client
	Batch    bool
	// Dashboard serves everything that is not the API or a probe; nil serves nothing.
	Dashboard http.Handler
	// Limits of one request.
	MaxDepth, MaxComplexity int
	MaxBodyBytes            int64
	// Ready reports whether the informer cache has synced.
	Ready func() error
	// Registry receives the gateway's metrics; Gatherer serves them at /metrics.
	Registry prometheus.Registerer
	Gatherer prometheus.Gatherer
	Log      logr.Logger
}

// metrics count what the API serves.
type metrics struct {
	operations *prometheus.CounterVec
	seconds    *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		operations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_gateway_operations_total",
			Help: "GraphQL operations by type, root field and outcome (ok, or the first error's code).",
		}, []string{"type", "field", "outcome"}),
		seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordersaga_gateway_operation_duration_seconds",
			Help:    "Time to answer a query or mutation, by root field.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"type", "field"}),
	}
	for _, c := range []prometheus.Collector{m.operations, m.seconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register gateway metrics: %w", err)
		}
	}
	return m, nil
}

// NewHandler returns the gateway's HTTP handler.
func NewHandler(opts Options) (http.Handler, error) {
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, err
	}
	api := handler.New(graph.NewExecutableSchema(schemaConfig(opts.Resolver)))
	api.AddTransport(transport.Websocket{
		KeepAlivePingInterval: 15 * time.Second,
		InitTimeout:           10 * time.Second,
		InitFunc: func(ctx context.Context, payload transport.InitPayload) (context.Context, *transport.InitPayload, error) {
			caller, err := opts.Resolver.Auth.Authenticate(ctx, payload.Authorization())
			if err != nil {
				// 4403, as graphql-transport-ws closes a refused connection_init, so that a
				// client can tell a bad token from a dropped connection.
				return transport.WithWebsocketCloseCode(ctx, 4403), nil, err
			}
			return graph.WithAuthentication(ctx, caller, nil), nil, nil
		},
	})
	api.AddTransport(transport.Options{})
	api.AddTransport(transport.POST{})
	api.Use(extension.Introspection{})
	api.Use(costLimit{extension.FixedComplexityLimit(opts.MaxComplexity)})
	api.Use(depthLimit{max: opts.MaxDepth})
	api.SetErrorPresenter(func(ctx context.Context, err error) *gqlerror.Error {
		log := logr.FromContextOrDiscard(ctx)
		return graph.PresentError(ctx, err, requestIDOf(ctx), func(err error) { log.Error(err, "internal error") })
	})
	api.SetRecoverFunc(func(ctx context.Context, v any) error {
		logr.FromContextOrDiscard(ctx).Error(nil, "resolver panicked", "panic", v)
		return errors.New("internal error")
	})
	// A loader per response: a query's fields share batched reads, and each event of a
	// subscription reads afresh.
	api.AroundResponses(func(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
		return next(backend.WithLoader(ctx, backend.NewLoader(ctx, opts.Services, opts.Batch)))
	})
	api.AroundOperations(func(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
		return observe(ctx, next, m)
	})

	mux := http.NewServeMux()
	mux.Handle("/graphql", limitBody(api, opts.MaxBodyBytes))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok")) })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := opts.Ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok"))
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(opts.Gatherer, promhttp.HandlerOpts{}))
	if opts.Dashboard != nil {
		mux.Handle("/", opts.Dashboard)
	}
	return withRequest(mux, opts.Resolver.Auth, opts.Log), nil
}

func schemaConfig(r *graph.Resolver) graph.Config {
	cfg := graph.Config{Resolvers: r}
	// A list costs its page size times its elements; a field that calls a service or the
	// API server costs more than one read from memory.
	cfg.Complexity.Query.Orders = func(child int, _ *string, _ *string, _ *model.Phase, _ *bool, first *int, _ *string) int {
		n := 20
		if first != nil {
			n = max(*first, 1)
		}
		return 1 + child*n
	}
	backendCall := func(child int) int { return child + 5 }
	cfg.Complexity.Order.Record = backendCall
	cfg.Complexity.Order.Payment = backendCall
	cfg.Complexity.Order.Shipment = backendCall
	cfg.Complexity.Order.Notices = backendCall
	cfg.Complexity.Order.Events = func(child int) int { return child + 10 }
	return cfg
}

// observe counts and times one operation and logs it.
func observe(ctx context.Context, next graphql.OperationHandler, m *metrics) graphql.ResponseHandler {
	oc := graphql.GetOperationContext(ctx)
	kind, field := "unknown", "unknown"
	if op := oc.Operation; op != nil {
		kind = string(op.Operation)
		if len(op.SelectionSet) > 0 {
			if f, ok := op.SelectionSet[0].(interface{ GetName() string }); ok {
				field = f.GetName()
			}
		}
	}
	begin := time.Now()
	respond := next(ctx)
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		outcome := "ok"
		if resp != nil && len(resp.Errors) > 0 {
			outcome = "error"
			if code, ok := resp.Errors[0].Extensions["code"].(string); ok {
				outcome = code
			}
		}
		if kind != "subscription" {
			m.seconds.WithLabelValues(kind, field).Observe(time.Since(begin).Seconds())
		}
		m.operations.WithLabelValues(kind, field, outcome).Inc()
		logr.FromContextOrDiscard(ctx).V(1).Info("graphql", "type", kind, "field", field, "operation", oc.OperationName,
			"outcome", outcome, "duration", time.Since(begin).String())
		return resp
	}
}

// limitBody refuses a request body larger than limit with 413, before gqlgen reads it.
func limitBody(next http.Handler, limit int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > limit {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

type requestIDKey struct{}

func requestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

var safeRequestID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// withRequest gives each request an ID (the caller's X-Request-ID when it is sane), a
// logger that carries it, and the outcome of authenticating its bearer token; it logs
// each request when it ends.
func withRequest(next http.Handler, checker *auth.Checker, log logr.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !safeRequestID.MatchString(id) {
			var b [8]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		reqLog := log.WithValues("requestID", id)
		ctx := context.WithValue(logr.NewContext(r.Context(), reqLog), requestIDKey{}, id)
		if r.URL.Path == "/graphql" {
			caller, err := checker.Authenticate(ctx, r.Header.Get("Authorization"))
			ctx = graph.WithAuthentication(ctx, caller, err)
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		begin := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))
		reqLog.Info("request", "method", r.Method, "path", r.URL.Path, "status", rec.status, "duration", time.Since(begin).String())
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController and the WebSocket upgrade reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
