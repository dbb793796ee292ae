package api_test

import (
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// exampleSaga runs the example definition.
const exampleSaga = `
apiVersion: saga.ordersaga.io/v1alpha1
kind: Saga
metadata: {name: order-1001}
spec:
  definitionRef: {name: order-fulfilment}
  input:
    customerId: cust-0001
    items: [{productId: LAP-001, quantity: 1}]
`

// newSaga returns the example saga in ns.
func newSaga(ns string) *unstructured.Unstructured {
	s := fromYAML(exampleSaga)
	s.SetNamespace(ns)
	return s
}

var _ = Describe("Saga API", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	DescribeTable("refuses an invalid Saga, naming the field, and writes nothing",
		func(mutate mutation, field, want string) {
			saga := newSaga(ns)
			mutate(saga.Object["spec"].(map[string]any))
			err := k8sClient.Create(ctx, saga)
			expectRefused(err, "Saga", ns, saga.GetName(), field, want)
		},
		Entry("no definitionRef", unset("definitionRef"), "spec.definitionRef", "Required value"),
		Entry("empty definitionRef.name", set("definitionRef.name", ""), "spec.definitionRef.name", "should be at least 1 chars long"),
		Entry(`definitionRef.name "Order_Fulfilment"`, set("definitionRef.name", "Order_Fulfilment"), "spec.definitionRef.name",
			"definitionRef.name must be the name of a SagaDefinition"),
		Entry("definitionRef.name of 254 characters", set("definitionRef.name", strings.Repeat("a", 254)),
			"spec.definitionRef.name", "may not be more than 253 bytes"),
		Entry("input a string", set("input", "cust-0001"), "spec.input", `must be of type object: "string"`),
		Entry("input a list", set("input", []any{"cust-0001"}), "spec.input", `must be of type object: "array"`),
		Entry("input a number", set("input", int64(42)), "spec.input", `must be of type object: "integer"`),
		Entry("ttlSecondsAfterFinished -1", set("ttlSecondsAfterFinished", int64(-1)), "spec.ttlSecondsAfterFinished",
			"should be greater than or equal to 0"),
		Entry(`suspend "yes"`, set("suspend", "yes"), "spec.suspend", `must be of type boolean`),
	)

	It("accepts a Saga without input, and takes input: null as none", func() {
		saga := newSaga(ns)
		saga.Object["spec"].(map[string]any)["input"] = nil
		Expect(k8sClient.Create(ctx, saga)).To(Succeed())
		Expect(saga.Object["spec"]).NotTo(HaveKey("input"))
	})

	Context("after creation", func() {
		var saga *unstructured.Unstructured

		BeforeEach(func() {
			saga = newSaga(ns)
			Expect(k8sClient.Create(ctx, saga)).To(Succeed())
		})

		DescribeTable("refuses a change to definitionRef or input, naming it",
			func(patch, field, want string) {
				err := k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))
				Expect(err).To(HaveOccurred())
				Expect(err.Error()).To(ContainSubstring(field + ": Invalid value"))
				Expect(err.Error()).To(ContainSubstring(want))
			},
			Entry("definitionRef.name", `{"spec":{"definitionRef":{"name":"other"}}}`, "spec.definitionRef",
				"definitionRef is immutable: create a new Saga to run another definition"),
			Entry("a value in input", `{"spec":{"input":{"customerId":"cust-0002"}}}`, "spec.input",
				"input is immutable: create a new Saga to run with other input"),
			Entry("a field added to input", `{"spec":{"input":{"note":"gift"}}}`, "spec.input", "input is immutable"),
			Entry("input removed", `{"spec":{"input":null}}`, "spec.input", "input is immutable"),
		)

		It("accepts changes to suspend and ttlSecondsAfterFinished, and back", func() {
			patch := `{"spec":{"suspend":true,"ttlSecondsAfterFinished":300}}`
			Expect(k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
			Expect(saga.Object["spec"]).To(HaveKeyWithValue("suspend", true))
			Expect(saga.Object["spec"]).To(HaveKeyWithValue("ttlSecondsAfterFinished", int64(300)))

			patch = `{"spec":{"suspend":false,"ttlSecondsAfterFinished":null}}`
			Expect(k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
			Expect(saga.Object["spec"]).To(HaveKeyWithValue("suspend", false))
			Expect(saga.Object["spec"]).NotTo(HaveKey("ttlSecondsAfterFinished"))
		})

		It("accepts a Go client's read-modify-write of suspend", func() {
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got := &sagav1alpha1.Saga{}
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(saga), got); err != nil {
					return err //nolint:wrapcheck // RetryOnConflict matches the API status error itself
				}
				got.Spec.Suspend = true
				return k8sClient.Update(ctx, got)
			})).To(Succeed())
		})
	})
})
