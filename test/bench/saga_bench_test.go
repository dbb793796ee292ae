// Package bench measures the OrderSaga controller end to end on a real API server
// (envtest) with zero-latency FAKE services (internal/fakeservices: the in-memory service
// models over loopback HTTP, no fault injected): sagas per second, saga latency, and API
// writes per saga. Run it with `make bench`.
package bench

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// concurrency is how many clients create sagas at once.
const concurrency = 20

// writeCounter counts the requests that change OrderSagas, as the manager sends them.
type writeCounter struct {
	next   http.RoundTripper
	writes atomic.Int64
}

func (w *writeCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet && strings.Contains(req.URL.Path, "/ordersagas") {
		w.writes.Add(1)
	}
	return w.next.RoundTrip(req) //nolint:wrapcheck // a counting RoundTripper must pass the transport's error through as it is
}

// stack is the control plane, fake services and manager shared by every run of the
// benchmark (Go calls a benchmark several times with growing b.N).
type stack struct {
	client  client.Client
	counter *writeCounter
	runs    atomic.Int64
}

// TestMain starts the stack only when benchmarks were asked for, so that `go test ./...`
// pays nothing for this package.
func TestMain(m *testing.M) {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run())
	}
	st, stop, err := startStack()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = st
	code := m.Run()
	stop()
	os.Exit(code)
}

// shared is set once by TestMain before any benchmark runs.
var shared *stack

func BenchmarkSagaThroughput(b *testing.B) {
	st := shared
	ns := fmt.Sprintf("bench-%d", st.runs.Add(1))
	if err := st.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil {
		b.Fatalf("create namespace: %v", err)
	}
	writesBefore := st.counter.writes.Load()
	b.ResetTimer()
	created, start := createSagas(b, st.client, ns, b.N)
	b.ReportMetric(time.Since(start).Seconds(), "create-s")
	latencies := waitCompleted(b, st.client, ns, created)
	elapsed := time.Since(start)
	b.StopTimer()

	slices.Sort(latencies)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "sagas/s")
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(st.counter.writes.Load()-writesBefore)/float64(b.N), "writes/saga")
}

func startStack() (*stack, func(), error) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		return nil, nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make bench`")
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, nil, fmt.Errorf("start envtest: %w", err)
	}
	scheme := runtime.NewScheme()
	_ = clientgoscheme.AddToScheme(scheme)
	_ = v1.AddToScheme(scheme)
	fake := fakeservices.Start()
	counter, stopManager, err := startManager(cfg, scheme, fake)
	if err != nil {
		_ = env.Stop()
		return nil, nil, err
	}
	userCfg := rest.CopyConfig(cfg)
	userCfg.QPS, userCfg.Burst = 1000, 2000
	c, err := client.New(userCfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, nil, fmt.Errorf("client: %w", err)
	}
	stop := func() { stopManager(); fake.Close(); _ = env.Stop() }
	return &stack{client: c, counter: counter}, stop, nil
}

// startManager runs the controller with a write-counting transport.
func startManager(cfg *rest.Config, scheme *runtime.Scheme, fake *fakeservices.Services) (*writeCounter, func(), error) {
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.QPS, mgrCfg.Burst = 500, 1000
	counter := &writeCounter{}
	mgrCfg.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter }
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{Scheme: scheme, Metrics: metricsserver.Options{BindAddress: "0"}})
	if err != nil {
		return nil, nil, fmt.Errorf("manager: %w", err)
	}
	r := controllers.NewOrderSagaReconciler(mgr, ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: fake.URLs()})}, controllers.Options{})
	if err := r.SetupWithManager(mgr); err != nil {
		return nil, nil, fmt.Errorf("setup: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = mgr.Start(ctx) }()
	return counter, func() { cancel(); <-done }, nil
}

// createSagas creates n sagas from concurrency clients and returns their creation times.
func createSagas(b *testing.B, c client.Client, ns string, n int) (map[string]time.Time, time.Time) {
	b.Helper()
	var mu sync.Mutex
	created := make(map[string]time.Time, n)
	next := atomic.Int64{}
	start := time.Now()
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				name := fmt.Sprintf("bench-%06d", i)
				if err := c.Create(context.Background(), testgen.OrderSaga(name, testgen.WithNamespace(ns))); err != nil {
					b.Errorf("create %s: %v", name, err)
					return
				}
				mu.Lock()
				created[name] = time.Now()
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return created, start
}

// waitCompleted polls until every saga is Completed and returns each one's latency from
// its create call to its finishedAt.
func waitCompleted(b *testing.B, c client.Client, ns string, created map[string]time.Time) []time.Duration {
	b.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		list := &v1.OrderSagaList{}
		if err := c.List(context.Background(), list, client.InNamespace(ns)); err != nil {
			b.Fatalf("list: %v", err)
		}
		var latencies []time.Duration
		for _, s := range list.Items {
			if s.Status.Phase == v1.PhaseCompleted && s.Status.FinishedAt != nil {
				latencies = append(latencies, s.Status.FinishedAt.Sub(created[s.Name]))
			}
		}
		if len(latencies) == len(created) {
			return latencies
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatalf("sagas did not all complete within 10 minutes")
	return nil
}
