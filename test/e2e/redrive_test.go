package e2e

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// refundRoute is the payment route a test fails to make a rollback give up.
const refundRoute = "POST /v1/payments/{paymentId}/refund"

// A compensation that keeps failing does not give up silently: the saga goes Failed,
// `sagactl check` flags it, and once the cause is fixed `sagactl retry` finishes the
// rollback.
var _ = Describe("A rollback that cannot finish", Label("e2e"), func() {
	It("goes Failed, is flagged by sagactl check, and is re-driven to Compensated by sagactl retry", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-redrive")
		setProduct(ctx, "E2E-RDR-1", "20.00", 10)
		setFaults(ctx, "payment", faults{ErrorRate: 1, Routes: []string{refundRoute}})
		DeferCleanup(func(ctx SpecContext) { // leave no Failed saga for the next spec's check
			allFaultsOff(ctx)
			_, _, _ = sagactl(ctx, "retry", "order-1", "-n", ns, "--wait", "30s")
		})
		sg := saga("order-1", "E2E-RDR-1", 2, "20.00")
		sg.country = "AQ" // refused after the capture: the refund is needed
		sg.retry = retry{maxAttempts: 2, initialBackoff: "100ms", maxBackoff: "200ms"}
		applySagas(ctx, ns, sg)

		kubectlOK(ctx, "wait", "--for=condition=Succeeded=False", "osaga/order-1", "-n", ns, "--timeout=60s")
		s := getSaga(ctx, ns, "order-1")
		Expect(s.Status.Phase).To(Equal(v1.PhaseFailed), "message: %s", s.Status.Message)
		Expect(s.Status.Conditions).To(ContainElement(And(
			HaveField("Type", v1.ConditionSucceeded), HaveField("Reason", v1.ReasonCompensationExhausted))))
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", orderID(s))).To(ConsistOf(HaveField("Status", "CAPTURED")))

		out, errOut, err := sagactl(ctx, "check", "-A")
		GinkgoWriter.Printf("$ sagactl check -A\n%s%s", out, errOut)
		Expect(err).To(HaveOccurred(), "sagactl check exits non-zero on a Failed saga")
		Expect(out).To(ContainSubstring("order-1"))

		allFaultsOff(ctx)
		out, errOut, err = sagactl(ctx, "retry", "order-1", "-n", ns, "--wait", "60s")
		GinkgoWriter.Printf("$ sagactl retry order-1 -n %s\n%s%s", ns, out, errOut)
		Expect(err).NotTo(HaveOccurred())
		s = getSaga(ctx, ns, "order-1")
		Expect(s.Status.Phase).To(Equal(v1.PhaseCompensated))
		Expect(stockOf(ctx, "E2E-RDR-1")).To(Equal(10), "stock restored")
		expectConsistent(ctx, []v1.OrderSaga{s})
		expectCheckClean(ctx)
	}, SpecTimeout(2*time.Minute))
})
