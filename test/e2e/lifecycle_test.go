package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// scheduleRoute is the shipping route a test fails to hold a saga at ScheduleShipment,
// after the order, the reservation and the payment happened.
const scheduleRoute = "PUT /v1/shipments/{shipmentId}"

// What a person does to a saga in flight with kubectl: delete it, suspend and resume it.
var _ = Describe("Lifecycle", Label("e2e", labelCluster), func() {
	It("rolls back a saga deleted mid-way, then lets it go; stock restored", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-delete")
		setProduct(ctx, "E2E-DEL-1", "40.00", 10)
		setFaults(ctx, "shipping", faults{ErrorRate: 1, Routes: []string{scheduleRoute}})
		DeferCleanup(allFaultsOff)
		sg := saga("order-1", "E2E-DEL-1", 3, "40.00")
		sg.retry = retry{maxAttempts: 5, initialBackoff: "1m", maxBackoff: "1m"} // held for a minute
		applySagas(ctx, ns, sg)

		s := waitHeldAtSchedule(ctx, ns, "order-1")
		id := orderID(s)
		Expect(stockOf(ctx, "E2E-DEL-1")).To(Equal(7), "the reservation took 3 units")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", id)).To(ConsistOf(HaveField("Status", "CAPTURED")))

		deleted := time.Now()
		kubectlOK(ctx, "delete", "osaga", "order-1", "-n", ns, "--wait=false")
		kubectlOK(ctx, "wait", "--for=delete", "osaga/order-1", "-n", ns, "--timeout=30s")
		GinkgoWriter.Printf("deleted saga gone after %s (its backoff was 1m)\n", time.Since(deleted).Round(100*time.Millisecond))

		Expect(stockOf(ctx, "E2E-DEL-1")).To(Equal(10), "stock restored")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", id)).To(ConsistOf(And(
			HaveField("Status", "REFUNDED"), HaveField("RefundedAmount", "120.00"))))
		o, ok := getOrder(ctx, id)
		Expect(ok).To(BeTrue())
		Expect(o.Status).To(Equal("CANCELLED"))
		s.Status.Phase = v1.PhaseCompensated // what it ended as, before it went
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))

	It("holds a saga created suspended until kubectl patch resumes it", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-suspend")
		setProduct(ctx, "E2E-SUS-1", "15.00", 10)
		sg := saga("order-1", "E2E-SUS-1", 1, "15.00")
		sg.suspend = true
		applySagas(ctx, ns, sg)

		kubectlOK(ctx, "wait", "--for=condition=Suspended", "osaga/order-1", "-n", ns, "--timeout=30s")
		id := orderID(getSaga(ctx, ns, "order-1"))
		Consistently(ctx, func(g Gomega) {
			s := getSaga(ctx, ns, "order-1")
			g.Expect(s.Status.Phase).To(BeElementOf(v1.Phase(""), v1.PhasePending))
			_, found := getOrder(ctx, id)
			g.Expect(found).To(BeFalse(), "no order created")
		}).WithTimeout(3 * time.Second).WithPolling(time.Second).Should(Succeed())
		Expect(stockOf(ctx, "E2E-SUS-1")).To(Equal(10))

		kubectlOK(ctx, "patch", "osaga", "order-1", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
		kubectlOK(ctx, "wait", "--for=condition=Succeeded", "osaga/order-1", "-n", ns, "--timeout=60s")
		s := getSaga(ctx, ns, "order-1")
		Expect(s.Status.Conditions).To(ContainElement(And(
			HaveField("Type", v1.ConditionSuspended), HaveField("Status", BeEquivalentTo("False")))))
		Expect(stockOf(ctx, "E2E-SUS-1")).To(Equal(9))
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))

	It("stops calling a saga suspended mid-way and finishes it once resumed", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-suspend-mid")
		setProduct(ctx, "E2E-SUS-2", "15.00", 10)
		setFaults(ctx, "shipping", faults{ErrorRate: 1, Routes: []string{scheduleRoute}})
		DeferCleanup(allFaultsOff)
		sg := saga("order-1", "E2E-SUS-2", 2, "15.00")
		sg.retry = retry{maxAttempts: 50, initialBackoff: "500ms", maxBackoff: "500ms"}
		applySagas(ctx, ns, sg)
		waitHeldAtSchedule(ctx, ns, "order-1")

		kubectlOK(ctx, "patch", "osaga", "order-1", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":true}}`)
		kubectlOK(ctx, "wait", "--for=condition=Suspended", "osaga/order-1", "-n", ns, "--timeout=30s")
		allFaultsOff(ctx) // shipping would now succeed: only suspend holds the saga
		held := scheduleAttempts(getSaga(ctx, ns, "order-1"))
		Consistently(ctx, func(g Gomega) {
			s := getSaga(ctx, ns, "order-1")
			g.Expect(s.Status.Phase).To(Equal(v1.PhaseRunning))
			g.Expect(scheduleAttempts(s)).To(Equal(held), "no call while suspended")
		}).WithTimeout(4 * time.Second).WithPolling(time.Second).Should(Succeed())

		kubectlOK(ctx, "patch", "osaga", "order-1", "-n", ns, "--type=merge", "-p", `{"spec":{"suspend":false}}`)
		kubectlOK(ctx, "wait", "--for=condition=Succeeded", "osaga/order-1", "-n", ns, "--timeout=60s")
		s := getSaga(ctx, ns, "order-1")
		Expect(s.Status.Phase).To(Equal(v1.PhaseCompleted))
		Expect(stockOf(ctx, "E2E-SUS-2")).To(Equal(8))
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))
})

// waitHeldAtSchedule waits until the saga has tried ScheduleShipment at least once and is
// still Running, and returns it.
func waitHeldAtSchedule(ctx context.Context, ns, name string) v1.OrderSaga {
	GinkgoHelper()
	var s v1.OrderSaga
	Eventually(ctx, func(g Gomega) {
		s = getSaga(ctx, ns, name)
		g.Expect(s.Status.Phase).To(Equal(v1.PhaseRunning))
		g.Expect(scheduleAttempts(s)).To(BeNumerically(">=", 1))
	}).WithTimeout(30 * time.Second).WithPolling(200 * time.Millisecond).Should(Succeed())
	return s
}

// scheduleAttempts returns how often the saga called ScheduleShipment.
func scheduleAttempts(s v1.OrderSaga) int32 {
	for _, st := range s.Status.Steps {
		if st.Name == v1.StepScheduleShipment {
			return st.Attempts
		}
	}
	return 0
}
