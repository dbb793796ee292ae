// Package localstack runs the whole OrderSaga system on one machine without a cluster: a
// real kube-apiserver and etcd (the envtest assets) with the CRD installed, a
// Mongo-compatible server, the five services, the manager and the GraphQL gateway on
// loopback ports. It backs `make run-local` and `make demo`, and the end-to-end tests.
package localstack

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/ordersaga/ordersaga/internal/admission"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Options configure a stack.
type Options struct {
	// Root is the repository root (where go.mod is).
	Root string
	// StateDir holds binaries, logs, PID files, the Mongo-compatible server's data, the
	// kubeconfig and the env file; default Root/.local.
	StateDir string
	// Assets is the envtest assets folder; default: the output of hack/envtest.sh.
	Assets string
	// ServiceEnv is added to every service's environment (fault injection, for example).
	ServiceEnv []string
	// Progress receives one line per milestone and per restart; nil discards them. It is
	// called from several goroutines.
	Progress func(format string, args ...any)
}

// Stack is a running local system. Like a cluster, it restarts a child that exits: the
// manager, the gateway, a service or the Mongo-compatible server comes back, with backoff,
// on the same ports (and data), and its PID file in StateDir/pids is rewritten.
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
	// GatewayURL is the GraphQL gateway's base URL: the dashboard at /, GraphQL at /graphql.
	GatewayURL string
	// ShopToken is a token of the ServiceAccount default/shop-frontend (ShopFrontend), valid
	// for a day, for `Authorization: Bearer` at the gateway, which checks every call.
	ShopToken string

	opts     Options
	env      *envtest.Environment
	sup      *supervisor
	mongoLog *os.File
	mu       sync.Mutex
	stopped  bool
}

// readyTimeout bounds the wait for a child to answer its readiness probe.
const readyTimeout = 60 * time.Second

// Start builds the binaries and starts everything, waiting until each part is ready. On
// failure it stops what it started.
func Start(ctx context.Context, opts Options) (*Stack, error) {
	if opts.StateDir == "" {
		opts.StateDir = filepath.Join(opts.Root, ".local")
	}
	if opts.Progress == nil {
		opts.Progress = func(string, ...any) {}
	}
	s := &Stack{opts: opts, URLs: map[string]string{}}
	s.sup = newSupervisor(s.pidDir(), opts.Progress, clock.RealClock{})
	if err := s.start(ctx); err != nil {
		_ = s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) start(ctx context.Context) error {
	if err := s.prepareStateDir(); err != nil {
		return err
	}
	steps := []struct {
		what string
		do   func(context.Context) error
	}{
		{"building manager, services and gateway", s.build},
		{"starting kube-apiserver and etcd", s.startControlPlane},
		{"installing the finalizer admission policy", s.installAdmissionPolicy},
		{"starting the Mongo-compatible server", s.startMongo},
		{"starting the five services", s.startServices},
		{"starting the manager", s.startManager},
		{"creating ServiceAccount " + ShopFrontend + " and its token", s.createShopFrontend},
		{"starting the gateway", s.startGateway},
	}
	for _, step := range steps {
		begin := time.Now()
		s.opts.Progress("%s ...", step.what)
		if err := step.do(ctx); err != nil {
			return err
		}
		s.opts.Progress("%s: done in %s", step.what, time.Since(begin).Round(100*time.Millisecond))
	}
	return nil
}

// prepareStateDir creates the state folders and empties those of a previous stack that
// was not stopped (kill -9): its PID files name dead processes, and its data belongs to
// an API server that is gone.
func (s *Stack) prepareStateDir() error {
	for _, dir := range []string{s.pidDir(), s.mongoDataDir()} {
		if err := os.RemoveAll(dir); err != nil {
			return fmt.Errorf("clear %s: %w", dir, err)
		}
	}
	for _, dir := range []string{filepath.Join(s.opts.StateDir, "bin"), filepath.Join(s.opts.StateDir, "logs"), s.pidDir()} {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
	}
	return nil
}

func (s *Stack) bin(name string) string { return filepath.Join(s.opts.StateDir, "bin", name) }

func (s *Stack) logPath(name string) string {
	return filepath.Join(s.opts.StateDir, "logs", name+".log")
}

func (s *Stack) pidDir() string { return filepath.Join(s.opts.StateDir, "pids") }

func (s *Stack) mongoDataDir() string { return filepath.Join(s.opts.StateDir, "mongo-data") }

// PIDFile is the file that holds the process ID of a child ("manager", a service, or
// "mongo") while it runs: `kill -9 $(cat FILE)` crashes it, and the stack restarts it.
func (s *Stack) PIDFile(name string) string { return filepath.Join(s.pidDir(), name) }

// build runs `make build`, the very command the Dockerfile runs, into the state folder;
// the Go build cache makes it take seconds when warm.
func (s *Stack) build(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "make", "--no-print-directory", "build", "BIN_DIR="+filepath.Join(s.opts.StateDir, "bin")) //nolint:gosec // G204: the repository's Makefile
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
		cmd := exec.CommandContext(ctx, filepath.Join(s.opts.Root, "hack", "envtest.sh")) //nolint:gosec // G204: the repository's own script
		// A first run builds the binaries and says so.
		cmd.Stderr = os.Stderr
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

// installAdmissionPolicy installs config/admission, as the chart and kustomize do, so that
// the API server adds the finalizer when a saga is created and the controller need not.
// It is in effect once the completed sample, dry-run created, comes back with it.
func (s *Stack) installAdmissionPolicy(ctx context.Context) error {
	c, err := s.Client()
	if err != nil {
		return err
	}
	if _, err := admission.Apply(ctx, c, filepath.Join(s.opts.Root, "config", "admission"),
		admission.ProbeSample(s.opts.Root), metav1.NamespaceDefault); err != nil {
		return fmt.Errorf("finalizer admission policy: %w", err)
	}
	return nil
}

// startMongo starts the Mongo-compatible server, unless MONGO_TEST_URI names one. The
// server is restarted on its port and data directory, as a StatefulSet's pod comes back
// with its volume: the services' URI stays valid and no data is lost.
func (s *Stack) startMongo(ctx context.Context) error {
	log, err := os.Create(s.logPath("mongo"))
	if err != nil {
		return fmt.Errorf("open mongo log: %w", err)
	}
	s.mongoLog = log
	// The first start picks a free port (retrying if another process takes it first);
	// restarts then take that one.
	srv, err := mongoserver.Start(ctx, mongoserver.Options{Log: log, DataDir: s.mongoDataDir()})
	if err != nil {
		return fmt.Errorf("start the Mongo-compatible server: %w", err)
	}
	s.MongoURI = srv.URI
	if srv.External {
		return nil
	}
	again := mongoserver.Options{Log: log, DataDir: s.mongoDataDir(), Addr: srv.Addr()}
	return s.sup.adopt(childSpec{
		name: "mongo",
		log:  log.Name(),
		launch: func(ctx context.Context) (runner, error) {
			srv, err := mongoserver.Start(ctx, again)
			if err != nil {
				return nil, err
			}
			return &mongoRun{srv}, nil
		},
	}, &mongoRun{srv})
}

func (s *Stack) startServices(ctx context.Context) error {
	for _, name := range stepclient.Services() {
		port, err := freePort(ctx)
		if err != nil {
			return err
		}
		s.URLs[name] = fmt.Sprintf("http://127.0.0.1:%d", port)
		env := append([]string{
			fmt.Sprintf("HTTP_ADDR=127.0.0.1:%d", port),
			"MONGO_URI=" + s.MongoURI,
			"ADMIN_API=true",
		}, s.opts.ServiceEnv...)
		if err := s.sup.start(ctx, s.processSpec(name, s.bin("services"), []string{name}, env, s.URLs[name]+"/readyz")); err != nil {
			return err
		}
	}
	return nil
}

// startManager starts the manager, pointed at the services' loopback URLs.
func (s *Stack) startManager(ctx context.Context) error {
	probe, err := freePort(ctx)
	if err != nil {
		return err
	}
	metrics, err := freePort(ctx)
	if err != nil {
		return err
	}
	args := []string{
		fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", probe),
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", metrics),
		"--service-urls=" + s.serviceURLs(),
	}
	env := []string{"KUBECONFIG=" + s.Kubeconfig}
	return s.sup.start(ctx, s.processSpec("manager", s.bin("manager"), args, env, fmt.Sprintf("http://127.0.0.1:%d/readyz", probe)))
}

// startGateway starts the GraphQL gateway on the services' loopback URLs and the admin
// kubeconfig, with authentication on: every caller needs a token (ShopToken), and the gateway
// asks the API server who it is and what it may do, as it does in a cluster.
func (s *Stack) startGateway(ctx context.Context) error {
	port, err := freePort(ctx)
	if err != nil {
		return err
	}
	s.GatewayURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	args := []string{
		fmt.Sprintf("--listen-address=127.0.0.1:%d", port),
		"--service-urls=" + s.serviceURLs(),
		"--default-namespace=" + ShopNamespace,
	}
	env := []string{"KUBECONFIG=" + s.Kubeconfig}
	return s.sup.start(ctx, s.processSpec("gateway", s.bin("gateway"), args, env, s.GatewayURL+"/readyz"))
}

// serviceURLs is the --service-urls value of the manager and the gateway: every service at
// its loopback URL.
func (s *Stack) serviceURLs() string {
	pairs := make([]string, 0, len(stepclient.Services()))
	for _, name := range stepclient.Services() {
		pairs = append(pairs, name+"="+s.URLs[name])
	}
	return strings.Join(pairs, ",")
}

// processSpec runs bin as the child name, ready when readyURL answers 200. Every run
// takes the same arguments, hence the same ports.
func (s *Stack) processSpec(name, bin string, args, env []string, readyURL string) childSpec {
	logPath := s.logPath(name)
	return childSpec{
		name: name,
		log:  logPath,
		launch: func(context.Context) (runner, error) {
			p, err := start(name, bin, args, env, logPath)
			if err != nil {
				return nil, err
			}
			return p, nil
		},
		ready: func(ctx context.Context, r runner) error { return waitHTTP(ctx, r, readyURL, readyTimeout) },
	}
}

// StartService starts a service that StopProcess or KillProcess took down, on its port,
// and waits until it is ready; from then on the stack restarts it again when it exits.
func (s *Stack) StartService(ctx context.Context, name string) error { return s.sup.resume(ctx, name) }

// StartManager starts the manager after StopProcess or KillProcess, as StartService does.
func (s *Stack) StartManager(ctx context.Context) error { return s.sup.resume(ctx, "manager") }

// StartGateway starts the gateway after StopProcess or KillProcess, as StartService does.
func (s *Stack) StartGateway(ctx context.Context) error { return s.sup.resume(ctx, "gateway") }

// StopProcess stops one child ("manager", "gateway", a service or "mongo") gracefully and keeps it
// down, as scaling its Deployment to zero would, until StartService or StartManager.
func (s *Stack) StopProcess(name string) { s.sup.hold(name, false) }

// KillProcess stops one child with SIGKILL, as a crash would, and keeps it down like
// StopProcess. A child killed from outside (kill -9 $(cat PIDFile)) is restarted instead.
func (s *Stack) KillProcess(name string) { s.sup.hold(name, true) }

// PIDs returns the process IDs of the stack's children, for leak checks.
func (s *Stack) PIDs() []int { return s.sup.pids() }

// Stop stops the manager and the gateway first (so no call starts against a stopping
// service), then the services, the Mongo-compatible server and the control plane,
// restarting nothing once it has begun, and removes the PID files and the store's data.
func (s *Stack) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errStopped
	}
	s.stopped = true
	s.mu.Unlock()
	s.sup.shutdown([]string{"manager", "gateway"}, stepclient.Services(), []string{"mongo"})
	var errs []error
	if s.mongoLog != nil {
		errs = append(errs, s.mongoLog.Close())
	}
	if err := os.RemoveAll(s.mongoDataDir()); err != nil {
		errs = append(errs, fmt.Errorf("remove the store's data: %w", err))
	}
	if s.env != nil {
		errs = append(errs, s.env.Stop())
	}
	return errors.Join(errs...)
}

// WriteEnv writes the shell file that points kubectl and scripts at the stack.
func (s *Stack) WriteEnv(path string) error {
	lines := make([]string, 0, 6+len(stepclient.Services()))
	lines = append(lines,
		"# Written by the local stack (make run-local). Use: . "+path,
		"export KUBECONFIG="+shellQuote(s.Kubeconfig),
		"export MONGO_URI="+shellQuote(s.MongoURI),
		"export PATH="+shellQuote(filepath.Dir(s.Kubectl)+":"+filepath.Join(s.opts.StateDir, "bin"))+":\"$PATH\"",
	)
	for _, name := range stepclient.Services() {
		lines = append(lines, "export "+strings.ToUpper(name)+"_URL="+shellQuote(s.URLs[name]))
	}
	lines = append(lines,
		"export GATEWAY_URL="+shellQuote(s.GatewayURL),
		"# A token of ServiceAccount "+ShopNamespace+"/"+ShopFrontend+", for the gateway: Authorization: Bearer $SHOP_TOKEN",
		"export SHOP_TOKEN="+shellQuote(s.ShopToken),
	)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return fmt.Errorf("write the env file: %w", err)
	}
	return nil
}

func shellQuote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }
