package controllers

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/ticketing"
)

// expectHeld checks that the Saga is held before its start: Pending, its Succeeded and
// Ready conditions False with reason InvalidSpec and a message holding every one of want,
// Stalled, nothing pinned, and no call made for it, then or for a while.
func (e *ticketEnv) expectHeld(obj *v1.Saga, want ...string) {
	GinkgoHelper()
	got := waitForHeld(obj, want...)
	Expect(got.Status.Phase).To(Equal(v1.PhasePending))
	for _, typ := range []string{v1.ConditionSucceeded, v1.ConditionReady} {
		c := meta.FindStatusCondition(got.Status.Conditions, typ)
		Expect(c).NotTo(BeNil(), typ)
		Expect(c.Status).To(Equal(metav1.ConditionFalse), typ)
		Expect(c.Reason).To(Equal(v1.ReasonInvalidSpec), typ)
		Expect(c.ObservedGeneration).To(Equal(got.Generation), typ)
		for _, w := range want {
			Expect(c.Message).To(ContainSubstring(w), typ)
		}
	}
	Expect(meta.IsStatusConditionTrue(got.Status.Conditions, v1.ConditionStalled)).To(BeTrue())
	Expect(got.Status.Definition).To(BeNil())
	Expect(got.Status.Steps).To(BeEmpty())
	Consistently(func() []ticketing.Call { return e.svc.Calls(string(got.UID)) }, 300*time.Millisecond).Should(BeEmpty(), "no call")
	Expect(getSaga(obj).Status.Phase).To(Equal(v1.PhasePending))
}

var _ = Describe("A Saga whose input fails its definition's schema", func() {
	DescribeTable("stays Pending, makes no call, and says InvalidSpec naming the field",
		func(input map[string]any, want ...string) {
			env := startTicketing()
			def := env.define("ticket-sale")
			env.expectHeld(env.sale("sale-invalid", def.Name, input), want...)
			Expect(env.svc.Calls("")).To(BeEmpty(), "no call to any service, with a key or without")
		},
		Entry("a required field missing", ticketInput(without("eventId")), "spec.input.eventId: Required value"),
		Entry("a string for an integer", ticketInput(with("seats", "two")), "spec.input.seats", "must be of type integer"),
		Entry("an integer above the maximum", ticketInput(with("seats", 11)), "spec.input.seats", "should be less than or equal to 10"),
		Entry("a field the schema does not declare", ticketInput(with("vip", true)),
			"spec.input.vip: Forbidden: is not declared in the definition's input schema"),
		Entry("over 16 KiB as JSON", ticketInput(with("note", strings.Repeat("x", v1.MaxInputBytes))), "spec.input: Too long", "16384"),
	)
})

var _ = Describe("A Saga whose definition cannot run it", func() {
	It("is held while its definition is missing, and starts once it is created", func() {
		env := startTicketing()
		obj := env.sale("sale-early", "ticket-sale", ticketInput())
		env.expectHeld(obj, `spec.definitionRef.name: SagaDefinition "ticket-sale" not found in namespace `+env.ns)

		By("creating the definition: its becoming Ready wakes the Saga")
		def := env.define("ticket-sale")
		got := waitForSaga(obj, v1.PhaseCompleted)
		Expect(got.Status.Definition).To(Equal(&v1.PinnedDefinition{Name: def.Name, UID: string(def.UID)}))
		Expect(env.calls(got)).To(Equal(allForward))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionStalled)).To(BeNil())
	})

	It("is held while its definition is missing, and when deleted so, goes at once without a call", func() {
		env := startTicketing()
		obj := env.sale("sale-orphan", "ticket-sale", ticketInput())
		env.expectHeld(obj, `SagaDefinition "ticket-sale" not found`)
		Expect(getSaga(obj).Finalizers).To(ContainElement(Finalizer))
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(gone(obj), 10*time.Second).Should(BeTrue())
		Expect(env.svc.Calls("")).To(BeEmpty())
	})

	It("is held while its definition is not Ready, and starts on a new definition under that name", func() {
		env := startTicketing()
		broken := env.define("ticket-sale", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, holdSeats).Action.Body = "{'eventId': input.event, 'seats': input.seats}"
		})
		obj := env.sale("sale-waiting", broken.Name, ticketInput())
		env.expectHeld(obj, `spec.definitionRef.name: SagaDefinition "ticket-sale" is not Ready: `,
			"step HoldSeats, spec.steps[1].action.body: undefined field 'event'")

		By("deleting the broken definition, which no Saga started on: it goes at once, and the Saga says so")
		Expect(k8sClient.Delete(ctx, broken)).To(Succeed())
		Eventually(gone(broken), 10*time.Second).Should(BeTrue())
		env.expectHeld(obj, `SagaDefinition "ticket-sale" not found`)

		By("creating a fixed one under the same name: the Saga starts on it")
		fixed := env.define("ticket-sale")
		Expect(fixed.UID).NotTo(Equal(broken.UID))
		got := waitForSaga(obj, v1.PhaseCompleted)
		Expect(got.Status.Definition).To(Equal(&v1.PinnedDefinition{Name: fixed.Name, UID: string(fixed.UID)}))
		Expect(env.calls(got)).To(Equal(allForward))
	})
})
