// Package localstack runs the whole OrderSaga system on one machine without a cluster: a
// real kube-apiserver and etcd (the envtest assets) with the CRD installed, a
// Mongo-compatible server, the five services and the manager on loopback ports. It backs
// `make run-local` and `make demo`, and the end-to-end tests.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Options configure a stack.
type Options struct {
	// Root is the repository root (where go.mod is).
	Root string
	// StateDir holds binaries, logs, the kubeconfig and the env file; default Root/.local.
	StateDir string
	// Assets is the envtest assets folder; default: the output of hack/envtest.sh.
	Assets string
	// ServiceEnv is added to every service's environment (fault injection, for example).
	ServiceEnv []string
	// Progress receives one line per milestone; nil discards them.
	Progress func(format string, args ...any)
}

// Stack is a running local system.
type Stack struct {
	// Kubeconfig is the path of a kubeconfig for the stack's API server.
	Kubeconfig string
	// Config is the REST config of the API server's admin user.
	Config *rest.Config
	// MongoURI is the Mongo-compatible server's connection string.
	MongoURI string
	// URLs maps each service name to its base URL.
	URLs map[string]string
	// Kubectl is the kubectl binary of the envtest assets.
	Kubectl string

	opts    Options
	env     *envtest.Environment
	mongo   *mongoserver.Server
	mu      sync.Mutex
	procs   map[string]*process
	ports   map[string]int
	stopped bool
}

// Start builds the binaries and starts everything, waiting until each part is ready. On
// failure it stops what it started.
func Start(ctx context.Context, opts Options) (s *Stack, err error) {
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(opts.Root, ".local")
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	s = &Stack{opts: opts, procs: map[string]*process{}, ports: map[string]int{}, URLs: map[string]string{}}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	for _, dir := range []string{"bin", "logs"} {
		if err := os.MkdirAll(filepath.Join(opts.StateDir, dir), 0o755); err != nil {
			return nil, fmt.Errorf("create %s: %w", dir, err)
		}
	}
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"building manager and services", s.build},
		{"starting kube-apiserver and etcd", s.startControlPlane},
		{"starting the Mongo-compatible server", s.startMongo},
		{"starting the five services", s.startServices},
		{"starting the manager", s.StartManager},
	}
	for _, step := range steps {
		begin := time.Now()
		opts.Progress("%s ...", step.what)
		if err := step.do(ctx); err != nil {
			return nil, err
		}
		opts.Progress("%s: done in %s", step.what, time.Since(begin).Round(100*time.Millisecond))
	}
	return s, nil
}

func (s *Stack) bin(name string) string { return filepath.Join(s.opts.StateDir, "bin", name) }

func (s *Stack) logPath(name string) string {
	return filepath.Join(s.opts.StateDir, "logs", name+".log")
}

// build runs `make build`, the very command the Dockerfile runs, into the state folder;
// the Go build cache makes it take seconds when warm.
func (s *Stack) build(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build", "BIN_DIR="+filepath.Join(s.opts.StateDir, "bin"))
	cmd.Dir = s.opts.Root
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

func (s *Stack) startControlPlane(ctx context.Context) error {
	assets := s.opts.Assets
	if assets == "" {
		cmd := exec.CommandContext(ctx, filepath.Join(s.opts.Root, "hack", "envtest.sh"))
		cmd.Stderr = os.Stderr // a first run builds the binaries and says so
		out, err := cmd.Output()
		if err != nil {
			return fmt.Errorf("hack/envtest.sh: %w", err)
		}
		assets = strings.TrimSpace(string(out))
	}
	s.Kubectl = filepath.Join(assets, "kubectl")
	s.env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(s.opts.Root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	if _, err := s.env.Start(); err != nil {
		return fmt.Errorf("start kube-apiserver and etcd: %w", err)
	}
	user, err := s.env.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add admin user: %w", err)
	}
	kubeconfig, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("render kubeconfig: %w", err)
	}
	s.Kubeconfig = filepath.Join(s.opts.StateDir, "kubeconfig")
	if err := os.WriteFile(s.Kubeconfig, kubeconfig, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	s.Config = user.Config()
	return nil
}

func (s *Stack) startMongo(ctx context.Context) error {
	log, err := os.Create(s.logPath("mongo"))
	if err != nil {
		return fmt.Errorf("open mongo log: %w", err)
	}
	s.mongo, err = mongoserver.Start(ctx, mongoserver.Options{Log: log})
	if err != nil {
		return fmt.Errorf("start the Mongo-compatible server: %w", err)
	}
	s.MongoURI = s.mongo.URI
	return nil
}

func (s *Stack) startServices(ctx context.Context) error {
	for _, name := range stepclient.Services() {
		if err := s.StartService(ctx, name); err != nil {
			return err
		}
	}
	return nil
}

// StartService starts (or restarts) one service on its port and waits until it is ready.
func (s *Stack) StartService(ctx context.Context, name string) error {
	port, err := s.port(name)
	if err != nil {
		return err
	}
	env := append([]string{
		fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port),
		"MONGO_URI=" + s.MongoURI,
		"ADMIN_API=true",
	}, s.opts.ServiceEnv...)
	p, err := start(name, s.bin("services"), []string{name}, env, s.logPath(name))
	if err != nil {
		return err
	}
	s.setProc(name, p)
	s.URLs[name] = fmt.Sprintf("http://127.0.0.1:%d", port)
	return waitHTTP(ctx, p, s.URLs[name]+"/readyz", 60*time.Second)
}

// StartManager starts (or restarts) the manager, pointed at the services' loopback URLs.
func (s *Stack) StartManager(ctx context.Context) error {
	probe, err := s.port("manager-probe")
	if err != nil {
		return err
	}
	metrics, err := s.port("manager-metrics")
	if err != nil {
		return err
	}
	var overrides []string
	for _, name := range stepclient.Services() {
		overrides = append(overrides, name+"="+s.URLs[name])
	}
	args := []string{
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
		"--service-urls=" + strings.Join(overrides, ","),
	}
	p, err := start("manager", s.bin("manager"), args, []string{"KUBECONFIG=" + s.Kubeconfig}, s.logPath("manager"))
	if err != nil {
		return err
	}
	s.setProc("manager", p)
	return waitHTTP(ctx, p, fmt.Sprintf("http://127.0.0.1:%d/readyz", probe), 60*time.Second)
}

// StopProcess stops one child ("manager" or a service) gracefully.
func (s *Stack) StopProcess(name string) {
	if p := s.proc(name); p != nil {
		p.stop(10 * time.Second)
	}
}

// KillProcess stops one child with SIGKILL, as a crash would.
func (s *Stack) KillProcess(name string) {
	if p := s.proc(name); p != nil {
		p.kill()
	}
}

// PIDs returns the process IDs of the stack's children, for leak checks.
func (s *Stack) PIDs() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for _, p := range s.procs {
		pids = append(pids, p.cmd.Process.Pid)
	}
	sort.Ints(pids)
	return pids
}

// Stop stops the manager first (so no saga call starts against a stopping service),
// then the services, the Mongo-compatible server and the control plane.
func (s *Stack) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errStopped
	}
	s.stopped = true
	procs := s.procs
	s.mu.Unlock()
	if p := procs["manager"]; p != nil {
		p.stop(10 * time.Second)
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(func() { p.stop(10 * time.Second) })
	}
	wg.Wait()
	var errs []error
	if s.mongo != nil {
		errs = append(errs, s.mongo.Stop())
	}
	if s.env != nil {
		errs = append(errs, s.env.Stop())
	}
	return errors.Join(errs...)
}

// WriteEnv writes the shell file that points kubectl and scripts at the stack.
func (s *Stack) WriteEnv(path string) error {
	lines := []string{
		"# Written by the local stack (make run-local). Use: . " + path,
		"export KUBECONFIG=" + shellQuote(s.Kubeconfig),
		"export MONGO_URI=" + shellQuote(s.MongoURI),
		"export PATH=" + shellQuote(filepath.Dir(s.Kubectl)+":"+filepath.Join(s.opts.StateDir, "bin")) + ":\"$PATH\"",
	}
	for _, name := range stepclient.Services() {
		lines = append(lines, "export "+strings.ToUpper(name)+"_URL="+shellQuote(s.URLs[name]))
	}
	return os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644)
}

func shellQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

// port returns the port of a named listener, choosing a free one the first time so that
// a restarted service keeps its URL.
func (s *Stack) port(name string) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.ports[name]; ok {
		return p, nil
	}
	p, err := freePort()
	if err != nil {
		return 0, err
	}
	s.ports[name] = p
	return p, nil
}

func (s *Stack) setProc(name string, p *process) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.procs[name] = p
}

func (s *Stack) proc(name string) *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.procs[name]
}

// Wait blocks until ctx ends (nil) or a child exits on its own (an error naming it).
func (s *Stack) Wait(ctx context.Context) error {
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			s.mu.Lock()
			for name, p := range s.procs {
				if p.Exited() {
					s.mu.Unlock()
					return fmt.Errorf("%s exited on its own; see %s", name, s.logPath(name))
				}
			}
			s.mu.Unlock()
		}
	}
}
