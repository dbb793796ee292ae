package api_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

var (
	// cfg is the REST config of the test API server.
	cfg *rest.Config
	// k8sClient talks to the API server directly, without a cache.
	k8sClient client.Client
	// testEnv is the running control plane.
	testEnv *envtest.Environment
	// ctx is cancelled when the suite ends.
	ctx    context.Context
	cancel context.CancelFunc
)

func TestAPI(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "API Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background()) //nolint:fatcontext // the suite's one root context, set once before any spec

	assets := os.Getenv("KUBEBUILDER_ASSETS")
	Expect(assets).NotTo(BeEmpty(),
		"KUBEBUILDER_ASSETS is not set: run `make test`, or KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./test/api/")

	By("bootstrapping the test environment with the CRDs of config/crd/bases")
	testEnv = &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	var err error
	cfg, err = testEnv.Start()
	Expect(err).NotTo(HaveOccurred())

	s := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	Expect(sagav1alpha1.AddToScheme(s)).To(Succeed())
	k8sClient, err = client.New(cfg, client.Options{Scheme: s})
	Expect(err).NotTo(HaveOccurred())
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// newNamespace creates a namespace with a generated name for one test and returns the
// name. envtest runs no namespace controller: a fresh namespace per test keeps tests apart.
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}

// expectRefused asserts that err is the API server's Invalid error, that it names field and
// says want, and that nothing named name of kind was written in ns.
func expectRefused(err error, kind, ns, name, field, want string) {
	GinkgoHelper()
	Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got: %v", err)
	Expect(err.Error()).To(ContainSubstring(field+":"), "the error names the field")
	Expect(err.Error()).To(ContainSubstring(want))
	got := &unstructured.Unstructured{}
	got.SetGroupVersionKind(sagav1alpha1.GroupVersion.WithKind(kind))
	getErr := k8sClient.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, got)
	Expect(apierrors.IsNotFound(getErr)).To(BeTrue(), "nothing is written; Get: %v", getErr)
}

// kubectl runs the envtest kubectl (from KUBEBUILDER_ASSETS) as a cluster admin and returns
// its stdout; it fails the spec with both outputs when kubectl fails.
func kubectl(args ...string) string {
	GinkgoHelper()
	stdout, stderr, err := runKubectl(args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %v\nstdout:\n%s\nstderr:\n%s", args, stdout, stderr)
	return stdout
}

// runKubectl runs the envtest kubectl as a cluster admin and returns its outputs and error.
func runKubectl(args ...string) (stdout, stderr string, err error) {
	GinkgoHelper()
	user, err := testEnv.AddUser(envtest.User{Name: "admin", Groups: []string{"system:masters"}}, nil)
	Expect(err).NotTo(HaveOccurred())
	k, err := user.Kubectl()
	Expect(err).NotTo(HaveOccurred())
	outR, errR, runErr := k.Run(args...)
	out, _ := io.ReadAll(outR)
	errOut, _ := io.ReadAll(errR)
	return string(out), string(errOut), runErr
}
