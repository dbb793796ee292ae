package chart_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// cluster is the envtest control plane the tests share: a real kube-apiserver and etcd, no
// controllers (no pod ever runs), the OrderSaga CRD and a stub of the ServiceMonitor CRD.
type cluster struct {
	env        *envtest.Environment
	client     client.Client
	kubeconfig string // file with an admin user's credentials, for helm
}

var (
	clusterOnce sync.Once
	shared      *cluster
	errCluster  error
)

func TestMain(m *testing.M) {
	logf.SetLogger(logr.Discard())
	code := m.Run()
	if shared != nil {
		if err := shared.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
		}
		_ = os.RemoveAll(filepath.Dir(shared.kubeconfig))
	}
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// testCluster starts the shared control plane on first use. Without KUBEBUILDER_ASSETS it
// fails the test: these checks must not be skipped quietly.
func testCluster(t *testing.T) *cluster {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		t.Fatal("KUBEBUILDER_ASSETS is not set: run `make test`, or " +
			"KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/chart/")
	}
	clusterOnce.Do(func() { shared, errCluster = startCluster(repoRoot(t)) })
	if errCluster != nil {
		t.Fatalf("start envtest: %v", errCluster)
	}
	return shared
}

func startCluster(root string) (*cluster, error) {
	env := &envtest.Environment{
		CRDDirectoryPaths: []string{
			filepath.Join(root, "config", "crd", "bases"),
			filepath.Join(root, "test", "chart", "testdata", "crds"),
		},
		ErrorIfCRDPathMissing: true,
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, fmt.Errorf("control plane: %w", err)
	}
	c := &cluster{env: env}
	stop := func(err error) (*cluster, error) {
		_ = env.Stop()
		return nil, err
	}
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return stop(err)
	}
	if c.client, err = client.New(cfg, client.Options{Scheme: scheme}); err != nil {
		return stop(err)
	}
	admin, err := env.AddUser(envtest.User{Name: "chart-test-admin", Groups: []string{"system:masters"}}, nil)
	if err != nil {
		return stop(err)
	}
	kubeconfig, err := admin.KubeConfig()
	if err != nil {
		return stop(err)
	}
	dir, err := os.MkdirTemp("", "ordersaga-chart-test-")
	if err != nil {
		return stop(err)
	}
	c.kubeconfig = filepath.Join(dir, "kubeconfig")
	if err := os.WriteFile(c.kubeconfig, kubeconfig, 0o600); err != nil {
		return stop(err)
	}
	return c, nil
}

// createNamespace creates ns for real (dry-run objects need their namespace to exist).
func (c *cluster) createNamespace(t *testing.T, ns string) {
	t.Helper()
	err := c.client.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("create namespace %s: %v", ns, err)
	}
}

// dryRun sends every object to the API server with server-side dry-run and strict field
// validation, so that the server's schemas, defaulting, validation and admission judge each
// one; nothing is stored. Namespaced objects without a namespace go to ns, which is created
// for real first, as is every other namespace the objects name.
func (c *cluster) dryRun(t *testing.T, ns string, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx := context.Background()
	c.createNamespace(t, ns)
	for _, o := range objs {
		namespaced, err := c.client.IsObjectNamespaced(o)
		if err != nil {
			t.Errorf("%s %s: the API server does not know this kind: %v", o.GetKind(), o.GetName(), err)
			continue
		}
		if namespaced && o.GetNamespace() == "" {
			o.SetNamespace(ns)
		}
		if namespaced {
			c.createNamespace(t, o.GetNamespace())
		}
		if err := c.dryRunOne(ctx, o); err != nil {
			t.Errorf("%s %s/%s refused by the API server: %v", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
	}
}

// dryRunOne creates o with dry-run; an object that already exists (the CRD, which envtest
// installed) is dry-run updated instead.
func (c *cluster) dryRunOne(ctx context.Context, o *unstructured.Unstructured) error {
	strict := client.FieldValidation(metav1.FieldValidationStrict)
	obj := o.DeepCopy()
	err := c.client.Create(ctx, obj, client.DryRunAll, strict)
	if err == nil {
		return nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("dry-run create: %w", err)
	}
	live := &unstructured.Unstructured{}
	live.SetGroupVersionKind(o.GroupVersionKind())
	if err := c.client.Get(ctx, client.ObjectKeyFromObject(o), live); err != nil {
		return fmt.Errorf("read the existing object: %w", err)
	}
	obj = o.DeepCopy()
	obj.SetResourceVersion(live.GetResourceVersion())
	if err := c.client.Update(ctx, obj, client.DryRunAll, strict); err != nil {
		return fmt.Errorf("dry-run update: %w", err)
	}
	return nil
}
