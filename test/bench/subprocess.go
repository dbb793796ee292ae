package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// subprocessManager is cmd/manager in its own process.
type subprocessManager struct {
	cmd        *exec.Cmd
	metricsURL string
	pprofURL   string
	log        string
	exited     chan error
}

// managerBinary builds cmd/manager once, as `make build` does.
func (s *Stack) managerBinary(ctx context.Context) (string, error) {
	if s.managerBin != "" {
		return s.managerBin, nil
	}
	bin := filepath.Join(s.workDir, "manager")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/manager") //nolint:gosec // G204: bin is a path in the benchmark's own temporary folder
	cmd.Dir = s.Options.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/manager: %w\n%s", err, out)
	}
	s.managerBin = bin
	return bin, nil
}

func (s *Stack) startSubprocessManager(ctx context.Context, o managerOptions) (*subprocessManager, error) {
	bin, err := s.managerBinary(ctx)
	if err != nil {
		return nil, err
	}
	kubeconfig, err := s.writeKubeconfig()
	if err != nil {
		return nil, err
	}
	metricsAddr, probeAddr, pprofAddr := freeAddr(ctx), freeAddr(ctx), freeAddr(ctx)
	if metricsAddr == "" || probeAddr == "" || pprofAddr == "" {
		return nil, errors.New("no free loopback port for the manager")
	}
	args := []string{
		"--metrics-bind-address=" + metricsAddr,
		"--health-probe-bind-address=" + probeAddr,
		"--pprof-bind-address=" + pprofAddr,
		"--service-urls=" + serviceURLs(s.Fake.URLs()),
		"--watch-namespace=" + o.Namespace,
	}
	if o.Workers > 0 {
		args = append(args, "--max-concurrent-reconciles="+strconv.Itoa(o.Workers))
	}
	env := append(os.Environ(), "KUBECONFIG="+kubeconfig)
	logName := o.Namespace + "-manager.log"
	if o.Shards > 1 {
		args = append(args, "--shards="+strconv.Itoa(o.Shards), "--leader-election-namespace="+o.Namespace)
		env = append(env, "POD_NAME="+o.Identity)
		logName = o.Namespace + "-" + o.Identity + ".log"
	}
	logPath := filepath.Join(s.workDir, logName)
	logFile, err := os.Create(logPath) //nolint:gosec // G304: a file in the benchmark's own temporary folder
	if err != nil {
		return nil, fmt.Errorf("manager log: %w", err)
	}
	defer func() { _ = logFile.Close() }()
	// Not CommandContext: the manager is stopped by SIGTERM, to shut down as it would in a pod.
	cmd := exec.Command(bin, args...) //nolint:gosec,noctx // G204: the manager binary built above; stopped by Stop, not by ctx
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start manager: %w", err)
	}
	m := &subprocessManager{cmd: cmd, metricsURL: "http://" + metricsAddr + "/metrics",
		pprofURL: "http://" + pprofAddr + "/debug/pprof", log: logPath, exited: make(chan error, 1)}
	go func() { m.exited <- cmd.Wait() }()
	if err := m.waitReady(ctx, "http://"+probeAddr+"/readyz"); err != nil {
		_ = m.Stop()
		return nil, err
	}
	return m, nil
}

func (s *Stack) writeKubeconfig() (string, error) {
	kc, err := s.AdminKubeconfig()
	if err != nil {
		return "", err
	}
	path := filepath.Join(s.workDir, "kubeconfig")
	if err := os.WriteFile(path, kc, 0o600); err != nil {
		return "", fmt.Errorf("write kubeconfig: %w", err)
	}
	return path, nil
}

func serviceURLs(urls map[string]string) string {
	names := stepclient.Services()
	parts := make([]string, 0, len(names))
	for _, name := range names {
		parts = append(parts, name+"="+urls[name])
	}
	return strings.Join(parts, ",")
}

// freeAddr returns a loopback address with a port that was free a moment ago (the manager
// takes a port from a flag, and cannot tell which one it chose).
func freeAddr(ctx context.Context) string {
	l, err := (&net.ListenConfig{}).Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return ""
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func (m *subprocessManager) waitReady(ctx context.Context, url string) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		select {
		case err := <-m.exited:
			return fmt.Errorf("manager exited before it was ready (%w); log: %s", err, m.log)
		default:
		}
		if _, err := fetch(ctx, http.DefaultClient, url); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("manager not ready after a minute; log: %s", m.log)
}

func (m *subprocessManager) CPU() (time.Duration, error) { return processCPU(m.cmd.Process.Pid) }

func (m *subprocessManager) Requests() Counts { return nil }

func (m *subprocessManager) Memory(ctx context.Context) (memory, bool, error) {
	pid := m.cmd.Process.Pid
	rss, err := residentBytes(pid, "VmRSS")
	if err != nil {
		return memory{}, true, err
	}
	peak, err := residentBytes(pid, "VmHWM")
	if err != nil {
		return memory{}, true, err
	}
	page, err := fetch(ctx, http.DefaultClient, m.metricsURL)
	if err != nil {
		return memory{}, true, err
	}
	heap, err := gaugeValue(page, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return memory{}, true, err
	}
	mem := memory{RSS: rss, PeakRSS: peak, HeapInuse: int64(heap)}
	if mem.RSSFile, err = residentBytes(pid, "RssFile"); err != nil {
		return memory{}, true, err
	}
	stack, err := gaugeValue(page, "go_memstats_stack_inuse_bytes")
	if err != nil {
		return memory{}, true, err
	}
	goroutines, err := gaugeValue(page, "go_goroutines")
	if err != nil {
		return memory{}, true, err
	}
	mem.StackInuse, mem.Goroutines = int64(stack), int(goroutines)
	// Read after RSS and heap in use, because the collection it forces changes both.
	if mem.HeapProfile, err = fetch(ctx, http.DefaultClient, m.pprofURL+"/heap?gc=1"); err != nil {
		return memory{}, true, err
	}
	if page, err = fetch(ctx, http.DefaultClient, m.metricsURL); err != nil {
		return memory{}, true, err
	}
	live, err := gaugeValue(page, "go_memstats_heap_inuse_bytes")
	if err != nil {
		return memory{}, true, err
	}
	mem.LiveHeap = int64(live)
	return mem, true, nil
}

// Stop sends SIGTERM, as a pod's shutdown does, and kills the manager after 30 s.
func (m *subprocessManager) Stop() error {
	_ = m.cmd.Process.Signal(syscall.SIGTERM)
	var err error
	select {
	case err = <-m.exited:
	case <-time.After(30 * time.Second):
		_ = m.cmd.Process.Kill()
		err = <-m.exited
	}
	if err != nil {
		return fmt.Errorf("manager process (log %s): %w", m.log, err)
	}
	return nil
}
