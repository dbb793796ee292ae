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
	r.Section("Ceilings of this run", "")
	throughputTable(r, nil, c)
	r.Section("How each figure is measured", "")
	r.Notes(append(methodNotes(),
		"manager CPU cores: the manager's CPU time over the run's window divided by the time from the first create to the last completion (the window goes on through a quiet wait of 1-10 s, when the manager is nearly idle). RSS and peak RSS (VmRSS, VmHWM) from /proc/<pid>/status at the end of the run; Go heap in use from the manager's go_memstats_heap_inuse_bytes.",
		"with more workers than sagas in flight, the extra workers idle: a cell's sagas should be several times its workers for the figure to mean the pool's throughput.")...)
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
	header := []string{"service delay", "workers", colRate, colOfStatusCeiling, colP50, colP99, colMax,
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
