// Command manager runs the OrderSaga controller.
package main

import (
	"cmp"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	// The image is FROM scratch, without CA certificates: TLS (to an external MongoDB, a service
	// URL) falls back to the Mozilla roots compiled in.
	_ "golang.org/x/crypto/x509roots/fallback"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/memlimit"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/shard"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// version is stamped by the build (-X main.version=...).
var version = "dev"

// options are the manager's flags.
type options struct {
	metricsAddr          string
	secureMetrics        bool
	probeAddr            string
	pprofAddr            string
	leaderElect          bool
	leaderElectionNS     string
	maxConcurrent        int
	maxCallsPerReconcile int
	reconcileBudget      time.Duration
	progressInterval     time.Duration
	qps                  float64
	burst                int
	urlTemplate          string
	servicesNamespace    string
	serviceURLs          string
	watchNamespace       string
	shards               int
	shardLease           time.Duration
	zap                  zap.Options
}

func parseFlags(args []string) (options, error) {
	o := options{}
	fs := flag.NewFlagSet("manager", flag.ContinueOnError)
	fs.StringVar(&o.metricsAddr, "metrics-bind-address", ":8080", "Address of the Prometheus metrics endpoint; \"0\" disables it.")
	fs.BoolVar(&o.secureMetrics, "metrics-secure", false, "Serve metrics over HTTPS with authentication and authorization through the API server.")
	fs.StringVar(&o.probeAddr, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints.")
	fs.StringVar(&o.pprofAddr, "pprof-bind-address", "0", "Address of Go's /debug/pprof endpoints, for profiling a running manager; \"0\" (the default) disables them.")
	fs.BoolVar(&o.leaderElect, "leader-elect", false, "Elect a leader so that only one manager runs sagas.")
	fs.StringVar(&o.leaderElectionNS, "leader-election-namespace", "", "Namespace of the leader-election Lease (default: the manager's namespace).")
	fs.IntVar(&o.maxConcurrent, "max-concurrent-reconciles", controllers.DefaultMaxConcurrentReconciles, "Number of sagas advanced in parallel.")
	fs.IntVar(&o.maxCallsPerReconcile, "max-calls-per-reconcile", controllers.DefaultMaxCallsPerReconcile, "Service calls one reconcile makes before it writes status.")
	fs.DurationVar(&o.reconcileBudget, "reconcile-budget", controllers.DefaultReconcileBudget, "Time one reconcile may spend calling services.")
	fs.DurationVar(&o.progressInterval, "progress-interval", controllers.DefaultProgressInterval, "A batch of calls ends and writes status once it has run this long.")
	fs.Float64Var(&o.qps, "kube-api-qps", 500, "Queries per second to the Kubernetes API server.")
	fs.IntVar(&o.burst, "kube-api-burst", 1000, "Burst of queries to the Kubernetes API server.")
	fs.StringVar(&o.urlTemplate, "service-url-template", stepclient.DefaultURLTemplate, "Base URL of a service; {service} and {namespace} are replaced.")
	fs.StringVar(&o.servicesNamespace, "services-namespace", envOr("POD_NAMESPACE", "default"), "Namespace of the services, for {namespace} in the URL template.")
	fs.StringVar(&o.serviceURLs, "service-urls", "", "Per-service base URL overrides: order=http://127.0.0.1:18080,payment=...")
	fs.StringVar(&o.watchNamespace, "watch-namespace", "", "Only run sagas in this namespace (default: all namespaces).")
	fs.IntVar(&o.shards, "shards", 1, "1: one manager runs every saga (with --leader-elect, one of the replicas). "+
		"More: every replica runs, each the sagas that a consistent hash of their UID gives it over the live replicas, "+
		"which are Leases in the leader-election namespace; set it to the number of replicas.")
	fs.DurationVar(&o.shardLease, "shard-lease-duration", shard.DefaultLeaseDuration, "With --shards > 1: a replica that has not renewed its Lease for this long is gone, and its sagas move.")
	o.zap.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, fmt.Errorf("parse flags: %w", err)
	}
	if o.maxConcurrent < 1 || o.maxCallsPerReconcile < 1 || o.shards < 1 {
		return o, errors.New("--max-concurrent-reconciles, --max-calls-per-reconcile and --shards must be at least 1")
	}
	if o.shards > 1 && o.leaderElect {
		return o, errors.New("--shards > 1 runs every replica, each on its share of the sagas: it cannot be combined with --leader-elect")
	}
	return o, nil
}

func envOr(key, fallback string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return fallback
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
	if err := run(o); err != nil {
		ctrl.Log.Error(err, "manager stopped")
		os.Exit(1)
	}
}

func run(o options) error {
	log := ctrl.Log.WithName("setup")
	memlimit.FromCgroup(log)
	overrides, err := stepclient.ParseOverrides(o.serviceURLs)
	if err != nil {
		return fmt.Errorf("--service-urls: %w", err)
	}
	scheme := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(scheme))
	utilruntime.Must(v1.AddToScheme(scheme))

	cfg := ctrl.GetConfigOrDie()
	cfg.QPS, cfg.Burst = float32(o.qps), o.burst
	mgr, err := ctrl.NewManager(cfg, managerOptions(o, scheme))
	if err != nil {
		return fmt.Errorf("create manager: %w", err)
	}
	if err := setUpControllers(mgr, o, overrides); err != nil {
		return err
	}
	if err := mgr.AddHealthzCheck("healthz", healthz.Ping); err != nil {
		return fmt.Errorf("add health check: %w", err)
	}
	if err := mgr.AddReadyzCheck("readyz", healthz.Ping); err != nil {
		return fmt.Errorf("add ready check: %w", err)
	}
	log.Info("starting manager", "version", version, "serviceURLTemplate", o.urlTemplate, "servicesNamespace", o.servicesNamespace)
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		return fmt.Errorf("run manager: %w", err)
	}
	return nil
}

func managerOptions(o options, scheme *runtime.Scheme) ctrl.Options {
	metricsOpts := metricsserver.Options{
		BindAddress:   o.metricsAddr,
		SecureServing: o.secureMetrics,
		// HTTP/2 is off: it has had denial-of-service vulnerabilities (CVE-2023-44487).
		TLSOpts: []func(*tls.Config){func(c *tls.Config) { c.NextProtos = []string{"http/1.1"} }},
	}
	if o.secureMetrics {
		metricsOpts.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	opts := ctrl.Options{
		Scheme:                  scheme,
		Metrics:                 metricsOpts,
		HealthProbeBindAddress:  o.probeAddr,
		PprofBindAddress:        o.pprofAddr,
		LeaderElection:          o.leaderElect,
		LeaderElectionID:        "ordersaga.saga.ordersaga.io",
		LeaderElectionNamespace: o.leaderElectionNS,
		// A rolling update hands the lease over as soon as the old manager has stopped,
		// instead of after the lease expires; safe because Start returns right after.
		LeaderElectionReleaseOnCancel: true,
		GracefulShutdownTimeout:       new(controllers.GracefulShutdownTimeout(o.reconcileBudget)),
		Cache:                         controllers.CacheOptions(o.watchNamespace),
	}
	return opts
}

// shardGroup names the Leases of the manager's replicas, and is their label's value.
const shardGroup = "ordersaga-manager"

// setUpSharding makes this replica a member of the manager's shard group: its Lease,
// renewed in the background, and the rebalancer that wakes the sagas it takes over.
func setUpSharding(mgr ctrl.Manager, o options) (*controllers.Rebalancer, error) {
	// The Lease has a client of its own, as leader election has: renewals must not queue
	// behind the sagas' writes in the client's rate limiter, or a busy replica would lose
	// its membership.
	leases, err := client.New(rest.CopyConfig(mgr.GetConfig()), client.Options{Scheme: mgr.GetScheme()})
	if err != nil {
		return nil, fmt.Errorf("client for the shard lease: %w", err)
	}
	member, err := shard.New(shard.Config{
		Client:        leases,
		Namespace:     cmp.Or(o.leaderElectionNS, envOr("POD_NAMESPACE", "default")),
		Group:         shardGroup,
		Identity:      os.Getenv("POD_NAME"), // empty: the host name and a random suffix
		LeaseDuration: o.shardLease,
	})
	if err != nil {
		return nil, fmt.Errorf("shard membership: %w", err)
	}
	rb := controllers.NewRebalancer(mgr.GetClient(), member, o.shardLease)
	for _, r := range []manager.Runnable{member, rb} {
		if err := mgr.Add(r); err != nil {
			return nil, fmt.Errorf("add the shard membership: %w", err)
		}
	}
	// Not ready until it knows the members: until then it claims no saga.
	if err := mgr.AddReadyzCheck("shard", func(*http.Request) error {
		if !member.Ready() {
			return errors.New("the shard members are not known yet")
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("add the shard ready check: %w", err)
	}
	ctrl.Log.WithName("setup").Info("sharding the sagas over the live replicas", "shards", o.shards, "identity", member.Identity(), "lease", member.LeaseName())
	return rb, nil
}

// setUpControllers registers the three reconcilers: OrderSagas and Sagas share the step
// client (one connection pool), the batch limits and the metrics.
func setUpControllers(mgr ctrl.Manager, o options, overrides map[string]string) error {
	steps := stepclient.New(stepclient.Resolver{Template: o.urlTemplate, Namespace: o.servicesNamespace, Overrides: overrides})
	opts := controllers.Options{
		MaxCallsPerReconcile:    o.maxCallsPerReconcile,
		ReconcileBudget:         o.reconcileBudget,
		ProgressInterval:        o.progressInterval,
		MaxConcurrentReconciles: o.maxConcurrent,
		Metrics:                 controllers.NewMetrics(metrics.Registry),
	}
	if o.shards > 1 {
		rb, err := setUpSharding(mgr, o)
		if err != nil {
			return err
		}
		opts.Rebalancer = rb
	}
	if err := controllers.NewOrderSagaReconciler(mgr, ordersaga.Caller{Client: steps}, opts).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up OrderSaga controller: %w", err)
	}
	if err := controllers.NewSagaReconciler(mgr, steps, opts).SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up Saga controller: %w", err)
	}
	defs := &controllers.SagaDefinitionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	if err := defs.SetupWithManager(mgr); err != nil {
		return fmt.Errorf("set up SagaDefinition controller: %w", err)
	}
	return nil
}
