// Command gateway is OrderSaga's front door: a GraphQL API for shops (placeOrder, order,
// orders, cancelOrder, products, and live subscriptions) and the dashboard, both on the
// cluster's own identity and RBAC. See api/graphql/schema.graphqls and docs/gateway.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	"k8s.io/client-go/kubernetes"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	crmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/gateway"
	"github.com/ordersaga/ordersaga/internal/gateway/auth"
	"github.com/ordersaga/ordersaga/internal/gateway/backend"
	"github.com/ordersaga/ordersaga/internal/gateway/graph"
	"github.com/ordersaga/ordersaga/internal/gateway/watch"
	"github.com/ordersaga/ordersaga/internal/gateway/web"
	"github.com/ordersaga/ordersaga/internal/memlimit"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

type options struct {
	listen            string
	defaultNamespace  string
	watchNamespace    string
	insecureNoAuth    bool
	urlTemplate       string
	servicesNamespace string
	serviceURLs       string
	backendTimeout    time.Duration
	authCacheTTL      time.Duration
	maxDepth          int
	maxComplexity     int
	maxBodyBytes      int64
	maxPageSize       int
	noBatch           bool
	qps               float64
	burst             int
	zap               zap.Options
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	fs.StringVar(&o.listen, "listen-address", ":8090", "Address of the GraphQL API (/graphql), the dashboard (/), /healthz, /readyz and /metrics.")
	fs.StringVar(&o.defaultNamespace, "default-namespace", envOr("POD_NAMESPACE", "default"), "Namespace of a caller whose identity names none (users, and everyone with --insecure-no-auth).")
	fs.StringVar(&o.watchNamespace, "watch-namespace", "", "Only serve orders in this namespace (default: all namespaces).")
	fs.BoolVar(&o.insecureNoAuth, "insecure-no-auth", false, "Local use only: skip TokenReview and SubjectAccessReview, so that anyone may do anything.")
	fs.StringVar(&o.urlTemplate, "service-url-template", stepclient.DefaultURLTemplate, "Base URL of a service; {service} and {namespace} are replaced.")
	fs.StringVar(&o.servicesNamespace, "services-namespace", envOr("POD_NAMESPACE", "default"), "Namespace of the services, for {namespace} in the URL template.")
	fs.StringVar(&o.serviceURLs, "service-urls", "", "Per-service base URL overrides: order=http://127.0.0.1:18080,payment=...")
	fs.DurationVar(&o.backendTimeout, "backend-timeout", 2*time.Second, "Time one call to a service may take before its field is answered with an error.")
	fs.DurationVar(&o.authCacheTTL, "auth-cache-ttl", 10*time.Second, "How long an answer of TokenReview or SubjectAccessReview is reused; 0 asks every time.")
	fs.IntVar(&o.maxDepth, "max-query-depth", gateway.DefaultMaxDepth, "Deepest nesting of fields an operation may have.")
	fs.IntVar(&o.maxComplexity, "max-query-complexity", gateway.DefaultMaxComplexity, "Highest complexity an operation may have (a field costs 1, a service call 5, a list its page size times its elements).")
	fs.Int64Var(&o.maxBodyBytes, "max-body-bytes", gateway.DefaultMaxBodyBytes, "Largest request body.")
	fs.IntVar(&o.maxPageSize, "max-page-size", gateway.DefaultMaxPageSize, "Largest orders(first).")
	fs.BoolVar(&o.noBatch, "no-batch", false, "Benchmarks only: every field calls its service's per-ID endpoint, instead of one batched call per service and request.")
	fs.Float64Var(&o.qps, "kube-api-qps", 100, "Queries per second to the Kubernetes API server.")
	fs.IntVar(&o.burst, "kube-api-burst", 200, "Burst of queries to the Kubernetes API server.")
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("parse flags: %w", err)
	}
	return o, nil
}

func main() {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&o.zap)))
	if err := run(ctrl.SetupSignalHandler(), o); err != nil {
		ctrl.Log.Error(err, "gateway stopped")
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) error {
	log := ctrl.Log.WithName("gateway")
	// The informer cache holds every OrderSaga, about 5 KiB each, as the manager's does.
	memlimit.FromCgroup(log)
	if o.insecureNoAuth {
		log.Info("WARNING: --insecure-no-auth: every caller may place, read, cancel and retry every order; use it only on a local stack")
	}
	overrides, err := stepclient.ParseOverrides(o.serviceURLs)
	if err != nil {
		return fmt.Errorf("--service-urls: %w", err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))
	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"}, // served on the API's own port
		HealthProbeBindAddress: "0",
		Cache:                  controllers.CacheOptions(o.watchNamespace),
	})
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	var synced atomic.Bool
	h, err := newHandler(ctx, mgr, o, overrides, &synced)
	if err != nil {
		return err
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error {
		if mgr.GetCache().WaitForCacheSync(ctx) {
			synced.Store(true)
		}
		return nil
	})); err != nil {
		return fmt.Errorf("add cache sync: %w", err)
	}
	if err := mgr.Add(manager.RunnableFunc(func(ctx context.Context) error { return serve(ctx, o.listen, h) })); err != nil {
		return fmt.Errorf("add HTTP server: %w", err)
	}
	log.Info("serving", "address", o.listen, "defaultNamespace", o.defaultNamespace, "servicesNamespace", o.servicesNamespace)
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("run gateway: %w", err)
	}
	return nil
}

// newHandler wires the API and the dashboard to the manager's cache and clients, and
// feeds subscriptions from the OrderSaga informer.
func newHandler(ctx context.Context, mgr ctrl.Manager, o options, overrides map[string]string, synced *atomic.Bool) (http.Handler, error) {
	kube, err := kubernetes.NewForConfig(mgr.GetConfig())
	if err != nil {
		return nil, fmt.Errorf("kubernetes client: %w", err)
	}
	broker := watch.NewBroker()
	informer, err := mgr.GetCache().GetInformer(ctx, &v1.OrderSaga{})
	if err != nil {
		return nil, fmt.Errorf("OrderSaga informer: %w", err)
	}
	if _, err := informer.AddEventHandler(broker.Handler()); err != nil {
		return nil, fmt.Errorf("watch OrderSagas: %w", err)
	}
	backendMetrics, err := backend.NewMetrics(crmetrics.Registry)
	if err != nil {
		return nil, err
	}
	h, err := gateway.NewHandler(gateway.Options{
		Resolver: &graph.Resolver{
			Cache:       mgr.GetCache(),
			API:         mgr.GetAPIReader(),
			Writer:      mgr.GetClient(),
			Auth:        auth.NewChecker(kube, auth.Options{DefaultNamespace: o.defaultNamespace, Insecure: o.insecureNoAuth, CacheTTL: o.authCacheTTL}),
			Broker:      broker,
			MaxPageSize: o.maxPageSize,
		},
		Services:      backend.NewClient(stepclient.Resolver{Template: o.urlTemplate, Namespace: o.servicesNamespace, Overrides: overrides}, o.backendTimeout, backendMetrics),
		Batch:         !o.noBatch,
		Dashboard:     web.Handler(),
		MaxDepth:      o.maxDepth,
		MaxComplexity: o.maxComplexity,
		MaxBodyBytes:  o.maxBodyBytes,
		Ready: func() error {
			if !synced.Load() {
				return errors.New("the order cache has not synced yet")
			}
			return nil
		},
		Registry: crmetrics.Registry,
		Gatherer: crmetrics.Registry,
		Log:      ctrl.Log.WithName("gateway").WithName("http"),
	})
	if err != nil {
		return nil, fmt.Errorf("gateway handler: %w", err)
	}
	return h, nil
}

// serve runs the HTTP server until ctx ends, then lets queries in flight finish; open
// subscriptions end with the process.
func serve(ctx context.Context, addr string, h http.Handler) error {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		// No write timeout: subscriptions stream for as long as the client listens.
		IdleTimeout: 2 * time.Minute,
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	errs := make(chan error, 1)
	go func() { errs <- srv.Serve(ln) }()
	select {
	case err := <-errs:
		return fmt.Errorf("serve %s: %w", addr, err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return fmt.Errorf("shut down the HTTP server: %w", err)
	}
	return nil
}
