// Package mongoserver starts the embedded MongoDB wire-protocol server that the local stack
// and the tests use:
// the server named by MONGO_TEST_URI when set (a real MongoDB), otherwise a private FerretDB
// (SQLite backend) built by hack/ferretdb.sh and started on a free loopback port.
//
// The launcher is FerretDB v1.24.2 with patches (hack/ferretdb/_patched): a filter that
// names an _id reads that document by the _id index whatever else it holds, and so do
// updates and deletes by _id; writes to a database queue in the server instead of sleeping
// in SQLite's busy handler. This package starts it with SQLite's synchronous=normal (see
// startFerret).
//
// Caveats: FerretDB has no transactions and its concurrent findOneAndUpdate/$inc are not
// atomic, so tests of behaviour under concurrency must call RequireRealMongo.
package mongoserver

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// EnvURI names the environment variable that points tests at an existing server.
const EnvURI = "MONGO_TEST_URI"

// Options configure Start.
type Options struct {
	// Launcher is the FerretDB launcher binary; empty means the output of hack/ferretdb.sh
	// (which builds it on first use, about 3.5 min on 2 cores with empty Go caches).
	Launcher string
	// Log receives the launcher's output; nil keeps only its last lines for error messages.
	Log io.Writer
	// StartTimeout bounds the wait for the port to accept connections; zero means 30s.
	StartTimeout time.Duration
	// Addr is the host:port to listen on; empty means a free 127.0.0.1 port. Together
	// with DataDir it lets a server that died be started again where it was, with its
	// data, as a StatefulSet's pod comes back with its volume: its clients reconnect.
	Addr string
	// DataDir holds the databases and is the caller's: Stop keeps it. Empty means a
	// temporary directory that Stop removes.
	DataDir string
}

// Server is a running MongoDB-compatible server.
type Server struct {
	// URI is the connection string, for example mongodb://127.0.0.1:40123/.
	URI string
	// External is true when the server came from MONGO_TEST_URI; Stop leaves it running.
	External bool

	cmd     *exec.Cmd
	addr    string
	dataDir string
	ownDir  bool // a temporary data directory, removed by Stop
	exited  chan struct{}
	waitErr error // what cmd.Wait returned; read after exited is closed
	output  *tailBuffer
	stop    sync.Once
}

// Start returns the server named by MONGO_TEST_URI, or starts a FerretDB on opts.Addr
// (default: a free 127.0.0.1 port) with opts.DataDir (default: a temporary directory).
func Start(ctx context.Context, opts Options) (*Server, error) {
	if uri := os.Getenv(EnvURI); uri != "" {
		return &Server{URI: uri, External: true}, nil
	}
	launcher := opts.Launcher
	if launcher == "" {
		var err error
		if launcher, err = buildLauncher(ctx); err != nil {
			return nil, err
		}
	}
	attempts := 3 // another process may take a free port between probe and bind
	if opts.Addr != "" {
		attempts = 1 // a fixed address taken stays taken
	}
	var lastErr error
	for range attempts {
		s, err := startFerret(ctx, launcher, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// Addr is the host:port the server listens on (empty for an external server): pass it
// back in Options.Addr to start the server again on the same port.
func (s *Server) Addr() string { return s.addr }

// PID is the server's process ID, the leader of its process group; 0 for an external one.
func (s *Server) PID() int {
	if s.cmd == nil {
		return 0
	}
	return s.cmd.Process.Pid
}

// Done is closed when the server's process has exited, stopped or not; for an external
// server it is never closed.
func (s *Server) Done() <-chan struct{} { return s.exited }

// Err says why the process exited, as exec.Cmd.Wait does ("signal: killed"); it is nil
// before Done is closed and after a clean exit.
func (s *Server) Err() error {
	select {
	case <-s.exited:
		return s.waitErr
	default:
		return nil
	}
}

// Stop terminates the server's whole process group and removes its data unless the data
// directory was the caller's. It is safe to call more than once, also after the process
// died; it does nothing for an external server.
func (s *Server) Stop() error {
	if s.External || s.cmd == nil {
		return nil
	}
	var err error
	s.stop.Do(func() {
		pgid := s.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-s.exited
		}
		if s.ownDir {
			err = os.RemoveAll(s.dataDir)
		}
	})
	if err != nil {
		return fmt.Errorf("remove ferretdb data: %w", err)
	}
	return nil
}

func startFerret(ctx context.Context, launcher string, opts Options) (*Server, error) {
	addr, err := listenAddr(ctx, opts.Addr)
	if err != nil {
		return nil, err
	}
	dir, ownDir, err := dataDir(opts.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{URI: "mongodb://" + addr + "/", addr: addr, dataDir: dir, ownDir: ownDir,
		exited: make(chan struct{}), output: &tailBuffer{max: 8 << 10}}
	// Not CommandContext: the server must outlive a start-up context; Stop ends it.
	// synchronous=normal: a commit is not flushed to disk before it is acknowledged. In SQLite's
	// WAL mode it still survives the server's own crash (the local stack's crash specs kill it),
	// and only a crash of the machine could lose the last writes, which the tests and the
	// local stack, rebuilt from scratch each time, can afford; commits then wait for no fsync
	// (ADR 0006).
	s.cmd = exec.Command(launcher, "--listen", addr, "--data-dir", dir, "--sqlite-synchronous", "normal") //nolint:gosec,noctx // G204: the launcher hack/ferretdb.sh built, or the caller's own
	var out io.Writer = s.output
	if opts.Log != nil {
		out = io.MultiWriter(s.output, opts.Log)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// Own process group, so that Stop reaches everything; killed if the test binary dies.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		if ownDir {
			_ = os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("start %s: %w", launcher, err)
	}
	go func() { s.waitErr = s.cmd.Wait(); close(s.exited) }()
	timeout := opts.StartTimeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	if err := s.waitReady(ctx, addr, timeout); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, addr string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	dialer := &net.Dialer{Timeout: 200 * time.Millisecond}
	for {
		conn, err := dialer.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = conn.Close()
			return nil
		}
		select {
		case <-s.exited:
			return fmt.Errorf("ferretdb on %s exited during start-up: %s", addr, s.output.String())
		case <-ctx.Done():
			return fmt.Errorf("wait for ferretdb on %s: %w", addr, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("ferretdb on %s did not accept connections within %s: %s", addr, timeout, s.output.String())
		}
	}
}

// listenAddr returns fixed, or a free loopback address when fixed is empty.
func listenAddr(ctx context.Context, fixed string) (string, error) {
	if fixed != "" {
		return fixed, nil
	}
	return freeAddr(ctx)
}

// dataDir returns fixed, created if missing, or a new temporary directory (own is true).
func dataDir(fixed string) (dir string, own bool, err error) {
	if fixed == "" {
		dir, err = os.MkdirTemp("", "ordersaga-ferretdb-")
		if err != nil {
			return "", false, fmt.Errorf("create ferretdb data dir: %w", err)
		}
		return dir, true, nil
	}
	if err := os.MkdirAll(fixed, 0o750); err != nil {
		return "", false, fmt.Errorf("create ferretdb data dir: %w", err)
	}
	return fixed, false, nil
}

func freeAddr(ctx context.Context) (string, error) {
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().String(), nil
}

// buildLauncher runs hack/ferretdb.sh, which prints the launcher path (building it once).
func buildLauncher(ctx context.Context) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "ferretdb.sh")) //nolint:gosec // G204: the repository's own script
	// The script reports on stderr what it builds and how long that takes.
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/ferretdb.sh: %w", err)
	}
	path := strings.TrimSpace(stdout.String())
	if path == "" {
		return "", errors.New("hack/ferretdb.sh printed no path")
	}
	return path, nil
}

// RepoRoot walks up from the working directory to the directory that holds go.mod and
// hack/ferretdb.sh (skipping nested modules such as hack/ferretdb itself).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for {
		if fileExists(filepath.Join(dir, "go.mod")) && fileExists(filepath.Join(dir, "hack", "ferretdb.sh")) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repository root (go.mod with hack/ferretdb.sh) not found above the working directory")
		}
		dir = parent
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}
