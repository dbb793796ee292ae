package api_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// specChange is one change to a created definition's spec, as a JSON patch, and the field
// the API server's refusal names.
type specChange struct {
	name  string
	patch string
	field string
	// covers are the fields whose immutability rule the change tests: spec.<json name>,
	// step.<json name> or retryPolicy.<json name>.
	covers []string
}

// specChanges holds a change to every field of the spec and of a step; "covers every
// field" fails when a new field has none, that is when it may lack an immutability rule.
var specChanges = []specChange{
	{"input schema", `[{"op":"replace","path":"/spec/input/openAPIV3Schema/required","value":["customerId"]}]`,
		"spec.input", []string{"spec.input"}},
	{"retryPolicy.maxAttempts", `[{"op":"replace","path":"/spec/retryPolicy/maxAttempts","value":6}]`,
		"spec.retryPolicy", []string{"spec.retryPolicy", "retryPolicy.maxAttempts"}},
	{"retryPolicy.initialBackoff", `[{"op":"replace","path":"/spec/retryPolicy/initialBackoff","value":"2s"}]`,
		"spec.retryPolicy", []string{"retryPolicy.initialBackoff"}},
	{"retryPolicy.maxBackoff", `[{"op":"replace","path":"/spec/retryPolicy/maxBackoff","value":"2m"}]`,
		"spec.retryPolicy", []string{"retryPolicy.maxBackoff"}},
	{"stepTimeout", `[{"op":"replace","path":"/spec/stepTimeout","value":"20s"}]`, "spec.stepTimeout", []string{"spec.stepTimeout"}},
	{"a step added", `[{"op":"add","path":"/spec/steps/-","value":{"name":"Extra","service":"x","action":{"method":"GET","path":"\"/\""}}}]`,
		"spec.steps", []string{"spec.steps"}},
	{"a step removed", `[{"op":"remove","path":"/spec/steps/2"}]`, "spec.steps", nil},
	{"a step renamed", `[{"op":"replace","path":"/spec/steps/2/name","value":"Notice"}]`, "spec.steps", []string{"step.name"}},
	{"steps reordered", `[{"op":"move","from":"/spec/steps/2","path":"/spec/steps/1"}]`, "spec.steps", nil},
	{"onRollback.when", `[{"op":"replace","path":"/spec/onRollback/when","value":"false"}]`, "spec.onRollback", []string{"spec.onRollback"}},
	{"onRollback removed", `[{"op":"remove","path":"/spec/onRollback"}]`, "spec.onRollback", nil},
	{"a failureReason added", `[{"op":"add","path":"/spec/failureReasons/HTTP_409","value":"Conflict"}]`,
		"spec.failureReasons", []string{"spec.failureReasons"}},
	{"failureReasons removed", `[{"op":"remove","path":"/spec/failureReasons"}]`, "spec.failureReasons", nil},
	{"a step's service", `[{"op":"replace","path":"/spec/steps/0/service","value":"stock"}]`, "spec.steps[0].service", []string{"step.service"}},
	{"a step's action body", `[{"op":"replace","path":"/spec/steps/0/action/body","value":"{}"}]`, "spec.steps[0].action", []string{"step.action"}},
	{"a step's action method", `[{"op":"replace","path":"/spec/steps/2/action/method","value":"POST"}]`, "spec.steps[2].action", nil},
	{"a step's compensation removed", `[{"op":"remove","path":"/spec/steps/0/compensation"}]`,
		"spec.steps[0].compensation", []string{"step.compensation"}},
	{"a step's compensation path", `[{"op":"replace","path":"/spec/steps/0/compensation/path","value":"\"/\""}]`,
		"spec.steps[0].compensation", nil},
	{"the pivot unset", `[{"op":"replace","path":"/spec/steps/1/pivot","value":false}]`, "spec.steps[1].pivot", []string{"step.pivot"}},
	{"a pivot set on a step without", `[{"op":"remove","path":"/spec/steps/1/pivot"},{"op":"replace","path":"/spec/steps/0/pivot","value":true}]`,
		"spec.steps[0].pivot", nil},
	{"forwardOnly removed", `[{"op":"remove","path":"/spec/steps/2/forwardOnly"}]`, "spec.steps[2].forwardOnly", []string{"step.forwardOnly"}},
	{"an output changed", `[{"op":"replace","path":"/spec/steps/0/outputs/reservationId","value":"response.body.id"}]`,
		"spec.steps[0].outputs", []string{"step.outputs"}},
	{"an output added to empty outputs", `[{"op":"add","path":"/spec/steps/2/outputs/id","value":"response.body.id"}]`,
		"spec.steps[2].outputs", nil},
	{"businessFailure", `[{"op":"replace","path":"/spec/steps/0/businessFailure","value":"false"}]`,
		"spec.steps[0].businessFailure", []string{"step.businessFailure"}},
	{"transient added", `[{"op":"add","path":"/spec/steps/1/transient","value":"true"}]`,
		"spec.steps[1].transient", []string{"step.transient"}},
	{"a step's retryPolicy.maxAttempts", `[{"op":"replace","path":"/spec/steps/0/retryPolicy/maxAttempts","value":4}]`,
		"spec.steps[0].retryPolicy", []string{"step.retryPolicy"}},
	{"a step's retryPolicy.maxBackoff", `[{"op":"replace","path":"/spec/steps/0/retryPolicy/maxBackoff","value":"30s"}]`,
		"spec.steps[0].retryPolicy", nil},
	{"a step's retryPolicy added", `[{"op":"add","path":"/spec/steps/1/retryPolicy","value":{"maxAttempts":2}}]`,
		"spec.steps[1].retryPolicy", nil},
	{"a step's timeout", `[{"op":"replace","path":"/spec/steps/0/timeout","value":"2s"}]`, "spec.steps[0].timeout", []string{"step.timeout"}},
	{"a step's timeout removed", `[{"op":"remove","path":"/spec/steps/0/timeout"}]`, "spec.steps[0].timeout", nil},
}

// newFullDefinition returns the example with every optional field set, some in forms a Go
// client writes back differently: "1500ms" ("1.5s"), "1m" ("1m0s"), pivot: false and
// outputs: {} (dropped).
func newFullDefinition(ns string) *unstructured.Unstructured {
	def := newDefinition(ns)
	both(
		set("steps.0.timeout", "1500ms"),
		set("steps.0.retryPolicy", map[string]any{"maxAttempts": int64(3), "maxBackoff": "90s"}),
		set("steps.0.businessFailure", "response.status == 409"),
		set("steps.0.pivot", false),
		set("steps.0.forwardOnly", false),
		set("steps.2.outputs", map[string]any{}),
		set("onRollback", map[string]any{"service": "notification", "action": call(), "when": "true"}),
		set("failureReasons", map[string]any{"OUT_OF_STOCK": "OutOfStock"}),
	)(def.Object["spec"].(map[string]any))
	return def
}

var _ = Describe("SagaDefinition updates", func() {
	var (
		ns  string
		def *unstructured.Unstructured
	)

	BeforeEach(func() {
		ns = newNamespace()
		def = newFullDefinition(ns)
		Expect(k8sClient.Create(ctx, def)).To(Succeed())
	})

	entries := make([]TableEntry, 0, len(specChanges))
	for _, c := range specChanges {
		entries = append(entries, Entry(c.name, c.patch, c.field))
	}
	DescribeTable("refuse a change to the spec, naming the field",
		func(patch, field string) {
			err := k8sClient.Patch(ctx, def, client.RawPatch(types.JSONPatchType, []byte(patch)))
			Expect(err).To(HaveOccurred())
			Expect(err.Error()).To(ContainSubstring(field + ": Invalid value"))
			Expect(err.Error()).To(ContainSubstring("spec is immutable: "))
			Expect(err.Error()).To(ContainSubstring("create a new SagaDefinition (running Sagas finish on the one they started with)"))
		},
		entries,
	)

	It("covers every field of the spec, of a step and of a retry policy with a change above", func() {
		var want []string
		for prefix, t := range map[string]reflect.Type{
			"spec.":        reflect.TypeFor[sagav1alpha1.SagaDefinitionSpec](),
			"step.":        reflect.TypeFor[sagav1alpha1.DefinitionStep](),
			"retryPolicy.": reflect.TypeFor[sagav1alpha1.RetryPolicy](),
		} {
			for f := range t.Fields() {
				want = append(want, prefix+strings.Split(f.Tag.Get("json"), ",")[0])
			}
		}
		var got []string
		for _, c := range specChanges {
			got = append(got, c.covers...)
		}
		Expect(got).To(ConsistOf(want), "a spec field without a change above may have no immutability rule")
	})

	It("accepts label and annotation changes, and leaves the generation alone", func() {
		patch := `{"metadata":{"labels":{"team":"shop"},"annotations":{"note":"reviewed"}}}`
		Expect(k8sClient.Patch(ctx, def, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
		Expect(def.GetLabels()).To(HaveKeyWithValue("team", "shop"))
		Expect(def.GetGeneration()).To(BeEquivalentTo(1))
	})

	It("accepts a Go client's Update of the labels, though the client re-serialises the spec", func() {
		typed := &sagav1alpha1.SagaDefinition{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(def), typed)).To(Succeed())
		By("checking the premise: Go writes the spec back in other forms")
		written, err := json.Marshal(typed.Spec)
		Expect(err).NotTo(HaveOccurred())
		Expect(string(written)).To(And(ContainSubstring(`"maxBackoff":"1m0s"`), ContainSubstring(`"timeout":"1.5s"`)))
		Expect(string(written)).NotTo(Or(ContainSubstring(`"pivot":false`), ContainSubstring(`"outputs":{}`)))

		typed.Labels = map[string]string{"team": "shop"}
		Expect(k8sClient.Update(ctx, typed)).To(Succeed())
		Expect(typed.Labels).To(HaveKeyWithValue("team", "shop"))
		// The API server stores the spec as Go wrote it, a change of text though not of
		// meaning, so the generation moves on: a controller sees it as a new generation.
		Expect(typed.Generation).To(BeEquivalentTo(2))
		Expect(typed.Spec.RetryPolicy.MaxBackoff.Duration).To(Equal(time.Minute))
	})

	It("accepts a Go client's Update of the spec to an equal one, and refuses a changed one", func() {
		typed := &sagav1alpha1.SagaDefinition{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(def), typed)).To(Succeed())
		typed.Spec.Steps[0].Timeout.Duration *= 2
		err := k8sClient.Update(ctx, typed)
		Expect(err).To(HaveOccurred())
		Expect(err.Error()).To(ContainSubstring("spec.steps[0].timeout: Invalid value"))
		Expect(err.Error()).To(ContainSubstring("spec is immutable"))
	})

	It("accepts status updates", func() {
		typed := &sagav1alpha1.SagaDefinition{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(def), typed)).To(Succeed())
		typed.Status.ObservedGeneration = typed.Generation
		apimeta.SetStatusCondition(&typed.Status.Conditions, metav1.Condition{
			Type: "Ready", Status: metav1.ConditionTrue, Reason: "Compiled", Message: "every expression compiled",
		})
		Expect(k8sClient.Status().Update(ctx, typed)).To(Succeed())

		got := &sagav1alpha1.SagaDefinition{}
		Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(def), got)).To(Succeed())
		Expect(apimeta.IsStatusConditionTrue(got.Status.Conditions, "Ready")).To(BeTrue())
		Expect(got.Status.ObservedGeneration).To(BeEquivalentTo(1))
	})
})
