package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// replicaSet is cmd/manager as n replicas, each in its own process and all watching one
// namespace. With n > 1 each runs with --shards=n and its own POD_NAME, its Lease in that
// namespace, and runs only the sagas whose UID hashes to it among the live members. It is
// a manager whose CPU is the replicas' sum.
type replicaSet struct {
	names    []string
	replicas []*subprocessManager
}

// startReplicas starts n replicas on ns, one after the other, each ready (/readyz, which
// with --shards includes the "shard" check), then waits until every replica's view of the
// members holds all n.
func (s *Stack) startReplicas(ctx context.Context, ns string, n, workers int) (*replicaSet, error) {
	set := &replicaSet{}
	for i := range n {
		o := managerOptions{Kind: Subprocess, Namespace: ns, Workers: workers}
		name := "manager"
		if n > 1 {
			name = fmt.Sprintf("replica-%d", i+1)
			o.Shards, o.Identity = n, name
		}
		m, err := s.startSubprocessManager(ctx, o)
		if err != nil {
			_ = set.Stop()
			return nil, fmt.Errorf("replica %d of %d: %w", i+1, n, err)
		}
		set.names = append(set.names, name)
		set.replicas = append(set.replicas, m)
	}
	if n > 1 {
		if err := s.waitShardMembers(ctx, ns, n); err != nil {
			_ = set.Stop()
			return nil, err
		}
	}
	return set, nil
}

func (set *replicaSet) CPU() (time.Duration, error) {
	var sum time.Duration
	for _, m := range set.replicas {
		d, err := m.CPU()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

func (set *replicaSet) Requests() Counts { return nil }

// Memory is the replicas' sum.
func (set *replicaSet) Memory(ctx context.Context) (memory, bool, error) {
	var sum memory
	for _, m := range set.replicas {
		mem, _, err := m.Memory(ctx)
		if err != nil {
			return sum, true, err
		}
		sum.RSS, sum.PeakRSS, sum.HeapInuse = sum.RSS+mem.RSS, sum.PeakRSS+mem.PeakRSS, sum.HeapInuse+mem.HeapInuse
		sum.LiveHeap += mem.LiveHeap
	}
	return sum, true, nil
}

// Stop stops every replica at once.
func (set *replicaSet) Stop() error {
	errs := make([]error, len(set.replicas))
	var wg sync.WaitGroup
	for i, m := range set.replicas {
		wg.Go(func() { errs[i] = m.Stop() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// replicaSample is one replica's counters at one moment.
type replicaSample struct {
	cpu time.Duration
	managerCounters
}

// sample reads every replica's CPU and its /metrics.
func (set *replicaSet) sample(ctx context.Context) ([]replicaSample, error) {
	out := make([]replicaSample, len(set.replicas))
	for i, m := range set.replicas {
		var err error
		if out[i].cpu, err = m.CPU(); err != nil {
			return nil, err
		}
		if out[i].managerCounters, err = scrapeManager(ctx, m.metricsURL); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ReplicaUsage is what one replica did in a window.
type ReplicaUsage struct {
	Name       string
	Reconciles int64
	Completed  int64
	// Conflicts and Behind are the reconciles that stopped on a status write conflict and
	// on a cached copy older than the replica's own last write.
	Conflicts, Behind int64
	CPU               time.Duration
	RSS               int64 // VmRSS at the window's end
}

// usage is each replica's share of the window from before to after, with its RSS now.
func (set *replicaSet) usage(ctx context.Context, before, after []replicaSample) ([]ReplicaUsage, error) {
	out := make([]ReplicaUsage, len(set.replicas))
	for i, m := range set.replicas {
		mem, _, err := m.Memory(ctx)
		if err != nil {
			return nil, err
		}
		out[i] = ReplicaUsage{Name: set.names[i], Reconciles: int64(after[i].reconciles - before[i].reconciles),
			Completed: int64(after[i].completed - before[i].completed),
			Conflicts: int64(after[i].conflicts - before[i].conflicts), Behind: int64(after[i].behind - before[i].behind), CPU: after[i].cpu - before[i].cpu, RSS: mem.RSS}
	}
	return out, nil
}
