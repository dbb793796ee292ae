package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"time"

	"k8s.io/client-go/util/flowcontrol"
	"k8s.io/utils/clock"
)

// The restart backoff of a child that exits is the kubelet's CrashLoopBackOff, scaled to
// a laptop: 1s, 2s, 4s ... up to 30s, back to 1s once the child has gone twice the cap
// (a minute) without exiting, which is flowcontrol.Backoff's own rule.
const (
	restartBackoff    = time.Second
	maxRestartBackoff = 30 * time.Second
	// stopGrace is how long a child may take to shut down after SIGTERM.
	stopGrace = 10 * time.Second
)

// errSuperseded says that a run was not needed: its child was taken down, resumed by
// someone else, or the supervisor began to shut down while it started.
var errSuperseded = errors.New("superseded")

// childSpec says how to run one child of the stack.
type childSpec struct {
	name string
	// log is the child's log file, named in errors.
	log string
	// launch starts one run, on the same ports and data each time.
	launch func(ctx context.Context) (runner, error)
	// ready waits until the run serves; nil when launch returns a ready run.
	ready func(ctx context.Context, r runner) error
}

// child is a supervised childSpec and its current run.
type child struct {
	childSpec
	// cur is the current run, dead or alive; nil while the child is held down on purpose.
	cur      runner
	restarts int
}

// supervisor keeps the stack's children running as the kubelet keeps a Deployment's pods:
// a child that exits on its own, after it was once ready, is started again after a
// backoff, and its PID file is rewritten. A child that never became ready is an error for
// the caller instead, so that a stack that cannot come up fails. A child held down on
// purpose stays down until resumed; once shutdown has begun nothing starts again.
type supervisor struct {
	pidDir  string
	logf    func(format string, args ...any)
	clock   clock.Clock
	backoff *flowcontrol.Backoff
	// life ends when shutdown begins, and with it every backoff and readiness wait.
	life context.Context //nolint:containedctx // the supervisor's lifetime, not a request's: the watchers outlive every caller's context
	end  context.CancelFunc
	// wg counts the goroutines and calls that may start a process, for shutdown to wait.
	wg sync.WaitGroup

	mu       sync.Mutex
	children map[string]*child
	stopping bool
}

// newSupervisor returns a supervisor that keeps PID files in pidDir and reports restarts
// to logf; clk drives the backoff (a fake one in tests).
func newSupervisor(pidDir string, logf func(format string, args ...any), clk clock.Clock) *supervisor {
	life, end := context.WithCancel(context.Background())
	backoff := flowcontrol.NewBackOff(restartBackoff, maxRestartBackoff)
	backoff.Clock = clk
	return &supervisor{
		pidDir:   pidDir,
		logf:     logf,
		clock:    clk,
		backoff:  backoff,
		life:     life,
		end:      end,
		children: map[string]*child{},
	}
}

// start runs a new child and waits until it is ready, then watches it. An error means it
// could not start or become ready; it is not restarted.
func (sv *supervisor) start(ctx context.Context, spec childSpec) error {
	if !sv.enter() {
		return errStopped
	}
	defer sv.wg.Done()
	c, err := sv.add(spec, nil)
	if err != nil {
		return err
	}
	r, err := sv.run(ctx, c, nil)
	if err != nil {
		return err
	}
	sv.watch(c, r)
	return nil
}

// adopt watches a ready run of a new child that was started elsewhere.
func (sv *supervisor) adopt(spec childSpec, r runner) error {
	c, err := sv.add(spec, r)
	if err != nil {
		return err
	}
	sv.publish(c, r)
	sv.watch(c, r)
	return nil
}

// resume starts a child that hold took down again, and waits until it is ready. A child
// that runs, or that the supervisor is restarting, is left alone.
func (sv *supervisor) resume(ctx context.Context, name string) error {
	if !sv.enter() {
		return errStopped
	}
	defer sv.wg.Done()
	c, err := sv.child(name)
	if err != nil {
		return err
	}
	if sv.current(c) != nil {
		return nil
	}
	r, err := sv.run(ctx, c, nil)
	if errors.Is(err, errSuperseded) {
		return nil
	}
	if err != nil {
		return err
	}
	sv.watch(c, r)
	return nil
}

// hold takes a child down on purpose, as scaling its Deployment to zero would: it is not
// restarted until resume. kill chooses SIGKILL, as a crash would, over a graceful stop.
func (sv *supervisor) hold(name string, kill bool) {
	sv.mu.Lock()
	c := sv.children[name]
	var r runner
	if c != nil {
		r, c.cur = c.cur, nil
		sv.removePID(name)
	}
	sv.mu.Unlock()
	switch {
	case r == nil:
	case kill:
		r.kill()
	default:
		r.stop(stopGrace)
	}
}

// shutdown stops every child, stage by stage and the children of a stage together, once
// nothing can start again; children named in no stage go last. It removes the PID files.
func (sv *supervisor) shutdown(stages ...[]string) {
	sv.mu.Lock()
	sv.stopping = true
	sv.mu.Unlock()
	sv.end()
	sv.wg.Wait()
	// No run changes from here on but by hold: everything that could start one returned.
	runs := sv.currentRuns()
	for _, stage := range append(stages, sv.unstaged(stages)) {
		var wg sync.WaitGroup
		for _, name := range stage {
			if r := runs[name]; r != nil {
				wg.Go(func() { r.stop(stopGrace) })
			}
		}
		wg.Wait()
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	for name := range sv.children {
		sv.removePID(name)
	}
}

// currentRuns returns the current run of each child that has one.
func (sv *supervisor) currentRuns() map[string]runner {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	runs := map[string]runner{}
	for name, c := range sv.children {
		if c.cur != nil {
			runs[name] = c.cur
		}
	}
	return runs
}

// pids returns the process IDs of the children's current runs.
func (sv *supervisor) pids() []int {
	runs := sv.currentRuns()
	out := make([]int, 0, len(runs))
	for _, r := range runs {
		out = append(out, r.pid())
	}
	slices.Sort(out)
	return out
}

// run launches one run of c to replace prev (nil for none) and waits until it is ready.
// The run becomes c's current one only while c's current run is still prev: a child taken
// down or resumed meanwhile is not started twice. A run that fails is stopped and
// returned with the error, to be replaced in turn.
func (sv *supervisor) run(ctx context.Context, c *child, prev runner) (runner, error) {
	ctx, cancel := sv.bound(ctx)
	defer cancel()
	r, err := c.launch(ctx)
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", c.name, err)
	}
	if !sv.swap(c, prev, r) {
		r.stop(stopGrace)
		return nil, errSuperseded
	}
	if c.ready != nil {
		if err := c.ready(ctx, r); err != nil {
			r.stop(stopGrace)
			return r, fmt.Errorf("%s %w; see its log %s", c.name, err, c.log)
		}
	}
	sv.publish(c, r)
	return r, nil
}

// watch restarts c whenever r, its current run, ends on its own, until shutdown or until
// c is taken down on purpose.
func (sv *supervisor) watch(c *child, r runner) {
	if !sv.enter() {
		return // shutdown stops r
	}
	go func() {
		defer sv.wg.Done()
		for r != nil {
			select {
			case <-sv.life.Done():
				return
			case <-r.done():
			}
			if !sv.ended(c, r) {
				return
			}
			r = sv.restart(c, r, "exited ("+r.exitReason()+")")
		}
	}()
}

// ended records that r, c's current run, has ended on its own; it reports false when r
// was taken down on purpose or shutdown has begun. What the run started dies with it,
// as a container's processes do.
func (sv *supervisor) ended(c *child, r runner) bool {
	r.kill()
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopping || c.cur != r {
		return false
	}
	sv.removePID(c.name)
	return true
}

// restart starts c again after its backoff, as often as it takes, and returns the run
// that became ready; nil when shutdown begins or c is taken down meanwhile. what says
// what happened to prev, for the log.
func (sv *supervisor) restart(c *child, prev runner, what string) runner {
	for {
		if !sv.backOff(c, what) {
			return nil
		}
		r, err := sv.run(sv.life, c, prev)
		if err == nil {
			sv.logf("%s is running again (pid %d)", c.name, r.pid())
			return r
		}
		if errors.Is(err, errSuperseded) || sv.life.Err() != nil {
			return nil
		}
		if r != nil {
			prev = r
		}
		what = fmt.Sprintf("did not start (%v)", err)
	}
}

// backOff logs the restart to come and waits for c's next backoff delay; false when
// shutdown began meanwhile.
func (sv *supervisor) backOff(c *child, what string) bool {
	sv.backoff.Next(c.name, sv.clock.Now())
	delay := sv.backoff.Get(c.name)
	sv.mu.Lock()
	c.restarts++
	n := c.restarts
	sv.mu.Unlock()
	// The timer starts before the line is logged, so that a test reading the line can
	// step a fake clock past it.
	timer := sv.clock.NewTimer(delay)
	defer timer.Stop()
	sv.logf("%s %s; restarting in %s (restart %d)", c.name, what, delay, n)
	select {
	case <-sv.life.Done():
		return false
	case <-timer.C():
		return true
	}
}

// enter registers a call or goroutine that may start a process; false once shutdown has
// begun. The caller runs wg.Done when it returns.
func (sv *supervisor) enter() bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopping {
		return false
	}
	sv.wg.Add(1)
	return true
}

// bound returns ctx, ended also when shutdown begins.
func (sv *supervisor) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(sv.life, cancel)
	return ctx, func() { stop(); cancel() }
}

func (sv *supervisor) add(spec childSpec, cur runner) (*child, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if _, ok := sv.children[spec.name]; ok {
		return nil, fmt.Errorf("%s is started already", spec.name)
	}
	c := &child{childSpec: spec, cur: cur}
	sv.children[spec.name] = c
	return c, nil
}

func (sv *supervisor) child(name string) (*child, error) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	c := sv.children[name]
	if c == nil {
		return nil, fmt.Errorf("no child of the stack is named %q", name)
	}
	return c, nil
}

func (sv *supervisor) current(c *child) runner {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	return c.cur
}

// swap makes next c's current run if prev still is and shutdown has not begun.
func (sv *supervisor) swap(c *child, prev, next runner) bool {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if sv.stopping || c.cur != prev {
		return false
	}
	c.cur = next
	return true
}

// publish writes the PID file of r if it is still c's current run.
func (sv *supervisor) publish(c *child, r runner) {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if c.cur != r {
		return
	}
	if err := writeFileAtomic(sv.pidFile(c.name), []byte(strconv.Itoa(r.pid())+"\n")); err != nil {
		sv.logf("cannot write the PID file of %s: %v", c.name, err)
	}
}

func (sv *supervisor) pidFile(name string) string { return filepath.Join(sv.pidDir, name) }

// removePID removes a child's PID file, so that none names a process that has gone (its
// number may be reused). Call with mu held, or after shutdown.
func (sv *supervisor) removePID(name string) {
	if err := os.Remove(sv.pidFile(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		sv.logf("cannot remove the PID file of %s: %v", name, err)
	}
}

// unstaged returns the children named in no stage.
func (sv *supervisor) unstaged(stages [][]string) []string {
	sv.mu.Lock()
	defer sv.mu.Unlock()
	var out []string
	for name := range sv.children {
		if !slices.ContainsFunc(stages, func(s []string) bool { return slices.Contains(s, name) }) {
			out = append(out, name)
		}
	}
	return out
}

// writeFileAtomic writes path by renaming a temporary file over it, so that a reader (a
// shell's $(cat ...)) never sees it half written.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}
