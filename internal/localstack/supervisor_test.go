package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	testingclock "k8s.io/utils/clock/testing"
)

// These tests drive the supervisor with real processes (sh, sleep) and a fake clock: the
// clock only moves when a test steps it, so the backoff sequence is exact whatever the
// machine's load, and every wait for a process has a generous timeout instead of a bound.

const patience = 30 * time.Second

type harness struct {
	t      *testing.T
	sv     *supervisor
	clock  *testingclock.FakeClock
	lines  chan string
	pidDir string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clock: testingclock.NewFakeClock(time.Now()), lines: make(chan string, 1000), pidDir: t.TempDir()}
	h.sv = newSupervisor(h.pidDir, func(format string, args ...any) { h.lines <- fmt.Sprintf(format, args...) }, h.clock)
	t.Cleanup(func() { h.sv.shutdown() })
	return h
}

// shell is a child that runs script with sh, counting its launches and remembering the
// process ID of its last one.
type shell struct {
	childSpec
	launches atomic.Int32
	lastPID  atomic.Int64
}

func (h *harness) shell(name, script string) *shell {
	sh := &shell{}
	logPath := filepath.Join(h.t.TempDir(), name+".log")
	sh.childSpec = childSpec{name: name, log: logPath, launch: func(context.Context) (runner, error) {
		sh.launches.Add(1)
		p, err := start(name, "sh", []string{"-c", script}, nil, logPath)
		if err != nil {
			return nil, err
		}
		sh.lastPID.Store(int64(p.pid()))
		return p, nil
	}}
	return sh
}

// nextRestart returns the next line that announces a restart, skipping the others.
func (h *harness) nextRestart() string {
	h.t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case line := <-h.lines:
			if strings.Contains(line, "; restarting in ") {
				return line
			}
		case <-timeout:
			h.t.Fatalf("no restart announced within %s", patience)
		}
	}
}

// expectRestart fails unless the next restart announced is want.
func (h *harness) expectRestart(want string) {
	h.t.Helper()
	if got := h.nextRestart(); got != want {
		h.t.Fatalf("restart line\n got: %s\nwant: %s", got, want)
	}
}

// expectNoRestart fails if a restart is announced within a short while. A slow machine
// can only make it miss a wrong restart, never fail a right run.
func (h *harness) expectNoRestart() {
	h.t.Helper()
	timeout := time.After(300 * time.Millisecond)
	for {
		select {
		case line := <-h.lines:
			if strings.Contains(line, "restarting") {
				h.t.Fatalf("unexpected restart: %s", line)
			}
		case <-timeout:
			return
		}
	}
}

// pidOf waits until the PID file of name holds a process ID other than old.
func (h *harness) pidOf(name string, old int) int {
	h.t.Helper()
	deadline := time.Now().Add(patience)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(filepath.Join(h.pidDir, name))
		if pid, convErr := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && convErr == nil && pid != old {
			return pid
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.t.Fatalf("the PID file of %s did not name a new process (old %d) within %s", name, old, patience)
	return 0
}

func (h *harness) expectNoPIDFile(name string) {
	h.t.Helper()
	if _, err := os.Stat(filepath.Join(h.pidDir, name)); !errors.Is(err, os.ErrNotExist) {
		h.t.Errorf("PID file of %s: %v, want none", name, err)
	}
}

func sigkill(t *testing.T, pid int) {
	t.Helper()
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatalf("kill -9 %d: %v", pid, err)
	}
}

func TestCrashLoopBacksOffExponentiallyUpToTheCap(t *testing.T) {
	h := newHarness(t)
	crasher := h.shell("crasher", "exit 3")
	if err := h.sv.start(t.Context(), crasher.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	delays := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 30 * time.Second, 30 * time.Second}
	for i, d := range delays {
		h.expectRestart(fmt.Sprintf("crasher exited (exit status 3); restarting in %s (restart %d)", d, i+1))
		if i < len(delays)-1 {
			h.clock.Step(d)
		}
	}
	// The last restart waits for a clock that shutdown makes irrelevant.
	h.sv.shutdown()
	h.clock.Step(time.Hour)
	if n := int(crasher.launches.Load()); n != len(delays) {
		t.Errorf("%d launches, want %d: the first and one per step of the clock", n, len(delays))
	}
	h.expectNoPIDFile("crasher")
}

func TestKilledChildComesBackWithANewPIDFileAndItsBackoffResetsOnceStable(t *testing.T) {
	h := newHarness(t)
	sleeper := h.shell("sleeper", "exec sleep 600")
	if err := h.sv.start(t.Context(), sleeper.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	pid := h.pidOf("sleeper", 0)
	if pid != int(sleeper.lastPID.Load()) {
		t.Fatalf("PID file names %d, the child is %d", pid, sleeper.lastPID.Load())
	}

	sigkill(t, pid)
	h.expectRestart("sleeper exited (signal: killed); restarting in 1s (restart 1)")
	h.expectNoPIDFile("sleeper") // it named a process that has gone
	h.clock.Step(time.Second)
	pid = h.pidOf("sleeper", pid)

	sigkill(t, pid)
	h.expectRestart("sleeper exited (signal: killed); restarting in 2s (restart 2)")
	h.clock.Step(2 * time.Second)
	pid = h.pidOf("sleeper", pid)

	h.clock.Step(2*maxRestartBackoff + time.Second) // it runs without a crash for a while
	sigkill(t, pid)
	h.expectRestart("sleeper exited (signal: killed); restarting in 1s (restart 3)")
	h.clock.Step(time.Second)
	pid = h.pidOf("sleeper", pid)

	h.sv.shutdown()
	if alive(pid) {
		t.Errorf("child %d still runs after shutdown", pid)
	}
	h.expectNoPIDFile("sleeper")
	if n := sleeper.launches.Load(); n != 4 {
		t.Errorf("%d launches, want 4", n)
	}
}

func TestHeldChildStaysDownUntilResumed(t *testing.T) {
	h := newHarness(t)
	sleeper := h.shell("sleeper", "exec sleep 600")
	if err := h.sv.start(t.Context(), sleeper.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	first := h.pidOf("sleeper", 0)
	h.sv.hold("sleeper", true)
	if alive(first) {
		t.Fatalf("child %d still runs after hold", first)
	}
	h.expectNoPIDFile("sleeper")
	h.expectNoRestart()
	if pids := h.sv.pids(); len(pids) != 0 {
		t.Errorf("pids of a held child: %v, want none", pids)
	}

	if err := h.sv.resume(t.Context(), "sleeper"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	second := h.pidOf("sleeper", first)
	if err := h.sv.resume(t.Context(), "sleeper"); err != nil || sleeper.launches.Load() != 2 {
		t.Errorf("resume of a running child: %v, %d launches; want nil and 2", err, sleeper.launches.Load())
	}
	// Resumed, it is watched again.
	sigkill(t, second)
	h.expectRestart("sleeper exited (signal: killed); restarting in 1s (restart 1)")
}

func TestChildThatIsNeverReadyFailsItsFirstStartAndIsNotRestarted(t *testing.T) {
	h := newHarness(t)
	broken := h.shell("broken", "exec sleep 600")
	broken.ready = func(context.Context, runner) error { return errors.New("is not ready") }
	err := h.sv.start(t.Context(), broken.childSpec)
	if err == nil || !strings.Contains(err.Error(), "broken is not ready") {
		t.Fatalf("start = %v, want an error that names the child and says why", err)
	}
	if pid := int(broken.lastPID.Load()); alive(pid) {
		t.Errorf("process %d of the failed start still runs", pid)
	}
	h.expectNoRestart()
	h.expectNoPIDFile("broken")
	if n := broken.launches.Load(); n != 1 {
		t.Errorf("%d launches, want 1", n)
	}

	missing := childSpec{name: "missing", launch: func(context.Context) (runner, error) {
		p, err := start("missing", filepath.Join(t.TempDir(), "no-such-binary"), nil, nil, filepath.Join(t.TempDir(), "log"))
		if err != nil {
			return nil, err
		}
		return p, nil
	}}
	if err := h.sv.start(t.Context(), missing); err == nil {
		t.Error("start of a missing binary succeeded")
	}
}

func TestRestartThatIsNeverReadyBacksOffFurther(t *testing.T) {
	h := newHarness(t)
	flaky := h.shell("flaky", "exec sleep 600")
	flaky.ready = func(context.Context, runner) error {
		if flaky.launches.Load() > 1 {
			return errors.New("is not ready")
		}
		return nil
	}
	if err := h.sv.start(t.Context(), flaky.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	sigkill(t, h.pidOf("flaky", 0))
	h.expectRestart("flaky exited (signal: killed); restarting in 1s (restart 1)")
	h.clock.Step(time.Second)
	h.expectRestart("flaky did not start (flaky is not ready; see its log " + flaky.log + "); restarting in 2s (restart 2)")
	if pid := int(flaky.lastPID.Load()); alive(pid) {
		t.Errorf("process %d of the failed restart still runs", pid)
	}
}

func TestShutdownStopsStageByStageWholeProcessGroupsAndRestartsNothing(t *testing.T) {
	h := newHarness(t)
	// A shell that waits on a child of its own: stopping must reach the whole group.
	parent := h.shell("parent", "sleep 600 & wait")
	if err := h.sv.start(t.Context(), parent.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	crasher := h.shell("crasher", "exit 1")
	if err := h.sv.start(t.Context(), crasher.childSpec); err != nil {
		t.Fatalf("start: %v", err)
	}
	h.expectRestart("crasher exited (exit status 1); restarting in 1s (restart 1)")
	var mu sync.Mutex
	var stopped []string
	for i, name := range []string{"first", "second", "unstaged"} {
		r := &fakeRun{id: 1<<30 + i, exited: make(chan struct{}), onStop: func() { mu.Lock(); stopped = append(stopped, name); mu.Unlock() }}
		if err := h.sv.adopt(childSpec{name: name}, r); err != nil {
			t.Fatalf("adopt %s: %v", name, err)
		}
	}
	pgid := h.pidOf("parent", 0)

	h.sv.shutdown([]string{"first"}, []string{"second", "parent"})
	h.clock.Step(time.Hour)
	// The group's last member may take a moment to die and be reaped after its leader.
	for deadline := time.Now().Add(patience); syscall.Kill(-pgid, 0) == nil; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("process group %d still exists %s after shutdown", pgid, patience)
		}
	}
	if want := []string{"first", "second", "unstaged"}; !slices.Equal(stopped, want) {
		t.Errorf("stopped %v, want %v", stopped, want)
	}
	if n := crasher.launches.Load(); n != 1 {
		t.Errorf("crasher launched %d times, want 1: nothing restarts once shutdown has begun", n)
	}
	if entries, _ := os.ReadDir(h.pidDir); len(entries) != 0 {
		t.Errorf("PID files left after shutdown: %v", entries)
	}
	if err := h.sv.resume(t.Context(), "parent"); !errors.Is(err, errStopped) {
		t.Errorf("resume after shutdown = %v, want %v", err, errStopped)
	}
}

// fakeRun is a run without a process, that reports its stop.
type fakeRun struct {
	id     int
	exited chan struct{}
	once   sync.Once
	onStop func()
}

func (f *fakeRun) pid() int              { return f.id }
func (f *fakeRun) done() <-chan struct{} { return f.exited }
func (f *fakeRun) exitReason() string    { return "exit status 0" }
func (f *fakeRun) stop(time.Duration)    { f.once.Do(func() { f.onStop(); close(f.exited) }) }
func (f *fakeRun) kill()                 { f.stop(0) }
