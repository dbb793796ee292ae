package localstack

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// runner is one run of a child of the stack: a process, or the Mongo-compatible server.
type runner interface {
	pid() int
	// done is closed when the run has ended, whatever ended it.
	done() <-chan struct{}
	// exitReason says why it ended, once done is closed: "signal: killed", "exit status 1".
	exitReason() string
	// stop sends SIGTERM to the run's process group, SIGKILL after grace, and waits.
	stop(grace time.Duration)
	// kill sends SIGKILL to the run's process group and waits.
	kill()
}

// process is one run of a child, in a process group of its own so that stopping it stops
// everything it started, and its output goes to a log file.
type process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	waitErr error // set before exited is closed
	once    sync.Once
}

// start runs bin with args and env (added to the stack's environment), appending its
// output to logPath, so that the log of a restarted child tells its whole story.
func start(name, bin string, args, env []string, logPath string) (*process, error) {
	log, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600) //nolint:gosec // G304: a log path of the stack's own state folder
	if err != nil {
		return nil, fmt.Errorf("open log of %s: %w", name, err)
	}
	// Not CommandContext: a child outlives the context that started it; stop ends it.
	cmd := exec.Command(bin, args...) //nolint:gosec,noctx // G204: a binary the stack built, with the stack's own arguments
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	// Setpgid puts the child in its own group; Pdeathsig stops it if the stack dies
	// without running Stop (kill -9), so that nothing is left behind.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{cmd: cmd, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = log.Close() // the child wrote through its own descriptor; ours is no longer needed
		close(p.exited)
	}()
	return p, nil
}

func (p *process) pid() int              { return p.cmd.Process.Pid }
func (p *process) done() <-chan struct{} { return p.exited }
func (p *process) exitReason() string    { return exitReason(p.waitErr) }

func (p *process) stop(grace time.Duration) {
	p.once.Do(func() { stopGroup(p.pid(), p.exited, grace) })
}

func (p *process) kill() {
	p.once.Do(func() { stopGroup(p.pid(), p.exited, 0) })
}

// stopGroup sends SIGTERM to the process group pgid, or SIGKILL at once when grace is
// zero, then SIGKILL after grace, and waits until its leader has exited. What the leader
// leaves in its group then gets SIGKILL, as a container's processes die with it.
func stopGroup(pgid int, exited <-chan struct{}, grace time.Duration) {
	defer func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) }()
	if grace > 0 {
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-exited:
			return
		case <-time.After(grace):
		}
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	<-exited
}

// exitReason words what exec.Cmd.Wait returned as ProcessState does.
func exitReason(waitErr error) string {
	if waitErr == nil {
		return "exit status 0"
	}
	return waitErr.Error()
}

// mongoRun is one run of the Mongo-compatible server.
type mongoRun struct{ srv *mongoserver.Server }

func (m *mongoRun) pid() int              { return m.srv.PID() }
func (m *mongoRun) done() <-chan struct{} { return m.srv.Done() }
func (m *mongoRun) exitReason() string    { return exitReason(m.srv.Err()) }

// stop leaves the grace to the server's own Stop (SIGTERM, then SIGKILL after 5 s).
func (m *mongoRun) stop(time.Duration) { _ = m.srv.Stop() }

func (m *mongoRun) kill() {
	_ = syscall.Kill(-m.pid(), syscall.SIGKILL)
	<-m.done()
	_ = m.srv.Stop()
}

// waitHTTP polls url until it answers 200, the run ends, or timeout passes.
func waitHTTP(ctx context.Context, r runner, url string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("not ready within %s", timeout))
	defer cancel()
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return fmt.Errorf("probe %s: %w", url, err)
		}
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-r.done():
			return fmt.Errorf("exited (%s) before it was ready", r.exitReason())
		case <-ctx.Done():
			return fmt.Errorf("probe %s: %w", url, context.Cause(ctx))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// freePort returns a loopback port nothing listens on now.
func freePort(ctx context.Context) (int, error) {
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return 0, fmt.Errorf("find a free port: %s is not a TCP address", l.Addr())
	}
	return addr.Port, nil
}

var errStopped = errors.New("the stack is stopped")
