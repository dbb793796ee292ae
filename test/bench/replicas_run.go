package bench

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/ordersaga/ordersaga/controllers"
)

// ReplicaRun is one closed loop on n replicas of cmd/manager: the run as a whole, and
// each replica's share of it.
type ReplicaRun struct {
	ControllerRun
	Replicas []ReplicaUsage
}

// measureReplicas is measureController for a replica set: a namespace of its own, the n
// replicas on it, the completion watch, the warm-up saga, then the closed loop of
// cfg.Sagas sagas in the window. Each replica's counters are read right after the
// window's first and last samples.
func (s *Stack) measureReplicas(ctx context.Context, cfg Config, n int) (ReplicaRun, error) {
	run := ReplicaRun{ControllerRun: ControllerRun{Name: fmt.Sprintf("replicas-%d", n), Manager: Subprocess,
		Workers: cmp.Or(cfg.Workers, controllers.DefaultMaxConcurrentReconciles)}}
	ns, err := s.NewNamespace(ctx, run.Name)
	if err != nil {
		return run, err
	}
	set, err := s.startReplicas(ctx, ns, n, cfg.Workers)
	if err != nil {
		return run, err
	}
	cw, err := watchCompletions(ctx, s.Client, ns)
	if err != nil {
		_ = set.Stop()
		return run, err
	}
	ss := &session{ns: ns, m: set, cw: cw}
	defer ss.close()
	if err := s.warmUp(ctx, ns, cw, time.Minute); err != nil {
		return run, err
	}
	before, err := s.takeSample(ctx, set)
	if err != nil {
		return run, err
	}
	perBefore, err := set.sample(ctx)
	if err != nil {
		return run, err
	}
	cr := closedLoop(cfg.Sagas, cfg.Clients)(ctx, s.Client, ns, cw)
	if err := cr.err(); err != nil {
		return run, err
	}
	waitErr := ss.waitFor(ctx, len(cr.sent)+1, cfg.Timeout)
	after, err := s.closeWindow(ctx, ss)
	if err != nil {
		return run, err
	}
	perAfter, err := set.sample(ctx)
	if err != nil {
		return run, err
	}
	run.Usage = usageBetween(before, after, labelManagerProcess)
	run.Usage.Bench[completionWatchRequest()]++
	run.fill(cr, cw.endings())
	if run.Replicas, err = set.usage(ctx, perBefore, perAfter); err != nil {
		return run, err
	}
	if waitErr != nil && run.Completed == 0 {
		return run, fmt.Errorf("no saga completed: %w", waitErr)
	}
	return run, nil
}
