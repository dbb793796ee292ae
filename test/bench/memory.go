package bench

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// runMemory is `make bench-memory`: cmd/manager in its own process runs MemorySagas sagas
// to Completed; its memory is read when it is idle (before them) and once they all sit
// finished in its cache.
func runMemory(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	r := newReport(ModeMemory, cfg.Command, s)
	run, err := s.measureController(ctx, controllerOptions{Name: "memory", Manager: Subprocess, Workers: cfg.Workers,
		Timeout: cfg.Timeout, Settle: cfg.Settle}, closedLoop(cfg.MemorySagas, cfg.Clients))
	if err != nil {
		return nil, fmt.Errorf("memory run: %w", err)
	}
	if run.Memory == nil || run.IdleMemory == nil {
		return nil, errors.New("memory run: the manager's memory was not read")
	}
	r.Section("Manager memory with finished sagas in its cache", fmt.Sprintf(
		"cmd/manager in its own process; %d sagas created by %d clients and run to Completed; memory read %s after the last one ended.",
		cfg.MemorySagas, cfg.Clients, cfg.Settle))
	idle, full := *run.IdleMemory, *run.Memory
	r.Headline["rss-MiB"] = float64(full.RSS) / (1 << 20)
	r.Headline["heap-inuse-MiB"] = float64(full.HeapInuse) / (1 << 20)
	r.Headline["live-heap-MiB"] = float64(full.LiveHeap) / (1 << 20)
	r.Attachments["heap.prof"] = full.HeapProfile
	growth := func(from, to int64) string {
		if run.Sagas == 0 {
			return "–"
		}
		// Every saga created is in the cache, finished or not; the warm-up saga was there
		// when idle was read.
		return fmt.Sprintf("%.1f KiB", float64(to-from)/1024/float64(run.Sagas))
	}
	r.Table([]string{"sagas in cache", "RSS idle", "RSS with sagas", "peak RSS", "Go heap in use idle", "Go heap in use with sagas",
		"live heap idle", "live heap with sagas",
		"RSS of files", "stacks", "goroutines", "RSS growth/saga", "heap growth/saga", "live heap growth/saga", "status JSON/saga", colRate, colP50, colP99},
		[][]string{{strconv.Itoa(run.Sagas), mib(idle.RSS), mib(full.RSS), mib(full.PeakRSS), mib(idle.HeapInuse), mib(full.HeapInuse),
			mib(idle.LiveHeap), mib(full.LiveHeap), mib(full.RSSFile), mib(full.StackInuse), strconv.Itoa(full.Goroutines), growth(idle.RSS, full.RSS), growth(idle.HeapInuse, full.HeapInuse), growth(idle.LiveHeap, full.LiveHeap), fmt.Sprintf("%.0f B", run.StatusBytes), rate(run.Rate()), ms(run.Latency.P50), ms(run.Latency.P99)}})
	r.Notes(
		"RSS: VmRSS of the manager process from /proc/<pid>/status; peak RSS: VmHWM. Idle: after the warm-up saga, before the creates.",
		"Go heap in use: go_memstats_heap_inuse_bytes from the manager's /metrics, read right after RSS; it includes garbage not yet collected.",
		"RSS of files: RssFile from /proc/<pid>/status (the binary's pages, part of RSS); stacks: go_memstats_stack_inuse_bytes; goroutines: go_goroutines. All three with sagas.",
		"live heap: the same gauge read again right after the manager's /debug/pprof/heap?gc=1 forced a collection; that heap profile is written beside this report (<report>.heap.prof; go tool pprof -sample_index=inuse_space).",
		fmt.Sprintf("the manager watches only the run's namespace; its cache holds the %d sagas (and the warm-up saga); %d of them Completed.", run.Sagas, run.Completed),
		"growth/saga: (with sagas − idle) / sagas; at small counts the fixed costs of a busy manager (worker goroutines, buffers, connection pools) dominate it.",
		"status JSON/saga: mean size of the JSON of .status of each saga in the watch event that showed it Completed.",
	)
	return r, nil
}

// settle waits d, or until ctx ends.
func settle(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
