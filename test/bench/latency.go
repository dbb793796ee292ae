package bench

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
)

// runLatency is `make bench-latency`: the fake services answer every call after a delay,
// and the controller (cmd/manager in its own process) runs a closed loop at each worker
// count, so that sagas/s, CPU and memory show what the worker pool buys.
func runLatency(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	r := newReport(ModeLatency, cfg.Command, s)
	var runs []ControllerRun
	var c Ceilings
	for _, delay := range cfg.Delays {
		for _, workers := range cfg.WorkerCounts {
			run, err := s.latencyRun(ctx, cfg, delay, workers)
			if err != nil {
				return nil, err
			}
			runs = append(runs, run)
			if c.Create.Sagas == 0 {
				if c, err = s.measureCeilings(ctx, cfg.Sagas, cfg.Clients, run.LastStatus); err != nil {
					return nil, fmt.Errorf("ceilings: %w", err)
				}
			}
		}
	}
	r.Section("Sagas/s against workers and service delay", fmt.Sprintf(
		"Closed loop, %d sagas from %d clients per cell; the fake services hold EVERY call (every step, action and compensation) for the delay before answering. The manager is cmd/manager in its own process (--max-concurrent-reconciles = workers).",
		cfg.Sagas, cfg.Clients))
	latencyTable(r, runs, c)
	r.Section("Where the workers' time went", "From cmd/manager's own /metrics over each cell's window (first create to last completion), and the API server's and the processes' CPU over the same window.")
	workTable(r, runs)
	r.Section("Where each saga's latency went", "")
	latencyPhaseTable(r, runs)
	r.Section("Ceilings of this run", "")
	throughputTable(r, nil, c)
	costTable(r, nil, c)
	r.Section("How each figure is measured", "")
	r.Notes(append(methodNotes(),
		"manager CPU cores: the manager's CPU time over the run's window divided by the time from the first create to the last completion (the window goes on through a quiet wait of 1-10 s, when the manager is nearly idle). RSS and peak RSS (VmRSS, VmHWM) from /proc/<pid>/status at the end of the run; Go heap in use from the manager's go_memstats_heap_inuse_bytes.",
		"with more workers than sagas in flight, the extra workers idle: a cell's sagas should be several times its workers for the figure to mean the pool's throughput.",
		"reconciles/saga: controller_runtime_reconcile_total{controller=\"ordersaga\"} (every result) per completed saga; ended in error: its result=\"error\" (a failed or timed-out write, retried after the workqueue's rate limit); requeued on a conflict / on the cache behind: ordersaga_reconcile_requeues_total{kind=\"OrderSaga\"} by reason, the reconciles that ended in the per-saga backoff instead of work.",
		"busy workers, mean: the summed reconcile time (controller_runtime_reconcile_time_seconds_sum) divided by the window (Little's law); sampled: controller_runtime_active_workers read every 200 ms, mean and max. Queue depth: workqueue_depth, sampled alike. Queue wait: workqueue_queue_duration_seconds, sum over count.",
		"service call: ordersaga_step_call_duration_seconds of the OrderSaga definition, sum over count; reconcile time outside calls: the summed reconcile time less the summed call time, per completed saga: the finalizer patch, the status writes (the pivot's checkpoint and the last) and the rest of the reconcile.",
		"API server time per OrderSaga write: apiserver_request_duration_seconds of POST, PATCH and PUT on ordersagas (status included), every client (the benchmark's creates too), sum over count: the API server's own time, from the request's arrival to its answer. CPU cores: each process's CPU time over the window (first create to the quiet end) divided by the time from the first create to the last completion; bench process: the fake services, the benchmark's clients and its watch; host: every process on the machine (/proc/stat less idle and iowait), other users' included, from the first create to the last completion only, against the CPUs in the host line.",
		"phases: create → first step is the create request, the informer's delivery, the workqueue and the finalizer patch; first step → finished the calls and the pivot's checkpoint write; finished → seen the last status write and the watch's delivery (status.startedAt and finishedAt, stamped by the manager on the same host).")...)
	return r, nil
}

func (s *Stack) latencyRun(ctx context.Context, cfg Config, delay time.Duration, workers int) (ControllerRun, error) {
	s.Fake.Heal()
	defer s.Fake.Heal()
	if delay > 0 {
		// No Step, no Direction and no Times: the rule applies to every call for ever.
		s.Fake.Fail(fakeservices.Rule{Mode: fakeservices.Slow, Delay: delay})
	}
	run, err := s.measureController(ctx, controllerOptions{Name: fmt.Sprintf("delay%s-w%d", delay, workers), Manager: Subprocess,
		Workers: workers, Delay: delay, Timeout: cfg.Timeout}, closedLoop(cfg.Sagas, cfg.Clients))
	if err != nil {
		return run, fmt.Errorf("delay %s, %d workers: %w", delay, workers, err)
	}
	return run, nil
}

func latencyTable(r *Report, runs []ControllerRun, c Ceilings) {
	header := []string{colDelay, colWorkers, colRate, colOfStatusCeiling, colP50, colP99, colMax,
		"manager CPU/saga", "manager CPU cores", "manager RSS", "peak RSS", "Go heap in use", colAPIRequests}
	rows := make([][]string, 0, len(runs))
	for _, run := range runs {
		u, n := run.Usage, run.Completed
		var mem memory
		if run.Memory != nil {
			mem = *run.Memory
		}
		cores := "–"
		if run.Elapsed > 0 {
			cores = fmt.Sprintf("%.2f", u.ProcessCPU.Seconds()/run.Elapsed.Seconds())
		}
		rows = append(rows, []string{run.Delay.String(), strconv.Itoa(run.Workers), rate(run.Rate()), share(run.Rate(), c.CreateStatus.Rate()),
			ms(run.Latency.P50), ms(run.Latency.P99), ms(run.Latency.Max), cpuPerSaga(u.ProcessCPU, n), cores,
			mib(mem.RSS), mib(mem.PeakRSS), mib(mem.HeapInuse), perSaga(u.APIServer.Total(anyRequest), n)})
	}
	r.Table(header, rows)
}

// workTable is where each cell's workers spent their time, by the manager's own metrics.
func workTable(r *Report, runs []ControllerRun) {
	header := []string{colDelay, colWorkers, "reconciles/saga", "ended in error", "requeued: conflict", "requeued: cache behind",
		"busy workers, mean", "busy workers sampled: mean / max", "queue depth: mean / max", "queue wait, mean",
		"reconcile, mean", "calls/saga", "service call, mean", "reconcile time outside calls, per saga",
		"API server time per OrderSaga write", "API server CPU cores", "etcd CPU cores", "manager CPU cores", "bench process CPU cores", "host CPU cores (every process)"}
	rows := make([][]string, 0, len(runs))
	for _, run := range runs {
		u, n, el := run.Usage, run.Completed, run.Elapsed.Seconds()
		row, host := []string{run.Delay.String(), strconv.Itoa(run.Workers)}, "–"
		if w := run.Work; w != nil {
			host = cores(w.HostCPU.Seconds(), el)
			row = append(row, perSaga(w.Reconciles, n), strconv.FormatInt(w.Errors, 10), strconv.FormatInt(w.Conflicts, 10), strconv.FormatInt(w.Behind, 10),
				cores(w.ReconcileTime.Seconds(), el), fmt.Sprintf("%.0f / %.0f", w.Workers.Mean, w.Workers.Max),
				fmt.Sprintf("%.0f / %.0f", w.Depth.Mean, w.Depth.Max), ms(meanOf(w.QueueTime, w.Dequeued)),
				ms(meanOf(w.ReconcileTime, w.Reconciles)), perSaga(w.Calls, n), ms(meanOf(w.CallTime, w.Calls)),
				ms(meanOf(w.ReconcileTime-w.CallTime, int64(n))))
		} else {
			for range 12 {
				row = append(row, "–")
			}
		}
		row = append(row, ms(meanOf(u.WriteTime, u.Writes)), cores(u.APIServerCPU.Seconds(), el), cores(u.EtcdCPU.Seconds(), el),
			cores(u.ProcessCPU.Seconds(), el), cores(u.BenchCPU.Seconds(), el), host)
		rows = append(rows, row)
	}
	r.Table(header, rows)
}

// latencyPhaseTable splits each cell's latency at the saga's status.startedAt and
// finishedAt (latencyPhases).
func latencyPhaseTable(r *Report, runs []ControllerRun) {
	header := []string{colDelay, colWorkers, "create → first step p50", colP99, "first step → finished p50", colP99,
		"finished → seen p50", colP99}
	rows := make([][]string, 0, len(runs))
	for _, run := range runs {
		ph := run.Phases
		rows = append(rows, []string{run.Delay.String(), strconv.Itoa(run.Workers), ms(ph.ToStart.P50), ms(ph.ToStart.P99),
			ms(ph.Run.P50), ms(ph.Run.P99), ms(ph.ToSeen.P50), ms(ph.ToSeen.P99)})
	}
	r.Table(header, rows)
}

// meanOf is total / n, or 0 (shown as "–") when n is not positive.
func meanOf(total time.Duration, n int64) time.Duration {
	if n <= 0 {
		return 0
	}
	return total / time.Duration(n)
}

// Columns of the latency mode's tables.
const (
	colDelay   = "service delay"
	colWorkers = "workers"
)
