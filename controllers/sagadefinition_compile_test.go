package controllers

import (
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// expectReadyFor checks the definition's Ready condition, and that it and the status were
// computed for the definition's generation.
func expectReadyFor(def *v1.SagaDefinition, status metav1.ConditionStatus, reason string) metav1.Condition {
	GinkgoHelper()
	c := ready(def)
	Expect(c.Status).To(Equal(status), c.Message)
	Expect(c.Reason).To(Equal(reason), c.Message)
	Expect(c.ObservedGeneration).To(Equal(def.Generation))
	Expect(def.Status.ObservedGeneration).To(Equal(def.Generation))
	return c
}

var _ = Describe("A SagaDefinition", func() {
	It("that compiles is Ready, with reason Compiled, for its generation, and keeps its in-use finalizer", func() {
		env := startTicketing()
		def := env.define("ticket-sale")
		c := expectReadyFor(def, metav1.ConditionTrue, ReasonCompiled)
		Expect(c.Message).To(Equal("6 steps; every expression compiled against the input schema"))
		Expect(def.Finalizers).To(ContainElement(InUseFinalizer))
	})

	DescribeTable("whose expression does not compile is not Ready, with reason InvalidExpression and a message naming the step, the field and the CEL error",
		func(edit func(*v1.SagaDefinitionSpec), want string) {
			env := startTicketing()
			def := env.define("broken-sale", edit)
			c := expectReadyFor(def, metav1.ConditionFalse, sagadef.ReasonInvalidExpression)
			Expect(c.Message).To(ContainSubstring(want))
		},
		Entry("an unknown input field", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, holdSeats).Action.Body = "{'eventId': input.event, 'seats': input.seats}"
		}, "step HoldSeats, spec.steps[1].action.body: undefined field 'event'"),
		Entry("a later step's output", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, holdSeats).Action.Path = "'/v1/holds/' + steps.ChargeCard.outputs.chargeId"
		}, "step HoldSeats, spec.steps[1].action.path: undefined field 'ChargeCard' (line 1, column 21): steps has only the steps before this one, and ChargeCard is not one of them"),
		Entry("an output the step does not declare", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, issueTicket).Action.Body = "{'holdId': steps.HoldSeats.outputs.seatId, 'chargeId': steps.ChargeCard.outputs.chargeId}"
		}, "step IssueTicket, spec.steps[4].action.body: undefined field 'seatId'"),
		Entry("an output that gives an int", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, chargeCard).Outputs["status"] = "response.status"
		}, "step ChargeCard, spec.steps[3].outputs[status]: gives int, want string"),
		Entry("a when that gives a string", func(s *v1.SagaDefinitionSpec) {
			s.OnRollback.When = "input.email"
		}, "step NotifyCancelled, spec.onRollback.when: gives string, want bool"),
		Entry("failure read by an action", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, emailTicket).Action.Body = "{'to': input.email, 'template': failure.code}"
		}, "step EmailTicket, spec.steps[5].action.body: undeclared reference to 'failure' (line 1, column 33): failure exists only in a compensation and in onRollback"),
	)

	It("whose input schema is not structural is not Ready, with reason InvalidSchema naming the field", func() {
		env := startTicketing()
		def := env.define("untyped-sale", func(s *v1.SagaDefinitionSpec) {
			s.Input.OpenAPIV3Schema = runtime.RawExtension{Raw: []byte(`{"type":"object","properties":{"customerId":{"description":"untyped"}}}`)}
			for i := range s.Steps {
				s.Steps[i].Action.Body = ""
			}
			s.OnRollback.Action.Body = ""
		})
		c := expectReadyFor(def, metav1.ConditionFalse, sagadef.ReasonInvalidSchema)
		Expect(c.Message).To(ContainSubstring("spec.input.openAPIV3Schema.properties[customerId].type: is not structural: Required value"))
	})
})
