package controllers

import (
	"encoding/json"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/ticketing"
)

// ticketSaleSpec sells tickets for an event on the ticketing test services: a business
// process of another shape than the order saga's.
//   - CheckEligibility: a check with nothing to undo (not compensable);
//   - HoldSeats: compensable (the hold is released);
//   - AwardPoints: forward-only and compensable: a guest gets no points and still a ticket;
//   - ChargeCard: compensable (refunded);
//   - IssueTicket: the pivot, on the hold and the charge the earlier steps output;
//   - EmailTicket: forward-only, after the pivot;
//   - NotifyCancelled, the onRollback call, only when seats were held.
//
// Backoffs are short so that retries take milliseconds.
const ticketSaleSpec = `
input:
  openAPIV3Schema:
    type: object
    required: [customerId, eventId, seats, amount, email]
    properties:
      customerId: {type: string, minLength: 1}
      eventId: {type: string}
      seats: {type: integer, minimum: 1, maximum: 10}
      amount: {type: integer, minimum: 1, description: the price in cents}
      email: {type: string}
      note: {type: string}
retryPolicy: {maxAttempts: 3, initialBackoff: 10ms, maxBackoff: 50ms}
stepTimeout: 5s
failureReasons: {SOLD_OUT: SoldOut, CARD_DECLINED: CardDeclined, CUSTOMER_BANNED: NotEligible}
steps:
- name: CheckEligibility
  service: venue
  action: {method: PUT, path: "'/v1/checks/' + saga.uid", body: "{'customerId': input.customerId, 'eventId': input.eventId}"}
  outputs: {checkId: response.body.checkId}
- name: HoldSeats
  service: venue
  action: {method: PUT, path: "'/v1/holds/' + saga.uid", body: "{'eventId': input.eventId, 'seats': input.seats}"}
  compensation: {method: POST, path: "'/v1/holds/' + saga.uid + '/release'"}
  outputs: {holdId: response.body.holdId}
- name: AwardPoints
  service: loyalty
  forwardOnly: true
  action: {method: PUT, path: "'/v1/points/' + saga.uid", body: "{'customerId': input.customerId, 'points': input.seats * 10}"}
  compensation: {method: POST, path: "'/v1/points/' + saga.uid + '/revoke'"}
  outputs: {pointsId: response.body.pointsId}
- name: ChargeCard
  service: billing
  action: {method: PUT, path: "'/v1/charges/' + saga.uid", body: "{'customerId': input.customerId, 'amount': input.amount}"}
  compensation: {method: POST, path: "'/v1/charges/' + saga.uid + '/refund'"}
  outputs: {chargeId: response.body.chargeId, authCode: response.body.authCode}
- name: IssueTicket
  service: venue
  pivot: true
  action: {method: PUT, path: "'/v1/tickets/' + saga.uid", body: "{'holdId': steps.HoldSeats.outputs.holdId, 'chargeId': steps.ChargeCard.outputs.chargeId}"}
  outputs: {ticketNumber: response.body.ticketNumber}
- name: EmailTicket
  service: mailer
  forwardOnly: true
  action: {method: PUT, path: "'/v1/messages/' + saga.uid + '-ticket'", body: "{'to': input.email, 'template': 'ticket', 'data': {'ticketNumber': steps.IssueTicket.outputs.ticketNumber}}"}
  outputs: {messageId: response.body.messageId}
onRollback:
  name: NotifyCancelled
  service: mailer
  when: has(steps.HoldSeats.outputs.holdId)
  action: {method: PUT, path: "'/v1/messages/' + saga.uid + '-cancelled'", body: "{'to': input.email, 'template': 'sale-cancelled', 'data': {'step': failure.step, 'code': failure.code}}"}
`

// The ticket sale's steps and its onRollback call.
const (
	checkEligibility v1.StepName = "CheckEligibility"
	holdSeats        v1.StepName = "HoldSeats"
	awardPoints      v1.StepName = "AwardPoints"
	chargeCard       v1.StepName = "ChargeCard"
	issueTicket      v1.StepName = "IssueTicket"
	emailTicket      v1.StepName = "EmailTicket"
	notifyCancelled  v1.StepName = "NotifyCancelled"
)

// ticketRoutes is the route each call of the ticket sale must reach: what the request
// was, to hold against the step and direction its Idempotency-Key names.
var ticketRoutes = map[string]string{
	"CheckEligibility/action": "PUT /v1/checks/{id}",
	"HoldSeats/action":        "PUT /v1/holds/{id}", "HoldSeats/compensate": "POST /v1/holds/{id}/release",
	"AwardPoints/action": "PUT /v1/points/{id}", "AwardPoints/compensate": "POST /v1/points/{id}/revoke",
	"ChargeCard/action": "PUT /v1/charges/{id}", "ChargeCard/compensate": "POST /v1/charges/{id}/refund",
	"IssueTicket/action":     "PUT /v1/tickets/{id}",
	"EmailTicket/action":     "PUT /v1/messages/{id}",
	"NotifyCancelled/action": "PUT /v1/messages/{id}",
}

// ticketDefinition is the ticket sale named name in ns, its spec changed by edits.
func ticketDefinition(ns, name string, edits ...func(*v1.SagaDefinitionSpec)) *v1.SagaDefinition {
	GinkgoHelper()
	def := &v1.SagaDefinition{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	Expect(yaml.UnmarshalStrict([]byte(ticketSaleSpec), &def.Spec)).To(Succeed())
	for _, edit := range edits {
		edit(&def.Spec)
	}
	return def
}

// stepNamed returns the step of spec named name.
func stepNamed(spec *v1.SagaDefinitionSpec, name v1.StepName) *v1.DefinitionStep {
	GinkgoHelper()
	for i := range spec.Steps {
		if spec.Steps[i].Name == name {
			return &spec.Steps[i]
		}
	}
	Fail("no step " + string(name))
	return nil
}

// patientRetries gives every step retryPolicy maxAttempts 10 with a minute's backoff: a
// step that fails transiently keeps the saga in flight for the whole spec.
func patientRetries(spec *v1.SagaDefinitionSpec) {
	spec.RetryPolicy = &v1.RetryPolicy{MaxAttempts: 10, InitialBackoff: &metav1.Duration{Duration: time.Minute}, MaxBackoff: &metav1.Duration{Duration: time.Hour}}
}

// ticketInput is a sale that every rule of ticketing.DefaultConfig accepts, changed by edits.
func ticketInput(edits ...func(map[string]any)) map[string]any {
	in := map[string]any{"customerId": "cust-1", "eventId": ticketing.Concert, "seats": 2, "amount": 12000, "email": "ada@example.com"}
	for _, edit := range edits {
		edit(in)
	}
	return in
}

// with sets one input field.
func with(field string, value any) func(map[string]any) {
	return func(in map[string]any) { in[field] = value }
}

// without removes one input field.
func without(field string) func(map[string]any) {
	return func(in map[string]any) { delete(in, field) }
}

// ticketing env is one spec's world: its namespace, its ticketing services, and a
// manager running the Saga and SagaDefinition controllers on that namespace only.
type ticketEnv struct {
	ns  string
	svc *ticketing.Services
	mgr *testManager
}

// startTicketing starts a ticketing env for one spec; it stops after the spec.
func startTicketing() *ticketEnv {
	GinkgoHelper()
	svc := ticketing.Start(ticketing.DefaultConfig())
	DeferCleanup(svc.Close)
	ns := newNamespace()
	return &ticketEnv{ns: ns, svc: svc, mgr: startSagaManager(ns, svc.URLs())}
}

// define creates the ticket sale named name and waits until its Ready condition was
// computed for its generation.
func (e *ticketEnv) define(name string, edits ...func(*v1.SagaDefinitionSpec)) *v1.SagaDefinition {
	GinkgoHelper()
	def := ticketDefinition(e.ns, name, edits...)
	Expect(k8sClient.Create(ctx, def)).To(Succeed())
	return waitForReadyComputed(def)
}

// sale creates a Saga named name running the definition defName with input.
func (e *ticketEnv) sale(name, defName string, input map[string]any) *v1.Saga {
	GinkgoHelper()
	raw, err := json.Marshal(input)
	Expect(err).NotTo(HaveOccurred())
	obj := &v1.Saga{ObjectMeta: metav1.ObjectMeta{Namespace: e.ns, Name: name},
		Spec: v1.SagaSpec{DefinitionRef: v1.DefinitionReference{Name: defName}, Input: &runtime.RawExtension{Raw: raw}}}
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	return obj
}

// calls returns "Step/direction" for every call the services answered for the saga, in order.
func (e *ticketEnv) calls(obj *v1.Saga) []string {
	received := e.svc.Calls(string(obj.UID))
	out := make([]string, 0, len(received))
	for _, c := range received {
		out = append(out, c.Step+"/"+c.Direction)
	}
	return out
}

// expectKeysAndRoutes checks every call made for the saga: its Idempotency-Key is
// <uid>/<step>/<action|compensate>, and the request reached the route of that step and
// direction, on the saga's own resource.
func (e *ticketEnv) expectKeysAndRoutes(obj *v1.Saga) {
	GinkgoHelper()
	uid := string(obj.UID)
	calls := e.svc.Calls(uid)
	Expect(calls).NotTo(BeEmpty())
	for _, c := range calls {
		Expect(c.Key).To(MatchRegexp(`^%s/[A-Za-z]+/(action|compensate)$`, uid), "Idempotency-Key of %s %s", c.Method, c.Path)
		Expect(c.Route).To(Equal(ticketRoutes[c.Step+"/"+c.Direction]), "route of the call keyed %s", c.Key)
		Expect(c.Path).To(ContainSubstring("/" + uid))
	}
}

// getSaga reads a Saga back from the API server.
func getSaga(obj *v1.Saga) *v1.Saga {
	GinkgoHelper()
	out := &v1.Saga{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), out)).To(Succeed())
	return out
}

// waitForSaga waits until the Saga reaches phase and returns it.
func waitForSaga(obj *v1.Saga, phase v1.Phase) *v1.Saga {
	GinkgoHelper()
	var got *v1.Saga
	Eventually(func(g Gomega) v1.Phase {
		got = &v1.Saga{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		return got.Status.Phase
	}, 30*time.Second, 20*time.Millisecond).Should(Equal(phase), func() string { return describeSaga(got) })
	return got
}

// waitForHeld waits until the Saga is held with reason InvalidSpec and a message holding
// every one of want, and returns it.
func waitForHeld(obj *v1.Saga, want ...string) *v1.Saga {
	GinkgoHelper()
	var got *v1.Saga
	Eventually(func(g Gomega) {
		got = getSaga(obj)
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.Reason).To(Equal(v1.ReasonInvalidSpec))
		for _, w := range want {
			g.Expect(c.Message).To(ContainSubstring(w))
		}
	}, 10*time.Second, 20*time.Millisecond).Should(Succeed(), func() string { return describeSaga(got) })
	return got
}

// sagaStep returns the status entry of a step.
func sagaStep(obj *v1.Saga, name v1.StepName) v1.SagaStepStatus {
	for _, s := range obj.Status.Steps {
		if s.Name == name {
			return s
		}
	}
	return v1.SagaStepStatus{}
}

// succeeded returns the Saga's Succeeded condition.
func succeeded(obj *v1.Saga) metav1.Condition {
	GinkgoHelper()
	c := meta.FindStatusCondition(obj.Status.Conditions, v1.ConditionSucceeded)
	Expect(c).NotTo(BeNil(), "the Succeeded condition")
	return *c
}

// getDefinition reads a SagaDefinition back from the API server.
func getDefinition(def *v1.SagaDefinition) *v1.SagaDefinition {
	GinkgoHelper()
	out := &v1.SagaDefinition{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(def), out)).To(Succeed())
	return out
}

// waitForReadyComputed waits until the definition's Ready condition was computed for its
// generation, and returns the definition.
func waitForReadyComputed(def *v1.SagaDefinition) *v1.SagaDefinition {
	GinkgoHelper()
	var got *v1.SagaDefinition
	Eventually(func(g Gomega) {
		got = getDefinition(def)
		c := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionReady)
		g.Expect(c).NotTo(BeNil())
		g.Expect(c.ObservedGeneration).To(Equal(got.Generation))
	}, 10*time.Second, 20*time.Millisecond).Should(Succeed())
	return got
}

// ready returns the definition's Ready condition.
func ready(def *v1.SagaDefinition) metav1.Condition {
	GinkgoHelper()
	c := meta.FindStatusCondition(def.Status.Conditions, v1.ConditionReady)
	Expect(c).NotTo(BeNil(), "the Ready condition")
	return *c
}

// gone reports whether obj no longer exists.
func gone(obj client.Object) func() bool {
	return func() bool {
		return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), obj.DeepCopyObject().(client.Object)))
	}
}

// sagaEventReasons returns the reasons of the Events about the Saga.
func sagaEventReasons(obj *v1.Saga) []string {
	GinkgoHelper()
	return eventReasons(&v1.OrderSaga{ObjectMeta: obj.ObjectMeta})
}

// describeSaga renders a Saga's status for failure messages.
func describeSaga(obj *v1.Saga) string {
	if obj == nil {
		return "<no saga>"
	}
	var out strings.Builder
	out.WriteString("phase=" + string(obj.Status.Phase) + " message=" + obj.Status.Message + "\n")
	for _, s := range obj.Status.Steps {
		out.WriteString("  " + string(s.Name) + " " + string(s.State) + " attempts=" + itoa(s.Attempts) + " err=" + s.LastError)
		if c := s.Compensation; c != nil {
			out.WriteString(" comp=" + string(c.State) + "/" + itoa(c.Attempts) + " " + c.LastError)
		}
		out.WriteString("\n")
	}
	return out.String()
}
