package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// The command is tested end to end against a real API server (envtest): the kubeconfig
// the tests pass is that of an envtest user. KUBEBUILDER_ASSETS names the envtest
// binaries (`make test` sets it; by hand KUBEBUILDER_ASSETS=$(hack/envtest.sh)).

var (
	// kube talks to the API server directly, without a cache.
	kube client.Client
	// kubeconfig is the path of a kubeconfig file for the API server, with no namespace in
	// its context.
	kubeconfig string
	// testEnv is the envtest environment, for tests that add users of their own.
	testEnv *envtest.Environment
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	if assets == "" {
		fmt.Fprintln(os.Stderr, "KUBEBUILDER_ASSETS is not set: run `make test`, or KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./cmd/sagactl/")
		return 1
	}
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	if _, err := env.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "start envtest:", err)
		return 1
	}
	defer func() { _ = env.Stop() }()
	testEnv = env
	if err := setUp(env); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer func() { _ = os.RemoveAll(filepath.Dir(kubeconfig)) }() // a leftover temp dir is harmless
	return m.Run()
}

// setUp creates the direct client and writes the kubeconfig file of an admin user.
func setUp(env *envtest.Environment) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("add client-go kinds to the scheme: %w", err)
	}
	if err := v1.AddToScheme(scheme); err != nil {
		return err
	}
	user, err := env.AddUser(envtest.User{Name: "sagactl-test", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return fmt.Errorf("add envtest user: %w", err)
	}
	if kube, err = client.New(user.Config(), client.Options{Scheme: scheme}); err != nil {
		return fmt.Errorf("client: %w", err)
	}
	b, err := user.KubeConfig()
	if err != nil {
		return fmt.Errorf("kubeconfig: %w", err)
	}
	dir, err := os.MkdirTemp("", "sagactl-test-")
	if err != nil {
		return fmt.Errorf("kubeconfig dir: %w", err)
	}
	kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(kubeconfig, b, 0o600); err != nil {
		return fmt.Errorf("write kubeconfig: %w", err)
	}
	return nil
}

// kubeconfigWithNamespace writes a copy of the kubeconfig file path whose context names ns.
func kubeconfigWithNamespace(t *testing.T, path, ns string) string {
	t.Helper()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("load kubeconfig: %v", err)
	}
	cfg.Contexts[cfg.CurrentContext].Namespace = ns
	out := filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		t.Fatalf("write kubeconfig: %v", err)
	}
	return out
}

// newNamespace creates a namespace for one test (envtest never deletes namespaces).
func newNamespace(t *testing.T) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "sagactl-"}}
	if err := kube.Create(t.Context(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// result is what one invocation printed and returned.
type result struct {
	stdout, stderr string
	code           int
}

// invocation runs the command in-process with a fixed clock and environment.
type invocation struct {
	env   map[string]string
	now   time.Time
	stdin string
}

func (inv invocation) run(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	a := &app{prog: "sagactl", stdin: strings.NewReader(inv.stdin), stdout: &out, stderr: &errOut, pollInterval: 20 * time.Millisecond, getenv: func(k string) string { return inv.env[k] },
		now: func() time.Time {
			if inv.now.IsZero() {
				return time.Now()
			}
			return inv.now
		}}
	code := a.exitCode(a.execute(t.Context(), args))
	return result{stdout: out.String(), stderr: errOut.String(), code: code}
}

// createSaga creates a saga and drives it with the real engine, each call answered by
// script and taking 10ms from start, then writes the status it reached.
func createSaga(t *testing.T, ns, name string, start time.Time, script func(saga.Call) saga.Outcome, opts ...testgen.OrderSagaOption) *v1.OrderSaga {
	t.Helper()
	obj := testgen.OrderSaga(name, append([]testgen.OrderSagaOption{testgen.WithNamespace(ns)}, opts...)...)
	if err := kube.Create(t.Context(), obj); err != nil {
		t.Fatalf("create saga: %v", err)
	}
	drive(obj, start, script)
	if err := kube.Status().Update(t.Context(), obj); err != nil {
		t.Fatalf("write saga status: %v", err)
	}
	return obj
}

// drive runs the engine as the controller does until it has to wait or is done.
func drive(obj *v1.OrderSaga, start time.Time, script func(saga.Call) saga.Outcome) {
	driveRun(func() saga.View { return ordersaga.ViewOf(obj) },
		func(d saga.Decision, out saga.Outcome, now time.Time) { ordersaga.Record(obj, d, out, now) }, start, script)
}

// driveRun runs the engine on the saga that view shows and record writes, each call
// answered by script and taking 10ms, until it has to wait or is done.
func driveRun(view func() saga.View, record func(saga.Decision, saga.Outcome, time.Time), start time.Time, script func(saga.Call) saga.Outcome) {
	now := start
	for range 60 {
		d := saga.Next(view(), now)
		var out saga.Outcome
		if d.Kind == saga.KindCall {
			now = now.Add(10 * time.Millisecond)
			out = script(*d.Call)
		}
		record(d, out, now)
		if d.Kind != saga.KindCall && !d.Continue() {
			return
		}
	}
}

// script answers each call with ok, except the calls named in failures
// ("ReserveInventory/action"), which fail for business reasons with that code.
func script(orderID string, failures map[string]string) func(saga.Call) saga.Outcome {
	return func(c saga.Call) saga.Outcome {
		if code, ok := failures[string(c.Step)+"/"+string(c.Direction)]; ok {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: code, Message: strings.ToLower(strings.ReplaceAll(code, "_", " "))}
		}
		out := saga.Outcome{Kind: saga.Succeeded}
		if c.Step == v1.StepCreateOrder && c.Direction == saga.Action {
			out.Outputs = map[string]string{"orderId": orderID}
		}
		return out
	}
}
