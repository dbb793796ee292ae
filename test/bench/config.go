package bench

import (
	"context"
	"fmt"
	"time"

	ctrlclient "sigs.k8s.io/controller-runtime/pkg/client"
)

// Config is what a benchmark run measures; the test's -bench.* flags fill it.
type Config struct {
	Mode    string
	Command string // how the run was started, printed with the results
	OutDir  string

	Sagas    int           // sagas per closed-loop run and per ceiling
	Clients  int           // concurrent clients that create sagas
	Workers  int           // MaxConcurrentReconciles of the closed and open loops; 0 takes the default
	Managers []ManagerKind // where the closed loop's controller runs, one run each
	Timeout  time.Duration // longest wait for a run's sagas to end after the load

	Window      time.Duration // an open loop's arrival window
	Arrivals    Arrivals
	Seed        uint64
	SearchSteps int // bisection steps of the saturation search

	Delays       []time.Duration // the fake services' answer delay, per latency-mode row
	WorkerCounts []int           // MaxConcurrentReconciles, per latency-mode column

	MemorySagas int
	Settle      time.Duration // wait before the memory mode reads the manager's memory

	ReplicaCounts []int // cmd/manager replicas, per replicas-mode row
}

// Modes.
const (
	ModeClosed   = "closed"
	ModeOpenLoop = "openloop"
	ModeLatency  = "latency"
	ModeMemory   = "memory"
	ModeReplicas = "replicas"
)

// Run runs cfg.Mode on s and returns its report.
func Run(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	switch cfg.Mode {
	case ModeClosed:
		return runClosed(ctx, s, cfg)
	case ModeOpenLoop:
		return runOpenLoop(ctx, s, cfg)
	case ModeLatency:
		return runLatency(ctx, s, cfg)
	case ModeMemory:
		return runMemory(ctx, s, cfg)
	case ModeReplicas:
		return runReplicas(ctx, s, cfg)
	}
	return nil, fmt.Errorf("unknown mode %q (closed, openloop, latency, memory, replicas)", cfg.Mode)
}

// closedLoop creates n sagas from clients concurrent clients.
func closedLoop(n, clients int) load {
	return func(ctx context.Context, c ctrlclient.Client, ns string, _ *completionWatch) *created {
		return createClosedLoop(ctx, c, ns, n, clients, nil)
	}
}
