package bench

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// ControllerRun is one measurement of the controller: sagas created by a load, run by a
// manager, and seen to end by the benchmark's watch.
type ControllerRun struct {
	Name    string
	Manager ManagerKind
	Workers int           // MaxConcurrentReconciles in effect
	Delay   time.Duration // how long the fake services took to answer each call
	Sagas   int           // created
	// Completed ended Completed; Other ended otherwise (Compensated, Failed) or not within
	// the timeout. Every figure below is about the Completed ones.
	Completed, Other int
	// Elapsed is from the first create sent to the last saga seen Completed.
	Elapsed time.Duration
	// Latency is from each create's send (an open loop: its scheduled time) to the watch
	// event that first showed it Completed.
	Latency latencySummary
	// Phases splits Latency at the saga's own status.startedAt and status.finishedAt.
	Phases      latencyPhases
	StatusBytes float64 // mean size of the JSON of .status of a Completed saga
	LastStatus  *v1.OrderSagaStatus
	Usage       Usage
	// Memory and IdleMemory are the manager's at the end and right after the warm-up, when
	// it runs in its own process.
	Memory, IdleMemory *memory
	// Backlog is the open loop's verdict on keeping up; nil in a closed loop.
	Backlog *backlogVerdict
	// Work is what the manager's own metrics say of the window, from before the first
	// create to the last completion; nil for a manager in process.
	Work *ControllerWork
}

// Rate is the completed sagas per second.
func (r *ControllerRun) Rate() float64 { return perSecond(r.Completed, r.Elapsed) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// controllerOptions set up one controller measurement.
type controllerOptions struct {
	Name    string
	Manager ManagerKind
	Workers int
	Delay   time.Duration
	// Timeout bounds the wait for every saga to end once the load has stopped.
	Timeout time.Duration
	// Settle is a wait between the last saga's end and the reading of memory.
	Settle time.Duration
	// Judge, in an open loop, says whether completions kept up with the arrivals.
	Judge func(cr *created, ended map[string]ending) *backlogVerdict
}

// load creates the measured sagas in ns; cw is the watch that sees them end.
type load func(ctx context.Context, c client.Client, ns string, cw *completionWatch) *created

// warmupName is the saga each measurement runs first, outside its window, so that the
// window starts with a manager that has proven it runs sagas end to end.
const warmupName = "warmup"

func (s *Stack) measureController(ctx context.Context, o controllerOptions, gen load) (ControllerRun, error) {
	run := ControllerRun{Name: o.Name, Manager: o.Manager, Delay: o.Delay,
		Workers: cmp.Or(o.Workers, controllers.DefaultMaxConcurrentReconciles)}
	ss, err := s.openSession(ctx, o)
	if err != nil {
		return run, err
	}
	defer ss.close()
	if run.IdleMemory, err = readMemory(ctx, ss.m); err != nil {
		return run, err
	}
	before, err := s.takeSample(ctx, ss.m)
	if err != nil {
		return run, err
	}
	ww, err := watchWork(ctx, ss.m)
	if err != nil {
		return run, err
	}
	defer func() { _, _ = ww.end(ctx) }() // stops the sampler on an early return
	cr := gen(ctx, s.Client, ss.ns, ss.cw)
	if err := cr.err(); err != nil {
		return run, err
	}
	waitErr := ss.waitFor(ctx, len(cr.sent)+1, o.Timeout)
	if run.Work, err = ww.end(ctx); err != nil {
		return run, err
	}
	after, err := s.closeWindow(ctx, ss)
	if err != nil {
		return run, err
	}
	run.Usage = usageBetween(before, after, processLabel(o.Manager))
	run.Usage.Bench[completionWatchRequest()]++
	settle(ctx, o.Settle)
	if run.Memory, err = readMemory(ctx, ss.m); err != nil {
		return run, err
	}
	ended := ss.cw.endings()
	run.fill(cr, ended)
	if o.Judge != nil {
		run.Backlog = o.Judge(cr, ended)
	}
	if waitErr != nil && run.Completed == 0 {
		return run, fmt.Errorf("no saga completed: %w", waitErr)
	}
	return run, nil
}

// session is one measurement's namespace, manager and completion watch.
type session struct {
	ns string
	m  manager
	cw *completionWatch
}

// openSession makes a namespace, starts a manager on it and the watch, and runs the
// warm-up saga.
func (s *Stack) openSession(ctx context.Context, o controllerOptions) (*session, error) {
	ns, err := s.NewNamespace(ctx, o.Name)
	if err != nil {
		return nil, err
	}
	m, err := s.startManager(ctx, managerOptions{Kind: o.Manager, Namespace: ns, Workers: o.Workers})
	if err != nil {
		return nil, err
	}
	cw, err := watchCompletions(ctx, s.Client, ns)
	if err != nil {
		_ = m.Stop()
		return nil, err
	}
	ss := &session{ns: ns, m: m, cw: cw}
	if err := s.warmUp(ctx, ns, cw, max(o.Delay*20, time.Minute)); err != nil {
		ss.close()
		return nil, err
	}
	return ss, nil
}

// close stops the watch and the manager. A manager that does not stop cleanly after its
// window changes none of the window's figures, so its error is dropped.
func (ss *session) close() {
	ss.cw.Stop()
	_ = ss.m.Stop()
}

// waitFor waits up to timeout for n sagas to end.
func (ss *session) waitFor(ctx context.Context, n int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return ss.cw.waitFor(ctx, n)
}

// closeWindow ends the measured window: the watch stops first, so that the API server
// counts it, and the last sample waits until the API server is quiet.
func (s *Stack) closeWindow(ctx context.Context, ss *session) (sample, error) {
	ss.cw.Stop()
	if err := s.quiesce(ctx); err != nil {
		return sample{}, err
	}
	return s.takeSample(ctx, ss.m)
}

// completionWatchRequest is the completion watch, which each window's Usage.Bench counts
// once: it was opened (and counted by the benchmark's transport) before the window, but
// the API server counts a watch when it ends, at the window's close.
func completionWatchRequest() Request {
	return Request{Verb: "WATCH", Group: v1.GroupVersion.Group, Resource: "ordersagas"}
}

// readMemory reads the manager's memory; nil when it shares this process.
func readMemory(ctx context.Context, m manager) (*memory, error) {
	mem, ok, err := m.Memory(ctx)
	if err != nil || !ok {
		return nil, err
	}
	return &mem, nil
}

func processLabel(k ManagerKind) string {
	if k == Subprocess {
		return labelManagerProcess
	}
	return labelBenchProcess
}

// warmUp runs one saga to its end.
func (s *Stack) warmUp(ctx context.Context, ns string, cw *completionWatch, timeout time.Duration) error {
	if err := s.Client.Create(ctx, testgen.OrderSaga(warmupName, testgen.WithNamespace(ns))); err != nil {
		return fmt.Errorf("create the warm-up saga: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := cw.waitFor(wctx, 1); err != nil {
		return fmt.Errorf("warm-up saga: %w", err)
	}
	if e := cw.endings()[warmupName]; e.phase != v1.PhaseCompleted {
		return fmt.Errorf("warm-up saga ended %s, not Completed", e.phase)
	}
	return nil
}

// fill computes the run's figures from the creates and the endings the watch saw.
func (r *ControllerRun) fill(cr *created, ended map[string]ending) {
	r.Sagas = len(cr.sent)
	var latencies []time.Duration
	var phases phaseSamples
	var sizes []int
	var last time.Time
	for name, sent := range cr.sent {
		e, ok := ended[name]
		if !ok || e.phase != v1.PhaseCompleted {
			r.Other++
			continue
		}
		r.Completed++
		latencies = append(latencies, e.at.Sub(sent))
		phases.add(sent, e)
		sizes = append(sizes, e.statusBytes)
		if e.at.After(last) {
			last = e.at
			r.LastStatus = e.status.DeepCopy()
		}
	}
	r.Latency = summarize(latencies)
	r.Phases = phases.summarize()
	r.StatusBytes = meanInt(sizes)
	if !last.IsZero() {
		r.Elapsed = last.Sub(cr.firstSent)
	}
}
