package controllers

import (
	"net/http"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/prometheus/client_golang/prometheus/testutil"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/ticketing"
)

var _ = Describe("Deleting a Saga in flight", func() {
	It("compensates what may have run, then removes its finalizer", func() {
		env := startTicketing()
		// ChargeCard keeps failing with a minute's backoff: the saga sits mid-way.
		env.svc.Fail(ticketing.Rule{Step: string(chargeCard), Direction: "action", Mode: ticketing.Unavailable})
		def := env.define("ticket-sale", patientRetries)
		obj := env.sale("sale-abandoned", def.Name, ticketInput())
		Eventually(func() int32 { return sagaStep(getSaga(obj), chargeCard).Attempts }, 10*time.Second).Should(Equal(int32(1)))
		Expect(getSaga(obj).Finalizers).To(ContainElement(Finalizer))

		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(gone(obj), 30*time.Second).Should(BeTrue())

		By("undoing every compensable step in reverse, the one that never took effect leaving a tombstone")
		Expect(env.calls(obj)).To(Equal([]string{
			"CheckEligibility/action", "HoldSeats/action", "AwardPoints/action", "ChargeCard/action",
			"ChargeCard/compensate", "AwardPoints/compensate", "HoldSeats/compensate", "NotifyCancelled/action"}))
		env.expectKeysAndRoutes(obj)
		Expect(env.svc.World().Effects(string(obj.UID))).To(Equal([]string{
			"checks/<uid>: eligible cust-1", "holds/<uid>: held 2 of concert", "points/<uid>: awarded 20 to cust-1",
			"charges/<uid>: tombstoned", "points/<uid>: revoked 20 from cust-1", "holds/<uid>: released 2 to concert",
			"messages/<uid>-cancelled: sent sale-cancelled to ada@example.com (code,step)"}))

		By("refusing the charge when its request, delayed in the network, arrives after all")
		env.svc.Heal()
		uid := string(obj.UID)
		req, err := http.NewRequestWithContext(ctx, http.MethodPut, env.svc.URLs()[ticketing.Billing]+"/v1/charges/"+uid,
			strings.NewReader(`{"customerId":"cust-1","amount":12000}`))
		Expect(err).NotTo(HaveOccurred())
		req.Header.Set("Idempotency-Key", saga.Key(uid, chargeCard, saga.Action))
		resp, err := http.DefaultClient.Do(req)
		Expect(err).NotTo(HaveOccurred())
		Expect(resp.Body.Close()).To(Succeed())
		Expect(resp.StatusCode).To(Equal(http.StatusConflict))
		Expect(env.svc.World().Charged("cust-1")).To(BeZero())
	})
})

var _ = Describe("A Saga whose compensation keeps failing", func() {
	It("goes Failed past its cap, holds what it could not undo, and is re-driven by the retry annotation", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(holdSeats), Direction: "compensate", Mode: ticketing.Unavailable})
		def := env.define("ticket-sale")
		obj := env.sale("sale-stuck", def.Name, ticketInput(with("amount", ticketing.CreditLimit+1)))
		got := waitForSaga(obj, v1.PhaseFailed)

		By("stopping after 2 x maxAttempts compensation attempts, with the reason")
		comp := sagaStep(got, holdSeats).Compensation
		Expect(comp.State).To(Equal(v1.CallFailed))
		Expect(comp.Attempts).To(Equal(int32(3 * saga.CompensationAttemptsFactor)))
		Expect(comp.LastError).To(HavePrefix("UNAVAILABLE"))
		Expect(succeeded(got).Status).To(Equal(metav1.ConditionFalse))
		Expect(succeeded(got).Reason).To(Equal(v1.ReasonCompensationExhausted))
		Expect(got.Status.Message).To(ContainSubstring(v1.RetryAnnotation))
		Eventually(func() []string { return sagaEventReasons(got) }).Should(ContainElement(v1.ReasonCompensationExhausted))
		Consistently(func() v1.Phase { return getSaga(obj).Status.Phase }, 300*time.Millisecond).Should(Equal(v1.PhaseFailed))
		Expect(env.svc.World().SeatsLeft(ticketing.Concert)).To(Equal(ticketing.DefaultConfig().Seats[ticketing.Concert]-2), "the seats are still held")

		By("re-driving once the service is back")
		env.svc.Heal()
		latest := getSaga(obj)
		patch := client.MergeFrom(latest.DeepCopy())
		latest.Annotations = map[string]string{v1.RetryAnnotation: "2026-12-01T09:00:00Z"}
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		got = waitForSaga(obj, v1.PhaseCompensated)
		Expect(got.Status.LastHandledRetry).To(Equal("2026-12-01T09:00:00Z"))
		Expect(succeeded(got).Reason).To(Equal("CardDeclined"))
		Expect(sagaStep(got, holdSeats).Compensation.State).To(Equal(v1.CallSucceeded))
		Expect(got.Status.OnRollback.State).To(Equal(v1.CallSucceeded))
		Eventually(func() []string { return sagaEventReasons(got) }).Should(ContainElement(v1.ReasonRedriven))
		Expect(env.svc.World().SeatsLeft(ticketing.Concert)).To(Equal(ticketing.DefaultConfig().Seats[ticketing.Concert]))
		Expect(env.svc.World().Effects(string(obj.UID))).To(ContainElement("holds/<uid>: released 2 to concert"))
		env.expectKeysAndRoutes(got)
	})
})

var _ = Describe("Metrics of Sagas", func() {
	It("carry the definition's name", func() {
		env := startTicketing()
		def := env.define("ticket-sale")
		m := env.mgr.metrics
		finished := func(phase v1.Phase) float64 {
			return testutil.ToFloat64(m.finished.WithLabelValues(def.Name, string(phase)))
		}
		Expect(finished(v1.PhaseCompleted)).To(BeZero())

		waitForSaga(env.sale("sale-counted", def.Name, ticketInput()), v1.PhaseCompleted)
		Eventually(func() float64 { return finished(v1.PhaseCompleted) }).Should(Equal(1.0))
		waitForSaga(env.sale("sale-declined", def.Name, ticketInput(with("amount", ticketing.CreditLimit+1))), v1.PhaseCompensated)
		Eventually(func() float64 { return finished(v1.PhaseCompensated) }).Should(Equal(1.0))
		Expect(finished(v1.PhaseCompleted)).To(Equal(1.0))

		Expect(testutil.ToFloat64(m.attempts.WithLabelValues(def.Name, string(holdSeats), string(saga.Succeeded)))).To(Equal(2.0))
		Expect(testutil.ToFloat64(m.compensations.WithLabelValues(def.Name, string(holdSeats), string(saga.Succeeded)))).To(Equal(1.0))
		Expect(testutil.ToFloat64(m.finished.WithLabelValues(metricOrderSaga, string(v1.PhaseCompleted)))).To(BeZero(), "no OrderSaga ran here")
	})
})
