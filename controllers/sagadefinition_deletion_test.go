package controllers

import (
	"time"

	"k8s.io/apimachinery/pkg/api/meta"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/ticketing"
)

// waitForInUse waits until the deleted definition is kept for the Sagas running on it:
// its deletionTimestamp set, its in-use finalizer still there, and Ready False with
// reason InUse naming every one of sagas.
func waitForInUse(def *v1.SagaDefinition, sagas ...string) *v1.SagaDefinition {
	GinkgoHelper()
	var got *v1.SagaDefinition
	Eventually(func(g Gomega) {
		got = getDefinition(def)
		g.Expect(got.DeletionTimestamp).NotTo(BeNil())
		g.Expect(got.Finalizers).To(ContainElement(InUseFinalizer))
		c := ready(got)
		g.Expect(c.Status).To(Equal(metav1.ConditionFalse))
		g.Expect(c.Reason).To(Equal(ReasonInUse))
		g.Expect(c.Message).To(ContainSubstring("being deleted: waits for %d Saga(s) still running on it", len(sagas)))
		for _, s := range sagas {
			g.Expect(c.Message).To(ContainSubstring(s))
		}
	}, 10*time.Second, 20*time.Millisecond).Should(Succeed())
	return got
}

var _ = Describe("Deleting a SagaDefinition", func() {
	It("keeps it while a Saga runs on it: the Saga finishes on it, new Sagas are refused, and it goes once the Saga is Completed", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(chargeCard), Direction: "action", Mode: ticketing.Held})
		def := env.define("ticket-sale", func(s *v1.SagaDefinitionSpec) {
			stepNamed(s, chargeCard).Timeout = &metav1.Duration{Duration: 20 * time.Second}
		})
		obj := env.sale("sale-inflight", def.Name, ticketInput())
		Eventually(env.svc.Waiting, 10*time.Second).Should(ConsistOf(HaveField("Step", string(chargeCard))), "ChargeCard in flight")

		By("deleting the definition while ChargeCard is in flight")
		Expect(k8sClient.Delete(ctx, def)).To(Succeed())
		waitForInUse(def, "sale-inflight")

		By("refusing a new Saga that names it")
		late := env.sale("sale-late", def.Name, ticketInput())
		env.expectHeld(late, `spec.definitionRef.name: SagaDefinition "ticket-sale" is being deleted`)
		Expect(getDefinition(def).Finalizers).To(ContainElement(InUseFinalizer))

		By("letting ChargeCard answer: the Saga finishes on the deleted definition")
		env.svc.Heal()
		got := waitForSaga(obj, v1.PhaseCompleted)
		Expect(got.Status.Definition).To(Equal(&v1.PinnedDefinition{Name: def.Name, UID: string(def.UID)}))
		Expect(env.calls(got)).To(Equal(allForward))

		By("letting the definition go once its Saga is Completed")
		Eventually(gone(def), 10*time.Second).Should(BeTrue())
		env.expectHeld(late, `SagaDefinition "ticket-sale" not found`)
	})

	It("keeps it while a Saga runs on it, and lets it go once that Saga is deleted and compensated on it", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(chargeCard), Direction: "action", Mode: ticketing.Unavailable})
		def := env.define("ticket-sale", patientRetries)
		obj := env.sale("sale-doomed", def.Name, ticketInput())
		Eventually(func() int32 { return sagaStep(getSaga(obj), chargeCard).Attempts }, 10*time.Second).Should(Equal(int32(1)))

		Expect(k8sClient.Delete(ctx, def)).To(Succeed())
		waitForInUse(def, "sale-doomed")

		By("deleting the Saga: it compensates on the definition being deleted, then both go")
		uid := string(obj.UID)
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(gone(obj), 30*time.Second).Should(BeTrue())
		Expect(env.calls(obj)).To(Equal([]string{
			"CheckEligibility/action", "HoldSeats/action", "AwardPoints/action", "ChargeCard/action",
			"ChargeCard/compensate", "AwardPoints/compensate", "HoldSeats/compensate", "NotifyCancelled/action"}))
		Expect(env.svc.World().SeatsLeft(ticketing.Concert)).To(Equal(ticketing.DefaultConfig().Seats[ticketing.Concert]))
		Expect(env.svc.World().Effects(uid)).To(ContainElement("charges/<uid>: tombstoned"))
		Eventually(gone(def), 10*time.Second).Should(BeTrue())
	})

	It("keeps it while a Failed Saga may still be re-driven on it, and lets it go once that Saga is Compensated", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(holdSeats), Direction: "compensate", Mode: ticketing.Unavailable})
		def := env.define("ticket-sale")
		obj := env.sale("sale-failed", def.Name, ticketInput(with("amount", ticketing.CreditLimit+1)))
		waitForSaga(obj, v1.PhaseFailed)

		Expect(k8sClient.Delete(ctx, def)).To(Succeed())
		waitForInUse(def, "sale-failed")
		Consistently(gone(def), 300*time.Millisecond).Should(BeFalse())

		By("re-driving the Saga: it compensates on the definition being deleted, which then goes")
		env.svc.Heal()
		latest := getSaga(obj)
		patch := client.MergeFrom(latest.DeepCopy())
		latest.Annotations = map[string]string{v1.RetryAnnotation: "now"}
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		waitForSaga(obj, v1.PhaseCompensated)
		Eventually(gone(def), 10*time.Second).Should(BeTrue())
	})

	It("by hand, removing its finalizer under a running Saga, stops the Saga with a Warning instead of running it on nothing", func() {
		env := startTicketing()
		env.svc.Fail(ticketing.Rule{Step: string(chargeCard), Direction: "action", Mode: ticketing.Unavailable})
		def := env.define("ticket-sale", patientRetries)
		obj := env.sale("sale-stranded", def.Name, ticketInput())
		Eventually(func() int32 { return sagaStep(getSaga(obj), chargeCard).Attempts }, 10*time.Second).Should(Equal(int32(1)))
		Expect(k8sClient.Delete(ctx, def)).To(Succeed())
		inUse := waitForInUse(def, "sale-stranded")

		By("removing the in-use finalizer as a person might")
		patch := client.MergeFrom(inUse.DeepCopy())
		inUse.Finalizers = nil
		Expect(k8sClient.Patch(ctx, inUse, patch)).To(Succeed())
		Eventually(gone(def), 10*time.Second).Should(BeTrue())

		By("waking the Saga: it says its definition is gone, and calls nothing")
		env.svc.Heal()
		calls := len(env.calls(obj))
		latest := getSaga(obj)
		patch = client.MergeFrom(latest.DeepCopy())
		latest.Annotations = map[string]string{v1.RetryAnnotation: "poke"} // the request a person makes of a stuck saga
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		Eventually(func() []string { return sagaEventReasons(obj) }, 10*time.Second).Should(ContainElement(EventDefinitionGone))
		Consistently(func() int { return len(env.calls(obj)) }, 300*time.Millisecond).Should(Equal(calls))
		stranded := getSaga(obj)
		Expect(stranded.Status.Phase).To(Equal(v1.PhaseRunning))
		Expect(meta.IsStatusConditionTrue(stranded.Status.Conditions, v1.ConditionStalled)).To(BeTrue(), "Stalled: a person must act")

		By("deleting it: it stays, for nothing can be undone without its definition")
		Expect(k8sClient.Delete(ctx, stranded)).To(Succeed())
		Consistently(gone(stranded), 300*time.Millisecond).Should(BeFalse())

		By("abandoning it: released, with every step that was called listed as left undone")
		latest = getSaga(obj)
		patch = client.MergeFrom(latest.DeepCopy())
		latest.Annotations[v1.AbandonAnnotation] = "accept"
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		Eventually(gone(stranded), 10*time.Second).Should(BeTrue())
		Expect(sagaEventReasons(obj)).To(ContainElement(v1.ReasonAbandoned))
	})

	DescribeTable("that no Saga runs on removes it at once",
		func(run bool) {
			env := startTicketing()
			def := env.define("ticket-sale")
			Expect(def.Finalizers).To(ContainElement(InUseFinalizer))
			if run {
				waitForSaga(env.sale("sale-done", def.Name, ticketInput()), v1.PhaseCompleted)
			}
			Expect(k8sClient.Delete(ctx, def)).To(Succeed())
			Eventually(gone(def), 5*time.Second).Should(BeTrue())
		},
		Entry("no Saga ever named it", false),
		Entry("its only Saga is Completed", true),
	)
})
