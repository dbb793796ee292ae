// Package mongoserver starts the embedded MongoDB wire-protocol server that the local stack
// and the tests use:
// the server named by MONGO_TEST_URI when set (a real MongoDB), otherwise a private FerretDB
// (SQLite backend) built by hack/ferretdb.sh and started on a free loopback port.
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
}

// Server is a running MongoDB-compatible server.
type Server struct {
	// URI is the connection string, for example mongodb://127.0.0.1:40123/.
	URI string
	// External is true when the server came from MONGO_TEST_URI; Stop leaves it running.
	External bool

	cmd     *exec.Cmd
	dataDir string
	exited  chan struct{}
	output  *tailBuffer
	stop    sync.Once
}

// Start returns the server named by MONGO_TEST_URI, or starts a FerretDB on a free
// 127.0.0.1 port with a temporary data directory.
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
	var lastErr error
	for range 3 { // another process may take the free port between probe and bind
		s, err := startFerret(ctx, launcher, opts)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// Stop terminates the server's whole process group and removes its data. It is safe to
// call more than once; it does nothing for an external server.
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
		err = os.RemoveAll(s.dataDir)
	})
	if err != nil {
		return fmt.Errorf("remove ferretdb data: %w", err)
	}
	return nil
}

func startFerret(ctx context.Context, launcher string, opts Options) (*Server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ordersaga-ferretdb-")
	if err != nil {
		return nil, fmt.Errorf("create ferretdb data dir: %w", err)
	}
	s := &Server{URI: "mongodb://" + addr + "/", dataDir: dir, exited: make(chan struct{}), output: &tailBuffer{max: 8 << 10}}
	// Not CommandContext: the server must outlive a start-up context; Stop ends it.
	s.cmd = exec.Command(launcher, "--listen", addr, "--data-dir", dir)
	var out io.Writer = s.output
	if opts.Log != nil {
		out = io.MultiWriter(s.output, opts.Log)
	}
	s.cmd.Stdout, s.cmd.Stderr = out, out
	// Own process group, so that Stop reaches everything; killed if the test binary dies.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("start %s: %w", launcher, err)
	}
	go func() { _ = s.cmd.Wait(); close(s.exited) }()
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
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
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

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// buildLauncher runs hack/ferretdb.sh, which prints the launcher path (building it once).
func buildLauncher(ctx context.Context) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	var stdout bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "ferretdb.sh"))
	cmd.Stdout, cmd.Stderr = &stdout, os.Stderr // the script reports what it builds and how long
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
