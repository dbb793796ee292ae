package localstack

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// TestDemo runs what `make demo` runs — the whole stack, the samples, the table, a
// timeline and the consistency check — then stops the stack and checks that no process
// it started is left.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo starts the whole stack; skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := mongoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	stack, err := Start(ctx, Options{Root: root, StateDir: t.TempDir(), Assets: os.Getenv("KUBEBUILDER_ASSETS"), Progress: t.Logf})
	if err != nil {
		t.Fatalf("start the stack: %v", err)
	}
	children := append(stack.PIDs(), childPIDs(t)...)
	stopped := false
	defer func() {
		if !stopped {
			_ = stack.Stop()
		}
	}()

	expectHealthy(ctx, t, stack.URLs)
	var out bytes.Buffer
	if err := stack.Demo(ctx, &out, 3*time.Minute); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	for _, want := range []string{"order-1001", "Completed", "Compensated", "OutOfStock"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	t.Logf("demo output:\n%s", out.String())

	if err := stack.Stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
	stopped = true
	for _, pid := range children {
		if alive(pid) {
			t.Errorf("process %d is still running after Stop", pid)
		}
	}
	if left := childPIDs(t); len(left) > 0 {
		t.Errorf("child processes left after Stop: %v", left)
	}
}

// TestStartFailsWhenAChildCannotStart checks what `make demo` relies on to exit non-zero:
// a child that fails its first start is an error, not restarted, and Start stops what it
// had started (the control plane, the store, the other children) before it returns.
func TestStartFailsWhenAChildCannotStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the control plane and the store; skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := mongoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var lines []string
	var mu sync.Mutex
	progress := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}
	stateDir := t.TempDir()
	// Every service refuses to start with an unknown log level: the first one started fails.
	stack, err := Start(ctx, Options{Root: root, StateDir: stateDir, Assets: os.Getenv("KUBEBUILDER_ASSETS"),
		ServiceEnv: []string{"LOG_LEVEL=no-such-level"}, Progress: progress})
	if err == nil {
		_ = stack.Stop()
		t.Fatal("Start succeeded with services that cannot start")
	}
	if !strings.Contains(err.Error(), "order exited (exit status 2) before it was ready") {
		t.Errorf("Start: %v; want the first service's exit", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, line := range lines {
		if strings.Contains(line, "restarting") {
			t.Errorf("a child that never was ready was restarted: %s", line)
		}
	}
	if left := childPIDs(t); len(left) > 0 {
		t.Errorf("child processes left after a failed Start: %v", left)
	}
	if entries, _ := os.ReadDir(filepath.Join(stateDir, "pids")); len(entries) > 0 {
		t.Errorf("PID files left after a failed Start: %v", entries)
	}
}

// expectHealthy checks that every service answers /healthz with 200.
func expectHealthy(ctx context.Context, t *testing.T, urls map[string]string) {
	t.Helper()
	for name, url := range urls {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/healthz", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Errorf("%s /healthz: %v", name, err)
			continue
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s /healthz: %s", name, resp.Status)
		}
	}
}

// childPIDs lists the live children of this test process (the control plane and the
// test server are started by libraries, not by Stack itself).
func childPIDs(t *testing.T) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatalf("read /proc: %v", err)
	}
	me := os.Getpid()
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Fields after the ")" that ends the command name: state, ppid, ...
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[0] != "Z" && fields[1] == strconv.Itoa(me) {
			out = append(out, pid)
		}
	}
	return out
}

func alive(pid int) bool {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) > 0 && fields[0] != "Z"
}
