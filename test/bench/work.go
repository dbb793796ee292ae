package bench

import (
	"context"
	"net/http"
	"sync"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// managerCounters are the OrderSaga controller's counters on a cmd/manager's /metrics at
// one moment: how its workers spent their time.
type managerCounters struct {
	reconciles   float64 // controller_runtime_reconcile_total{controller="ordersaga"}, every result
	requeueAfter float64 // the same, result="requeue_after"
	errors       float64 // the same, result="error"
	// conflicts and behind: ordersaga_reconcile_requeues_total{kind="OrderSaga"} by reason.
	conflicts, behind float64
	completed         float64 // ordersaga_sagas_finished_total{phase="Completed"}
	reconcileSecs     float64 // controller_runtime_reconcile_time_seconds_sum{controller="ordersaga"}
	dequeued          float64 // workqueue_queue_duration_seconds_count{name="ordersaga"}
	queueSecs         float64 // workqueue_queue_duration_seconds_sum{name="ordersaga"}
	calls             float64 // ordersaga_step_call_duration_seconds_count{definition="OrderSaga"}
	callSecs          float64 // ordersaga_step_call_duration_seconds_sum{definition="OrderSaga"}
}

// Label values of the OrderSaga controller's series.
const (
	ordersagaName       = "ordersaga" // the controller and its workqueue
	orderSagaKind       = "OrderSaga" // the kind label of the requeues, the definition label of OrderSagas
	reconcileTotal      = "controller_runtime_reconcile_total"
	reconcileRequeues   = "ordersaga_reconcile_requeues_total"
	labelController     = "controller"
	requeueConflict     = "Conflict"
	requeueCacheBehind  = "CacheBehind"
	resultRequeueAfter  = "requeue_after"
	resultReconcileFail = "error"
)

// scrapeManager reads the counters from a manager's /metrics.
func scrapeManager(ctx context.Context, url string) (managerCounters, error) {
	var c managerCounters
	page, err := fetch(ctx, http.DefaultClient, url)
	if err != nil {
		return c, err
	}
	controller := map[string]string{labelController: ordersagaName}
	result := func(r string) map[string]string {
		return map[string]string{labelController: ordersagaName, "result": r}
	}
	requeues := func(reason string) map[string]string {
		return map[string]string{"kind": orderSagaKind, "reason": reason}
	}
	queue := map[string]string{"name": ordersagaName}
	definition := map[string]string{"definition": orderSagaKind}
	for _, f := range []struct {
		dst   *float64
		name  string
		match map[string]string
	}{
		{&c.reconciles, reconcileTotal, controller},
		{&c.requeueAfter, reconcileTotal, result(resultRequeueAfter)},
		{&c.errors, reconcileTotal, result(resultReconcileFail)},
		{&c.conflicts, reconcileRequeues, requeues(requeueConflict)},
		{&c.behind, reconcileRequeues, requeues(requeueCacheBehind)},
		{&c.completed, "ordersaga_sagas_finished_total", map[string]string{"phase": string(v1.PhaseCompleted)}},
		{&c.reconcileSecs, "controller_runtime_reconcile_time_seconds_sum", controller},
		{&c.dequeued, "workqueue_queue_duration_seconds_count", queue},
		{&c.queueSecs, "workqueue_queue_duration_seconds_sum", queue},
		{&c.calls, "ordersaga_step_call_duration_seconds_count", definition},
		{&c.callSecs, "ordersaga_step_call_duration_seconds_sum", definition},
	} {
		if *f.dst, err = counterSum(page, f.name, f.match); err != nil {
			return c, err
		}
	}
	return c, nil
}

// gaugeStats is the mean and the maximum of a gauge sampled at a fixed interval.
type gaugeStats struct {
	Mean, Max float64
	Samples   int
}

func (g *gaugeStats) add(v float64) {
	g.Mean = (g.Mean*float64(g.Samples) + v) / float64(g.Samples+1)
	g.Samples++
	g.Max = max(g.Max, v)
}

// gaugeSampler reads a manager's busy workers and workqueue depth every interval until
// stopped: what the counters' sums cannot show, how evenly the work was spread.
type gaugeSampler struct {
	cancel         context.CancelFunc
	done           chan struct{}
	workers, depth gaugeStats
}

// sampleEvery is the gauge sampler's interval.
const sampleEvery = 200 * time.Millisecond

func startGaugeSampler(ctx context.Context, url string) *gaugeSampler {
	ctx, cancel := context.WithCancel(ctx)
	g := &gaugeSampler{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(g.done)
		t := time.NewTicker(sampleEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			page, err := fetch(ctx, http.DefaultClient, url)
			if err != nil {
				continue // a missed sample; the manager may be busy
			}
			w, errW := counterSum(page, "controller_runtime_active_workers", map[string]string{labelController: ordersagaName})
			d, errD := counterSum(page, "workqueue_depth", map[string]string{"name": ordersagaName})
			if errW == nil && errD == nil {
				g.workers.add(w)
				g.depth.add(d)
			}
		}
	}()
	return g
}

// stop ends the sampling and returns what it saw.
func (g *gaugeSampler) stop() (workers, depth gaugeStats) {
	g.cancel()
	<-g.done
	return g.workers, g.depth
}

// ControllerWork is what a manager's own metrics say of a window: how many reconciles
// ran, why they stopped, and where the workers' time went.
type ControllerWork struct {
	// Errors are the reconciles that returned an error (a failed write, a timeout), retried
	// after the workqueue's rate limit.
	Reconciles, RequeueAfter, Errors, Conflicts, Behind int64
	// ReconcileTime is the sum of every reconcile's duration: divided by the window, the
	// mean number of busy workers.
	ReconcileTime time.Duration
	// Dequeued and QueueTime: the items a worker took from the workqueue, and their summed
	// wait in it (from being added, or due, to being taken).
	Dequeued  int64
	QueueTime time.Duration
	// Calls and CallTime: the service calls the reconciles made and their summed duration.
	Calls    int64
	CallTime time.Duration
	// Workers and Depth: controller_runtime_active_workers and workqueue_depth, sampled.
	Workers, Depth gaugeStats
	// HostCPU is every process's CPU time on the host over the same window (hostCPU).
	HostCPU time.Duration
}

func workBetween(before, after managerCounters, workers, depth gaugeStats) *ControllerWork {
	n := func(f func(managerCounters) float64) int64 { return int64(f(after) - f(before)) }
	d := func(f func(managerCounters) float64) time.Duration {
		return time.Duration((f(after) - f(before)) * float64(time.Second))
	}
	return &ControllerWork{
		Reconciles:    n(func(c managerCounters) float64 { return c.reconciles }),
		RequeueAfter:  n(func(c managerCounters) float64 { return c.requeueAfter }),
		Errors:        n(func(c managerCounters) float64 { return c.errors }),
		Conflicts:     n(func(c managerCounters) float64 { return c.conflicts }),
		Behind:        n(func(c managerCounters) float64 { return c.behind }),
		ReconcileTime: d(func(c managerCounters) float64 { return c.reconcileSecs }),
		Dequeued:      n(func(c managerCounters) float64 { return c.dequeued }),
		QueueTime:     d(func(c managerCounters) float64 { return c.queueSecs }),
		Calls:         n(func(c managerCounters) float64 { return c.calls }),
		CallTime:      d(func(c managerCounters) float64 { return c.callSecs }),
		Workers:       workers,
		Depth:         depth,
	}
}

// workWatch follows a manager's metrics through a window; nil for a manager without an
// endpoint of its own (in process).
type workWatch struct {
	url     string
	before  managerCounters
	host    time.Duration
	sampler *gaugeSampler
	once    sync.Once
	work    *ControllerWork
	err     error
}

// metricsEndpoint is a manager whose /metrics the benchmark can read.
type metricsEndpoint interface{ metricsEndpoint() string }

func (m *subprocessManager) metricsEndpoint() string { return m.metricsURL }

// watchWork reads m's counters now and starts sampling its gauges.
func watchWork(ctx context.Context, m manager) (*workWatch, error) {
	e, ok := m.(metricsEndpoint)
	if !ok {
		return nil, nil //nolint:nilnil // no endpoint: nothing to watch, and no error
	}
	w := &workWatch{url: e.metricsEndpoint()}
	var err error
	if w.before, err = scrapeManager(ctx, w.url); err != nil {
		return nil, err
	}
	if w.host, err = hostCPU(); err != nil {
		return nil, err
	}
	w.sampler = startGaugeSampler(ctx, w.url)
	return w, nil
}

// end stops the sampling and reads the counters again; later calls return the same.
func (w *workWatch) end(ctx context.Context) (*ControllerWork, error) {
	if w == nil {
		return nil, nil //nolint:nilnil // no endpoint: no figures, and no error
	}
	w.once.Do(func() {
		workers, depth := w.sampler.stop()
		after, err := scrapeManager(ctx, w.url)
		if err != nil {
			w.err = err
			return
		}
		host, err := hostCPU()
		if err != nil {
			w.err = err
			return
		}
		w.work = workBetween(w.before, after, workers, depth)
		w.work.HostCPU = host - w.host
	})
	return w.work, w.err
}
