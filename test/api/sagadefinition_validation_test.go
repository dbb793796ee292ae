package api_test

import (
	"encoding/json"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// exampleDefinition is the example: a compensable step, the pivot and a
// forward-only step after it.
const exampleDefinition = `
apiVersion: saga.ordersaga.io/v1alpha1
kind: SagaDefinition
metadata: {name: order-fulfilment}
spec:
  input:
    openAPIV3Schema:
      type: object
      required: [customerId, items]
      properties:
        customerId: {type: string}
        items: {type: array, items: {type: object, properties: {productId: {type: string}, quantity: {type: integer}}}}
  retryPolicy: {maxAttempts: 5, initialBackoff: 1s, maxBackoff: 1m}
  stepTimeout: 10s
  steps:
  - name: ReserveStock
    service: inventory
    action:
      method: PUT
      path: '"/v1/reservations/res-" + saga.uid'
      body: '{"items": input.items}'
    compensation:
      method: POST
      path: '"/v1/reservations/res-" + saga.uid + "/release"'
    outputs: {reservationId: 'response.body.reservationId'}
  - name: Confirm
    service: order
    pivot: true
    action: {method: POST, path: '"/v1/orders/ord-" + saga.uid + "/confirm"'}
  - name: Notify
    service: notification
    forwardOnly: true
    action: {method: PUT, path: '"/v1/notifications/ntf-" + saga.uid'}
`

// newDefinition returns the example definition in ns.
func newDefinition(ns string) *unstructured.Unstructured {
	d := fromYAML(exampleDefinition)
	d.SetNamespace(ns)
	return d
}

// step returns a valid step named name with only an action.
func step(name string) map[string]any {
	return map[string]any{"name": name, "service": "svc", "action": map[string]any{"method": "POST", "path": `"/v1/x"`}}
}

// call returns a valid HTTP call.
func call() map[string]any { return map[string]any{"method": "POST", "path": `"/v1/x"`} }

var _ = Describe("SagaDefinition API", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	DescribeTable("refuses a structurally invalid SagaDefinition, naming the field, and writes nothing",
		func(mutate mutation, field, want string) {
			def := newDefinition(ns)
			mutate(def.Object["spec"].(map[string]any))
			err := k8sClient.Create(ctx, def)
			expectRefused(err, "SagaDefinition", ns, def.GetName(), field, want)
		},
		// steps: the list itself
		Entry("no steps field", unset("steps"), "spec.steps", "Required value"),
		Entry("empty steps", set("steps", []any{}), "spec.steps", "should have at least 1 items"),
		Entry("21 steps", set("steps", numbered(21, func(i int) map[string]any { return step(nameOf("S")(i)) })),
			"spec.steps", "must have at most 20 items"),
		Entry("duplicate step names", set("steps.2.name", "ReserveStock"), "spec.steps[2]", "Duplicate value"),
		// pivot, compensation, forwardOnly
		Entry("two pivots", both(set("steps.2.pivot", true), unset("steps.2.forwardOnly")), "spec.steps",
			"spec.steps[2] (Notify) is a second pivot, after spec.steps[1] (Confirm): at most one step may set pivot: true"),
		Entry("a compensation on the pivot", set("steps.1.compensation", call()), "spec.steps: Forbidden",
			"spec.steps[1] (Confirm) is the pivot and has a compensation: nothing is undone once the pivot has run; remove the compensation"),
		Entry("a compensation after the pivot", set("steps.2.compensation", call()), "spec.steps: Forbidden",
			"spec.steps[2] (Notify) has a compensation but comes after the pivot, spec.steps[1] (Confirm)"),
		Entry("the pivot also forwardOnly", set("steps.1.forwardOnly", true), "spec.steps[1].forwardOnly",
			"a step cannot be both the pivot and forwardOnly"),
		// HTTP calls
		Entry("method FETCH", set("steps.0.action.method", "FETCH"), "spec.steps[0].action.method", `Unsupported value: "FETCH"`),
		Entry("method get (lower case)", set("steps.0.compensation.method", "get"), "spec.steps[0].compensation.method", `Unsupported value: "get"`),
		Entry("no method", unset("steps.0.action.method"), "spec.steps[0].action.method", "Required value"),
		Entry("no action", unset("steps.1.action"), "spec.steps[1].action", "Required value"),
		Entry("empty path", set("steps.0.action.path", ""), "spec.steps[0].action.path", "should be at least 1 chars long"),
		Entry("empty body", set("steps.0.action.body", ""), "spec.steps[0].action.body", "should be at least 1 chars long"),
		// durations
		Entry(`stepTimeout "abc"`, set("stepTimeout", "abc"), "spec.stepTimeout",
			"stepTimeout must be a duration between 100ms and 5m, such as 10s or 1m30s"),
		Entry(`stepTimeout "50ms"`, set("stepTimeout", "50ms"), "spec.stepTimeout", "stepTimeout must be a duration between 100ms and 5m"),
		Entry(`stepTimeout "10m"`, set("stepTimeout", "10m"), "spec.stepTimeout", "stepTimeout must be a duration between 100ms and 5m"),
		Entry(`stepTimeout "-1s"`, set("stepTimeout", "-1s"), "spec.stepTimeout", "stepTimeout must be a duration between 100ms and 5m"),
		Entry(`step timeout "1h"`, set("steps.0.timeout", "1h"), "spec.steps[0].timeout", "timeout must be a duration between 100ms and 5m"),
		Entry(`step timeout "soon"`, set("steps.2.timeout", "soon"), "spec.steps[2].timeout", "timeout must be a duration between 100ms and 5m"),
		Entry(`retryPolicy.initialBackoff "xyz"`, set("retryPolicy.initialBackoff", "xyz"), "spec.retryPolicy.initialBackoff", "should match"),
		Entry("retryPolicy.initialBackoff above maxBackoff", set("retryPolicy.initialBackoff", "2m"),
			"spec.retryPolicy.initialBackoff", "initialBackoff must not exceed maxBackoff"),
		Entry(`retryPolicy.maxBackoff "2h"`, set("retryPolicy.maxBackoff", "2h"), "spec.retryPolicy.maxBackoff", "maxBackoff must be between 1ms and 1h"),
		Entry("retryPolicy.maxAttempts 0", set("retryPolicy.maxAttempts", int64(0)), "spec.retryPolicy.maxAttempts", "should be greater than or equal to 1"),
		Entry(`step retryPolicy.maxBackoff "2h"`, set("steps.0.retryPolicy", map[string]any{"maxBackoff": "2h"}),
			"spec.steps[0].retryPolicy.maxBackoff", "maxBackoff must be between 1ms and 1h"),
		Entry(`step retryPolicy.initialBackoff "0s"`, set("steps.1.retryPolicy", map[string]any{"initialBackoff": "0s"}),
			"spec.steps[1].retryPolicy.initialBackoff", "initialBackoff must be at least 1ms"),
		// names
		Entry(`step name "1st"`, set("steps.0.name", "1st"), "spec.steps[0].name", "should match"),
		Entry(`step name "Reserve-Stock"`, set("steps.0.name", "Reserve-Stock"), "spec.steps[0].name", "should match"),
		Entry("step name of 64 characters", set("steps.0.name", "S"+long(63)), "spec.steps[0].name", "may not be more than 63 bytes"),
		Entry(`service "Inventory"`, set("steps.0.service", "Inventory"), "spec.steps[0].service", "should match"),
		Entry(`service "inventory_svc"`, set("steps.1.service", "inventory_svc"), "spec.steps[1].service", "should match"),
		Entry("service of 64 characters", set("steps.0.service", long(64)), "spec.steps[0].service", "may not be more than 63 bytes"),
		Entry("no service", unset("steps.2.service"), "spec.steps[2].service", "Required value"),
		Entry(`outputs name "reservation-id"`, set("steps.0.outputs", map[string]any{"reservation-id": "response.body.id"}),
			"spec.steps[0].outputs", "outputs names must be identifiers"),
		Entry("17 outputs", set("steps.0.outputs", keys(17, nameOf("o"), "response.body.id")), "spec.steps[0].outputs", "must have at most 16 items"),
		// over-long expressions
		Entry("path of 1025 characters", set("steps.0.action.path", long(1025)), "spec.steps[0].action.path", "may not be more than 1024 bytes"),
		Entry("body of 4097 characters", set("steps.0.action.body", long(4097)), "spec.steps[0].action.body", "may not be more than 4096 bytes"),
		Entry("compensation path of 1025 characters", set("steps.0.compensation.path", long(1025)),
			"spec.steps[0].compensation.path", "may not be more than 1024 bytes"),
		Entry("an output of 1025 characters", set("steps.0.outputs.reservationId", long(1025)),
			"spec.steps[0].outputs.reservationId", "may not be more than 1024 bytes"),
		Entry("businessFailure of 1025 characters", set("steps.0.businessFailure", long(1025)),
			"spec.steps[0].businessFailure", "may not be more than 1024 bytes"),
		Entry("transient of 1025 characters", set("steps.0.transient", long(1025)), "spec.steps[0].transient", "may not be more than 1024 bytes"),
		Entry("empty transient", set("steps.0.transient", ""), "spec.steps[0].transient", "should be at least 1 chars long"),
		Entry("onRollback.when of 1025 characters",
			set("onRollback", map[string]any{"service": "notification", "action": call(), "when": long(1025)}),
			"spec.onRollback.when", "may not be more than 1024 bytes"),
		// onRollback
		Entry("onRollback named as a step", set("onRollback", map[string]any{"name": "Confirm", "service": "notification", "action": call()}),
			"spec.onRollback.name", "onRollback.name is the name of a step"),
		Entry("onRollback without action", set("onRollback", map[string]any{"service": "notification"}), "spec.onRollback.action", "Required value"),
		Entry(`onRollback service "Notification"`, set("onRollback", map[string]any{"service": "Notification", "action": call()}),
			"spec.onRollback.service", "should match"),
		// failureReasons
		Entry(`failureReasons value "outOfStock"`, set("failureReasons", map[string]any{"OUT_OF_STOCK": "outOfStock"}),
			"spec.failureReasons.OUT_OF_STOCK", "should match"),
		Entry("failureReasons key of 65 characters", set("failureReasons", map[string]any{long(65): "Long"}),
			"spec.failureReasons", "failureReasons keys are error codes of 1 to 64 characters"),
		Entry("33 failureReasons", set("failureReasons", keys(33, nameOf("CODE_"), "Refused")), "spec.failureReasons", "must have at most 32 items"),
		// input
		Entry("no input", unset("input"), "spec.input", "Required value"),
		Entry("no input.openAPIV3Schema", set("input", map[string]any{}), "spec.input.openAPIV3Schema", "Required value"),
		Entry("input.openAPIV3Schema a string", set("input.openAPIV3Schema", "object"), "spec.input.openAPIV3Schema", "must be of type object"),
	)

	It("accepts the example with strict field validation, keeping what it gave", func() {
		def := newDefinition(ns)
		Expect(k8sClient.Create(ctx, def, client.FieldValidation(metav1.FieldValidationStrict))).To(Succeed())

		got, err := json.Marshal(def.Object["spec"])
		Expect(err).NotTo(HaveOccurred())
		want, err := json.Marshal(newDefinition(ns).Object["spec"])
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(MatchJSON(want))
	})

	It("applies the defaults: retryPolicy, stepTimeout, a step's retryPolicy fields and onRollback.name", func() {
		def := newDefinition(ns)
		both(
			unset("retryPolicy"), unset("stepTimeout"),
			set("steps.0.retryPolicy", map[string]any{"maxAttempts": int64(3)}),
			set("onRollback", map[string]any{"service": "notification", "action": call()}),
		)(def.Object["spec"].(map[string]any))
		Expect(k8sClient.Create(ctx, def)).To(Succeed())

		spec := def.Object["spec"].(map[string]any)
		Expect(spec).To(HaveKeyWithValue("stepTimeout", "10s"))
		Expect(spec).To(HaveKeyWithValue("retryPolicy", map[string]any{
			"maxAttempts": int64(5), "initialBackoff": "1s", "maxBackoff": "1m",
		}))
		Expect(spec["steps"].([]any)[0]).To(HaveKeyWithValue("retryPolicy", map[string]any{
			"maxAttempts": int64(3), "initialBackoff": "1s", "maxBackoff": "1m",
		}))
		Expect(spec["steps"].([]any)[1]).NotTo(HaveKey("retryPolicy"), "a step without one takes the definition's")
		Expect(spec["onRollback"]).To(HaveKeyWithValue("name", "OnRollback"))
	})
})
