/*
Copyright 2026 The OrderSaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package controllers

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// These tests run against a real kube-apiserver and etcd (envtest) with the CRDs from
// config/crd/bases. KUBEBUILDER_ASSETS names the folder of the binaries; `make test` sets
// it, by hand: KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./controllers/...

var (
	// cfg is the REST config of the test API server.
	cfg *rest.Config
	// k8sClient talks to the API server directly, without a cache.
	k8sClient client.Client
	// testEnv is the running control plane.
	testEnv *envtest.Environment
	// ctx is cancelled when the suite ends; cancel stops anything started with it.
	ctx    context.Context
	cancel context.CancelFunc
	// testScheme knows the built-in kinds and the OrderSaga API.
	testScheme *runtime.Scheme
)

func TestControllers(t *testing.T) {
	RegisterFailHandler(Fail)
	RunSpecs(t, "Controllers Suite")
}

var _ = BeforeSuite(func() {
	logf.SetLogger(GinkgoLogr)
	ctx, cancel = context.WithCancel(context.Background()) //nolint:fatcontext // the suite's one root context, set once before any spec

	testScheme = newTestScheme()
	testEnv, cfg = startTestEnv()
	k8sClient = newDirectClient(cfg, testScheme)

	By("starting the manager that runs every saga not isolated by a test")
	shared()
})

var _ = AfterSuite(func() {
	if cancel != nil {
		cancel()
	}
	if testEnv != nil {
		Expect(testEnv.Stop()).To(Succeed())
	}
})

// newTestScheme returns a scheme with the client-go kinds and the OrderSaga API.
func newTestScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	Expect(clientgoscheme.AddToScheme(s)).To(Succeed())
	Expect(sagav1alpha1.AddToScheme(s)).To(Succeed())
	return s
}

// startTestEnv starts kube-apiserver and etcd from KUBEBUILDER_ASSETS and installs the
// CRDs from config/crd/bases. It does not start a manager.
func startTestEnv() (*envtest.Environment, *rest.Config) {
	assets := os.Getenv("KUBEBUILDER_ASSETS")
	Expect(assets).NotTo(BeEmpty(),
		"KUBEBUILDER_ASSETS is not set: run `make test`, or KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./controllers/...")

	By("bootstrapping the test environment")
	env := &envtest.Environment{
		CRDDirectoryPaths:     []string{filepath.Join("..", "config", "crd", "bases")},
		ErrorIfCRDPathMissing: true,
		BinaryAssetsDirectory: assets,
	}
	restCfg, err := env.Start()
	Expect(err).NotTo(HaveOccurred())
	Expect(restCfg).NotTo(BeNil())
	return env, restCfg
}

// newDirectClient returns an uncached client: reads see every write at once.
func newDirectClient(restCfg *rest.Config, s *runtime.Scheme) client.Client {
	c, err := client.New(restCfg, client.Options{Scheme: s})
	Expect(err).NotTo(HaveOccurred())
	Expect(c).NotTo(BeNil())
	return c
}

// newNamespace creates a namespace with a generated name for one test and returns the
// name. envtest runs no namespace controller, so namespaces are not deleted afterwards:
// a fresh namespace per test is what keeps tests apart.
func newNamespace() string {
	GinkgoHelper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "test-"}}
	Expect(k8sClient.Create(ctx, ns)).To(Succeed())
	return ns.Name
}
