package bench

import (
	"context"
	"fmt"
	"time"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	ctrlconfig "sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// ManagerKind says where the controller runs.
type ManagerKind string

// Where the controller runs.
const (
	// InProcess runs the OrderSaga reconciler in the benchmark's process, behind a
	// transport that counts its requests by verb and resource. Its CPU cannot be told
	// apart from the fake services' and the benchmark clients'.
	InProcess ManagerKind = "inprocess"
	// Subprocess runs the real cmd/manager binary (all three controllers, as deployed),
	// so that its CPU and memory are its own. Its requests are counted by the API server
	// only.
	Subprocess ManagerKind = "subprocess"
)

// manager is a running controller.
type manager interface {
	// CPU is the CPU time used so far by the process the controller runs in.
	CPU() (time.Duration, error)
	// Requests are the manager's requests so far, by kind; nil when not counted.
	Requests() Counts
	// Memory reads the manager's resident set (now and peak) and Go heap in use; ok is
	// false when the manager shares the benchmark's process.
	Memory(ctx context.Context) (mem memory, ok bool, err error)
	// Stop stops the manager and returns how it ended.
	Stop() error
}

// memory is a manager process's memory.
type memory struct {
	RSS, PeakRSS, HeapInuse int64
	// LiveHeap is the Go heap in use right after a forced collection, and HeapProfile the
	// profile (pprof format) that forced it: what the manager holds, without its garbage.
	LiveHeap    int64
	HeapProfile []byte
	// RSSFile is the part of RSS that maps files (the binary's pages); StackInuse the
	// goroutine stacks, outside the heap; Goroutines their number. All read with RSS.
	RSSFile, StackInuse int64
	Goroutines          int
}

// managerOptions are the controller's settings for one measurement.
type managerOptions struct {
	Kind      ManagerKind
	Namespace string // the only namespace the manager watches: earlier runs' sagas stay out of its cache
	Workers   int    // MaxConcurrentReconciles; 0 takes the controller's default
	// Shards > 1 runs cmd/manager as one of that many replicas (--shards), its Lease in
	// Namespace; Identity is its POD_NAME, distinct per replica. Subprocess only.
	Shards   int
	Identity string
}

func (s *Stack) startManager(ctx context.Context, o managerOptions) (manager, error) {
	if o.Kind == Subprocess {
		return s.startSubprocessManager(ctx, o)
	}
	return s.startInProcessManager(ctx, o)
}

// inProcessManager is a controller-runtime manager in this process.
type inProcessManager struct {
	counter *requestCounter
	cancel  context.CancelFunc
	done    chan error
}

// managerQPS is cmd/manager's default client rate limit (--kube-api-qps, --kube-api-burst),
// so that the in-process manager is throttled like the deployed one.
const (
	managerQPS   = 500
	managerBurst = 1000
)

func (s *Stack) startInProcessManager(ctx context.Context, o managerOptions) (*inProcessManager, error) {
	cfg := rest.CopyConfig(s.Config)
	cfg.QPS, cfg.Burst = managerQPS, managerBurst
	m := &inProcessManager{counter: newRequestCounter(), done: make(chan error, 1)}
	cfg.WrapTransport = m.counter.Wrap
	skip := true
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:  s.Scheme,
		Metrics: metricsserver.Options{BindAddress: "0"},
		Cache:   cache.Options{DefaultNamespaces: map[string]cache.Config{o.Namespace: {}}},
		// Every measurement starts its own manager in this one process.
		Controller: ctrlconfig.Controller{SkipNameValidation: &skip},
	})
	if err != nil {
		return nil, fmt.Errorf("new manager: %w", err)
	}
	steps := ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: s.Fake.URLs()})}
	r := controllers.NewOrderSagaReconciler(mgr, steps, controllers.Options{MaxConcurrentReconciles: o.Workers})
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, fmt.Errorf("set up the reconciler: %w", err)
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	m.cancel = cancel
	go func() { m.done <- mgr.Start(runCtx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		_ = m.Stop()
		return nil, fmt.Errorf("manager cache did not sync: %w", ctx.Err())
	}
	if _, err := mgr.GetCache().GetInformer(ctx, &v1.OrderSaga{}); err != nil {
		_ = m.Stop()
		return nil, fmt.Errorf("ordersaga informer: %w", err)
	}
	return m, nil
}

func (m *inProcessManager) CPU() (time.Duration, error) { return selfCPU() }

func (m *inProcessManager) Requests() Counts { return m.counter.Snapshot() }

func (m *inProcessManager) Memory(context.Context) (memory, bool, error) {
	return memory{}, false, nil
}

func (m *inProcessManager) Stop() error {
	m.cancel()
	if err := <-m.done; err != nil {
		return fmt.Errorf("in-process manager: %w", err)
	}
	return nil
}
