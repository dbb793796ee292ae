package controllers

import (
	"os"
	"path/filepath"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// The finalizer is added either by the MutatingAdmissionPolicy in config/admission, at
// create, or by the controller, before the first call. These specs run the policy as
// shipped, with its binding narrowed to one labelled namespace so that every other spec
// keeps checking the controller's own path.
var _ = Describe("The finalizer admission policy", Ordered, func() {
	const policyLabel = "ordersaga-test/finalizer-policy"
	var policyNS, plainNS string

	BeforeAll(func() {
		policy, binding := shippedFinalizerPolicy()
		binding.Spec.MatchResources = &admissionv1.MatchResources{
			NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{policyLabel: "on"}},
		}
		Expect(k8sClient.Create(ctx, policy)).To(Succeed())
		Expect(k8sClient.Create(ctx, binding)).To(Succeed())
		DeferCleanup(func() {
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, binding))).To(Succeed())
			Expect(client.IgnoreNotFound(k8sClient.Delete(ctx, policy))).To(Succeed())
		})
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "policy-", Labels: map[string]string{policyLabel: "on"}}}
		Expect(k8sClient.Create(ctx, ns)).To(Succeed())
		policyNS, plainNS = ns.Name, newNamespace()

		By("waiting until the API server enforces the policy (it loads policies asynchronously)")
		Eventually(func(g Gomega) []string {
			probe := testgen.OrderSaga("", testgen.WithNamespace(policyNS), testgen.WithSuspend(true))
			probe.GenerateName, probe.Name = "probe-", ""
			g.Expect(k8sClient.Create(ctx, probe)).To(Succeed())
			return probe.Finalizers
		}, 30*time.Second, 200*time.Millisecond).Should(ContainElement(Finalizer))
	})

	It("adds the finalizer at create, and the controller then writes nothing but status", func() {
		obj := testgen.OrderSaga("order-admitted", testgen.WithNamespace(policyNS))
		Expect(k8sClient.Create(ctx, obj, client.FieldOwner(shop))).To(Succeed())
		Expect(obj.Finalizers).To(ConsistOf(Finalizer), "the create's own answer carries the finalizer")
		done := waitForPhase(obj, v1.PhaseCompleted)
		Expect(metadataUpdates(done)).To(BeEmpty(), "no finalizer patch: the policy added it")
	})

	It("keeps a finalizer someone else asked for", func() {
		obj := testgen.OrderSaga("order-other-finalizer", testgen.WithNamespace(policyNS), testgen.WithSuspend(true),
			testgen.WithFinalizers("example.com/keep"))
		Expect(k8sClient.Create(ctx, obj)).To(Succeed())
		Expect(obj.Finalizers).To(ConsistOf("example.com/keep", Finalizer))
	})

	It("leaves the controller's own finalizer write as the fallback where the policy does not apply", func() {
		obj := testgen.OrderSaga("order-plain", testgen.WithNamespace(plainNS))
		Expect(k8sClient.Create(ctx, obj, client.FieldOwner(shop))).To(Succeed())
		Expect(obj.Finalizers).To(BeEmpty())
		done := waitForPhase(obj, v1.PhaseCompleted)
		Expect(done.Finalizers).To(ConsistOf(Finalizer))
		Expect(metadataUpdates(done)).To(HaveLen(1), "the controller added the finalizer itself")
	})
})

// shippedFinalizerPolicy reads the policy and its binding from config/admission.
func shippedFinalizerPolicy() (*admissionv1.MutatingAdmissionPolicy, *admissionv1.MutatingAdmissionPolicyBinding) {
	GinkgoHelper()
	f, err := os.Open(filepath.Join("..", "config", "admission", "finalizer-policy.yaml"))
	Expect(err).NotTo(HaveOccurred())
	defer func() { _ = f.Close() }()
	dec := yaml.NewYAMLOrJSONDecoder(f, 4096)
	policy, binding := &admissionv1.MutatingAdmissionPolicy{}, &admissionv1.MutatingAdmissionPolicyBinding{}
	Expect(dec.Decode(policy)).To(Succeed())
	Expect(dec.Decode(binding)).To(Succeed())
	Expect(policy.Kind).To(Equal("MutatingAdmissionPolicy"))
	Expect(binding.Kind).To(Equal("MutatingAdmissionPolicyBinding"))
	return policy, binding
}

// shop is the field manager of the specs' creates, so that the controller's own writes
// (same binary, same default manager name) have entries of their own in managedFields.
const shop = "shop-frontend"

// metadataUpdates are the managedFields entries of writes to the saga itself (not its
// status) by anyone but the shop that created it: the controller's finalizer patch is one.
func metadataUpdates(obj *v1.OrderSaga) []metav1.ManagedFieldsEntry {
	var out []metav1.ManagedFieldsEntry
	for _, e := range obj.ManagedFields {
		if e.Manager != shop && e.Subresource == "" {
			out = append(out, e)
		}
	}
	return out
}
