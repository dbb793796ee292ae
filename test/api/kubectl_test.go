package api_test

import (
	"os"
	"path/filepath"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// column is what a test compares of a printer column.
type column struct {
	Name, JSONPath, Type string
	Priority             int32
}

var _ = Describe("SagaDefinition and Saga in kubectl", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	DescribeTable("installs the CRD with its names, category, columns and status subresource",
		func(name, shortName string, categories []string, columns []column) {
			crds, err := apiextensionsclient.NewForConfig(cfg)
			Expect(err).NotTo(HaveOccurred())
			crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().Get(ctx, name, metav1.GetOptions{})
			Expect(err).NotTo(HaveOccurred())

			Expect(crd.Spec.Scope).To(Equal(apiextensionsv1.NamespaceScoped))
			Expect(crd.Spec.Names.ShortNames).To(ConsistOf(shortName))
			Expect(crd.Spec.Names.Categories).To(Equal(categories))
			Expect(crd.Spec.Versions).To(HaveLen(1))
			version := crd.Spec.Versions[0]
			Expect(version.Subresources).NotTo(BeNil())
			Expect(version.Subresources.Status).NotTo(BeNil())
			got := make([]column, 0, len(version.AdditionalPrinterColumns))
			for _, c := range version.AdditionalPrinterColumns {
				got = append(got, column{Name: c.Name, JSONPath: c.JSONPath, Type: c.Type, Priority: c.Priority})
			}
			Expect(got).To(Equal(columns))
		},
		Entry("SagaDefinition", "sagadefinitions.saga.ordersaga.io", "sagadef", []string(nil), []column{
			{"Ready", `.status.conditions[?(@.type=="Ready")].status`, "string", 0},
			{"Pivot", ".spec.steps[?(@.pivot==true)].name", "string", 1},
			{"Age", ".metadata.creationTimestamp", "date", 0},
			{"Message", `.status.conditions[?(@.type=="Ready")].message`, "string", 1},
		}),
		Entry("Saga", "sagas.saga.ordersaga.io", "saga", []string{"sagas"}, []column{
			{"Definition", ".spec.definitionRef.name", "string", 0},
			{"Phase", ".status.phase", "string", 0},
			{"Step", ".status.currentStep", "string", 0},
			{"Age", ".metadata.creationTimestamp", "date", 0},
			{"Attempts", ".status.attempts", "integer", 1},
			{"Message", ".status.message", "string", 1},
		}),
	)

	It("prints a definition's columns, the pivot among them", func() {
		Expect(k8sClient.Create(ctx, newDefinition(ns))).To(Succeed())
		out := kubectl("get", "sagadef", "-n", ns, "-o", "wide")
		Expect(out).To(MatchRegexp(`(?m)^NAME\s+READY\s+PIVOT\s+AGE\s+MESSAGE\s*$`))
		Expect(out).To(MatchRegexp(`(?m)^order-fulfilment\s+Confirm\s+\S+\s*$`))
	})

	It("prints a saga's columns", func() {
		Expect(k8sClient.Create(ctx, newSaga(ns))).To(Succeed())
		out := kubectl("get", "saga", "-n", ns, "-o", "wide")
		Expect(out).To(MatchRegexp(`(?m)^NAME\s+DEFINITION\s+PHASE\s+STEP\s+AGE\s+ATTEMPTS\s+MESSAGE\s*$`))
		Expect(out).To(MatchRegexp(`(?m)^order-1001\s+order-fulfilment\s+\S+\s*$`))
	})

	// kubectl expands a category before it looks for a resource of that name, so the plural
	// of Saga, "sagas", is the category and names both kinds; "saga" (the singular, and the
	// short name) and sagas.saga.ordersaga.io name Sagas alone.
	It("lists OrderSagas and Sagas for `kubectl get sagas`, and Sagas alone for `kubectl get saga`", func() {
		Expect(k8sClient.Create(ctx, newSaga(ns))).To(Succeed())
		sample, err := os.ReadFile(filepath.Join("..", "..", "config", "samples", "saga_v1alpha1_ordersaga_completed.yaml"))
		Expect(err).NotTo(HaveOccurred())
		orderSaga := fromYAML(string(sample))
		orderSaga.SetNamespace(ns)
		Expect(k8sClient.Create(ctx, orderSaga)).To(Succeed())

		out := kubectl("get", "sagas", "-n", ns)
		Expect(out).To(ContainSubstring("ordersaga.saga.ordersaga.io/" + orderSaga.GetName()))
		Expect(out).To(ContainSubstring("saga.saga.ordersaga.io/order-1001"))

		for _, resource := range []string{"saga", "sagas.saga.ordersaga.io"} {
			out = kubectl("get", resource, "-n", ns, "-o", "name")
			Expect(out).To(Equal("saga.saga.ordersaga.io/order-1001\n"), "kubectl get %s", resource)
		}

		By("naming one object through the category, which kubectl refuses")
		_, stderr, err := runKubectl("get", "sagas", "order-1001", "-n", ns)
		Expect(err).To(HaveOccurred())
		Expect(stderr).To(ContainSubstring("you must specify only one resource"))
	})
})
