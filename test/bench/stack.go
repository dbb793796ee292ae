package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/admission"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
)

// StackOptions configure the control plane the benchmark runs on.
type StackOptions struct {
	// Root is the repository's root, for config/crd/bases, config/admission and cmd/manager.
	Root string
	// Assets is KUBEBUILDER_ASSETS: kube-apiserver, etcd and kubectl.
	Assets string
	// Admission applies every YAML in AdmissionDir (the MutatingAdmissionPolicy that adds
	// the finalizer at create time) when that folder exists.
	Admission bool
	// AdmissionDir defaults to Root/config/admission.
	AdmissionDir string
	// APIServerArgs are extra kube-apiserver flags, "name=value" each (e.g.
	// "runtime-config=admissionregistration.k8s.io/v1beta1=true").
	APIServerArgs []string
}

// Stack is what every measurement shares: envtest's kube-apiserver and etcd (with their
// PIDs, for their CPU), an admin client for the benchmark's own creates and watch, and
// the fake services.
type Stack struct {
	Options StackOptions
	env     *envtest.Environment
	Config  *rest.Config // the admin user's
	Scheme  *runtime.Scheme
	Client  client.WithWatch
	Fake    *fakeservices.Services
	metrics *metricsScraper
	// bench counts the benchmark's own requests (creates, status patches, its watch), so
	// that they can be told apart from the manager's in the API server's count.
	bench     *requestCounter
	APIServer int // PID
	Etcd      int // PID
	Admission []string
	// AdmissionDelay is how long after the policies were created a new OrderSaga first came
	// back with the finalizer.
	AdmissionDelay time.Duration
	namespaces     int
	kubeconfig     []byte
	workDir        string // the manager binary, its kubeconfig and logs
	managerBin     string
}

// StartStack starts the control plane, installs the CRDs (and the admission policy when
// asked) and starts the fake services.
func StartStack(ctx context.Context, o StackOptions) (*Stack, error) {
	if o.Assets == "" {
		return nil, errors.New("KUBEBUILDER_ASSETS is not set: run `make bench`")
	}
	s := &Stack{Options: o, Scheme: runtime.NewScheme()}
	if err := clientgoscheme.AddToScheme(s.Scheme); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	if err := v1.AddToScheme(s.Scheme); err != nil {
		return nil, fmt.Errorf("scheme: %w", err)
	}
	s.env = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join(o.Root, "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: o.Assets,
	}
	for _, arg := range o.APIServerArgs {
		name, value, _ := strings.Cut(arg, "=")
		s.env.ControlPlane.GetAPIServer().Configure().Append(strings.TrimPrefix(name, "--"), value)
	}
	cfg, err := s.env.Start()
	if err != nil {
		return nil, fmt.Errorf("start envtest: %w", err)
	}
	if err := s.afterStart(ctx, cfg); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

func (s *Stack) afterStart(ctx context.Context, cfg *rest.Config) error {
	s.Config = rest.CopyConfig(cfg)
	// The benchmark's clients must never be the bottleneck: client-go's default limit
	// (5 QPS) would cap every figure.
	s.Config.QPS, s.Config.Burst = 10000, 20000
	var err error
	// The scraper's own GETs of /metrics are not the benchmark's load: it is built first,
	// without the counting transport.
	if s.metrics, err = newMetricsScraper(s.Config); err != nil {
		return err
	}
	s.bench = newRequestCounter()
	s.Config.WrapTransport = s.bench.Wrap
	if s.Client, err = client.NewWithWatch(s.Config, client.Options{Scheme: s.Scheme}); err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	if s.APIServer, err = childByName("kube-apiserver"); err != nil {
		return err
	}
	if s.Etcd, err = childByName("etcd"); err != nil {
		return err
	}
	if s.Options.Admission {
		dir := cmp.Or(s.Options.AdmissionDir, filepath.Join(s.Options.Root, "config", "admission"))
		ns, err := s.NewNamespace(ctx, "admission-probe")
		if err != nil {
			return err
		}
		applied, err := admission.Apply(ctx, s.Client, dir, admission.ProbeSample(s.Options.Root), ns)
		if err != nil {
			return fmt.Errorf("%w (if the kind is not served, pass -bench.apiserver-args)", err)
		}
		s.Admission, s.AdmissionDelay = applied.Files, applied.Delay
	}
	if s.workDir, err = os.MkdirTemp("", "sagabench-"); err != nil {
		return fmt.Errorf("work dir: %w", err)
	}
	s.Fake = fakeservices.Start()
	return nil
}

// Stop stops the fake services and the control plane.
func (s *Stack) Stop() {
	if s.Fake != nil {
		s.Fake.Close()
	}
	_ = s.env.Stop()
	if s.workDir != "" {
		_ = os.RemoveAll(s.workDir)
	}
}

// NewNamespace creates a fresh namespace for one measurement, named after it.
func (s *Stack) NewNamespace(ctx context.Context, purpose string) (string, error) {
	s.namespaces++
	name := fmt.Sprintf("bench-%02d-%s", s.namespaces, dnsLabel(purpose))
	if err := s.Client.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		return "", fmt.Errorf("create namespace %s: %w", name, err)
	}
	return name, nil
}

// AdminKubeconfig returns a kubeconfig of an admin user, for a manager in its own
// process; the user is added once.
func (s *Stack) AdminKubeconfig() ([]byte, error) {
	if s.kubeconfig != nil {
		return s.kubeconfig, nil
	}
	user, err := s.env.AddUser(envtest.User{Name: "bench-manager", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return nil, fmt.Errorf("add user: %w", err)
	}
	kc, err := user.KubeConfig()
	if err != nil {
		return nil, fmt.Errorf("render kubeconfig: %w", err)
	}
	s.kubeconfig = kc
	return kc, nil
}

// dnsLabel makes s fit a namespace name: lower case letters, digits and dashes.
func dnsLabel(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
	return strings.Trim(s[:min(len(s), 50)], "-")
}
