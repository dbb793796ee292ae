package controllers

import (
	"net/http"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/ticketing"
)

// allForward is every call of a ticket sale that completes.
var allForward = []string{
	"CheckEligibility/action", "HoldSeats/action", "AwardPoints/action",
	"ChargeCard/action", "IssueTicket/action", "EmailTicket/action",
}

var _ = Describe("A Saga of the ticket sale", func() {
	It("completes, keeping each step's outputs in status, every call keyed <uid>/<step>/<direction>", func() {
		env := startTicketing()
		def := env.define("ticket-sale")
		obj := env.sale("sale-1", def.Name, ticketInput())
		got := waitForSaga(obj, v1.PhaseCompleted)
		uid := string(got.UID)

		By("calling every step once, in order, each with its own key on its own route")
		Expect(env.calls(got)).To(Equal(allForward))
		env.expectKeysAndRoutes(got)

		By("pinning the definition it ran on, and saying it succeeded")
		Expect(got.Status.Definition).To(Equal(&v1.PinnedDefinition{Name: def.Name, UID: string(def.UID)}))
		Expect(succeeded(got).Status).To(Equal(metav1.ConditionTrue))
		Expect(succeeded(got).Reason).To(Equal(v1.ReasonCompleted))
		Expect(got.Status.FinishedAt).NotTo(BeNil())

		By("keeping in status.steps[].outputs what the services answered, which the services hold too")
		w := env.svc.World()
		ref := func(kind ticketing.Kind) string {
			r, ok := w.Resource(kind, uid)
			Expect(ok).To(BeTrue(), "%s of the saga", kind)
			return r.Ref
		}
		Expect(sagaStep(got, checkEligibility).Outputs).To(Equal(map[string]string{"checkId": ref(ticketing.Checks)}))
		Expect(sagaStep(got, holdSeats).Outputs).To(Equal(map[string]string{"holdId": ref(ticketing.Holds)}))
		Expect(sagaStep(got, awardPoints).Outputs).To(Equal(map[string]string{"pointsId": ref(ticketing.Points)}))
		charge := sagaStep(got, chargeCard).Outputs
		Expect(charge).To(HaveKeyWithValue("chargeId", ref(ticketing.Charges)))
		Expect(charge).To(HaveKeyWithValue("authCode", HavePrefix("AUTH-")))
		Expect(sagaStep(got, issueTicket).Outputs).To(Equal(map[string]string{"ticketNumber": ref(ticketing.Tickets)}))
		r, _ := w.Resource(ticketing.Messages, uid+"-ticket")
		Expect(sagaStep(got, emailTicket).Outputs).To(Equal(map[string]string{"messageId": r.Ref}))

		By("taking each effect once: the ticket was issued on the hold and the charge the earlier steps output")
		Expect(w.Effects(uid)).To(Equal([]string{
			"checks/<uid>: eligible cust-1",
			"holds/<uid>: held 2 of concert",
			"points/<uid>: awarded 20 to cust-1",
			"charges/<uid>: charged 12000 to cust-1",
			"tickets/<uid>: issued on " + ref(ticketing.Holds),
			"messages/<uid>-ticket: sent ticket to ada@example.com (ticketNumber)",
		}))
	})

	DescribeTable("refused before its pivot rolls back in reverse order, compensating only compensable steps, and ends Compensated",
		func(input map[string]any, refuse func(*ticketing.Services), step v1.StepName, reason string, wantCalls, wantEffects []string) {
			env := startTicketing()
			refuse(env.svc)
			def := env.define("ticket-sale")
			got := waitForSaga(env.sale("sale-refused", def.Name, input), v1.PhaseCompensated)

			Expect(env.calls(got)).To(Equal(wantCalls))
			env.expectKeysAndRoutes(got)
			Expect(env.svc.World().Effects(string(got.UID))).To(Equal(wantEffects))

			By("saying why, with the definition's reason for the service's code")
			Expect(succeeded(got).Status).To(Equal(metav1.ConditionFalse))
			Expect(succeeded(got).Reason).To(Equal(reason))
			Expect(got.Status.Failure.Step).To(Equal(step))
			Expect(got.Status.CurrentStep).To(Equal(step))

			By("never compensating CheckEligibility, which has no compensation, nor running the pivot")
			Expect(sagaStep(got, checkEligibility).Compensation).To(BeNil())
			Expect(sagaStep(got, issueTicket).State).To(Equal(v1.StepSkipped))
			Expect(sagaStep(got, emailTicket).State).To(Equal(v1.StepSkipped))

			By("holding nothing afterwards")
			Expect(env.svc.World().SeatsLeft(ticketing.Concert)).To(Equal(ticketing.DefaultConfig().Seats[ticketing.Concert]))
			Expect(env.svc.World().Charged(input["customerId"].(string))).To(BeZero())
			Expect(env.svc.World().PointsOf(input["customerId"].(string))).To(BeZero())

			By("making the onRollback call only when its when holds: seats were held")
			if wantCalls[len(wantCalls)-1] == "NotifyCancelled/action" {
				Expect(got.Status.OnRollback).NotTo(BeNil())
				Expect(got.Status.OnRollback.State).To(Equal(v1.CallSucceeded))
			} else {
				Expect(got.Status.OnRollback).To(BeNil())
			}
		},
		Entry("ChargeCard: an amount above the credit limit", ticketInput(with("amount", ticketing.CreditLimit+1)), noRefusal,
			chargeCard, "CardDeclined", []string{
				"CheckEligibility/action", "HoldSeats/action", "AwardPoints/action", "ChargeCard/action",
				"ChargeCard/compensate", "AwardPoints/compensate", "HoldSeats/compensate", "NotifyCancelled/action"},
			[]string{
				"checks/<uid>: eligible cust-1", "holds/<uid>: held 2 of concert", "points/<uid>: awarded 20 to cust-1",
				"charges/<uid>: refused CARD_DECLINED", "points/<uid>: revoked 20 from cust-1", "holds/<uid>: released 2 to concert",
				"messages/<uid>-cancelled: sent sale-cancelled to ada@example.com (code,step)"}),
		Entry("ChargeCard: the bank refuses (injected), a code the definition does not map", ticketInput(),
			func(s *ticketing.Services) {
				s.Refuse(ticketing.Charges, http.StatusPaymentRequired, "FRAUD_SUSPECTED", "the bank suspects fraud")
			},
			chargeCard, v1.ReasonStepRejected, []string{
				"CheckEligibility/action", "HoldSeats/action", "AwardPoints/action", "ChargeCard/action",
				"ChargeCard/compensate", "AwardPoints/compensate", "HoldSeats/compensate", "NotifyCancelled/action"},
			[]string{
				"checks/<uid>: eligible cust-1", "holds/<uid>: held 2 of concert", "points/<uid>: awarded 20 to cust-1",
				"charges/<uid>: refused FRAUD_SUSPECTED", "points/<uid>: revoked 20 from cust-1", "holds/<uid>: released 2 to concert",
				"messages/<uid>-cancelled: sent sale-cancelled to ada@example.com (code,step)"}),
		Entry("HoldSeats: more seats than the matinee has; no seats were held, so no notice", ticketInput(
			with("eventId", ticketing.Matinee), with("seats", ticketing.MatineeSeats+1)), noRefusal,
			holdSeats, "SoldOut", []string{"CheckEligibility/action", "HoldSeats/action", "HoldSeats/compensate"},
			[]string{"checks/<uid>: eligible cust-1", "holds/<uid>: refused SOLD_OUT"}),
		Entry("CheckEligibility: a banned customer; nothing to compensate, no notice", ticketInput(
			with("customerId", ticketing.BannedCustomer)), noRefusal,
			checkEligibility, "NotEligible", []string{"CheckEligibility/action"},
			[]string{"checks/<uid>: refused CUSTOMER_BANNED"}),
	)

	DescribeTable("whose forward-only step fails goes on, and ends Completed with reason ForwardStepFailed",
		func(input map[string]any, step v1.StepName, code string) {
			env := startTicketing()
			def := env.define("ticket-sale")
			got := waitForSaga(env.sale("sale-partial", def.Name, input), v1.PhaseCompleted)

			Expect(env.calls(got)).To(Equal(allForward), "no compensation")
			env.expectKeysAndRoutes(got)
			Expect(succeeded(got).Status).To(Equal(metav1.ConditionTrue))
			Expect(succeeded(got).Reason).To(Equal(saga.ReasonForwardStepFailed))
			Expect(got.Status.Message).To(ContainSubstring(string(step) + " failed: " + code))
			Expect(sagaStep(got, step).State).To(Equal(v1.StepFailed))
			Expect(sagaStep(got, step).LastError).To(HavePrefix(code + ":"))
			Expect(sagaStep(got, step).Attempts).To(Equal(int32(1)), "a business failure is not retried")
			Expect(sagaStep(got, issueTicket).State).To(Equal(v1.StepSucceeded))
			Expect(got.Status.Failure).To(BeNil())
		},
		Entry("AwardPoints, before the pivot: a guest has no loyalty account", ticketInput(with("customerId", ticketing.GuestPrefix+"7")),
			awardPoints, ticketing.CodeNoLoyaltyAccount),
		Entry("EmailTicket, after the pivot: the address bounces", ticketInput(with("email", "ada"+ticketing.BounceDomain)),
			emailTicket, ticketing.CodeUndeliverable),
	)

	It("retries transient failures with the same key, and a lost answer is replayed, not repeated", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(holdSeats), Direction: "action", Mode: ticketing.Unavailable, Times: 2})
		env.svc.Fail(ticketing.Rule{Step: string(chargeCard), Direction: "action", Mode: ticketing.AnswerLost, Times: 1})
		def := env.define("ticket-sale")
		got := waitForSaga(env.sale("sale-flaky", def.Name, ticketInput()), v1.PhaseCompleted)
		uid := string(got.UID)

		Expect(sagaStep(got, holdSeats).Attempts).To(Equal(int32(3)))
		Expect(sagaStep(got, holdSeats).LastError).To(HavePrefix("UNAVAILABLE"))
		Expect(sagaStep(got, chargeCard).Attempts).To(Equal(int32(2)))
		Expect(env.svc.World().Replays(saga.Key(uid, chargeCard, saga.Action))).To(Equal(1), "the second call got the first answer")
		Expect(env.svc.World().Charged("cust-1")).To(Equal(12000), "charged once")
		Expect(env.svc.World().Effects(uid)).To(HaveLen(6), "each step took effect once")
		env.expectKeysAndRoutes(got)
	})
})

// noRefusal leaves the services' rules alone.
func noRefusal(*ticketing.Services) {}
