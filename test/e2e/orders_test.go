package e2e

import (
	"context"
	"regexp"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// These specs are what a shop sees for one order: the happy path and the three business
// failures, each rolled back with nothing lost.
var _ = Describe("One order", Label("e2e", labelCluster), func() {
	It("completes: kubectl shows it Completed with its order and total, and every service agrees", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-complete")
		setProduct(ctx, "E2E-CPL-1", "25.50", 10)
		applySagas(ctx, ns, saga("order-1", "E2E-CPL-1", 2, "25.50"))

		kubectlOK(ctx, "wait", "--for=condition=Succeeded", "osaga/order-1", "-n", ns, "--timeout=60s")
		kubectlOK(ctx, "wait", "--for=condition=Ready", "osaga/order-1", "-n", ns, "--timeout=10s")
		s := getSaga(ctx, ns, "order-1")
		id := orderID(s)
		Expect(s.Status.Phase).To(Equal(v1.PhaseCompleted))
		Expect(s.Status.OrderID).To(Equal(id))
		Expect(s.Status.Total).To(Equal("51.00"))

		table := kubectlOK(ctx, "get", "osaga", "-n", ns)
		GinkgoWriter.Printf("$ kubectl get osaga -n %s\n%s", ns, table)
		Expect(table).To(MatchRegexp(`(?m)^NAME\s+PHASE\s+STEP\s+ORDER\s+TOTAL\s+AGE\s*$`))
		Expect(table).To(MatchRegexp(`(?m)^order-1\s+Completed\s+.*` + regexp.QuoteMeta(id) + `\s+51\.00\s`))
		wide := kubectlOK(ctx, "get", "osaga", "-n", ns, "-o", "wide")
		Expect(wide).To(MatchRegexp(`CUSTOMER\s+ATTEMPTS\s+MESSAGE`))
		Expect(wide).To(ContainSubstring("cust-order-1"))

		o, ok := getOrder(ctx, id)
		Expect(ok).To(BeTrue(), "order %s exists", id)
		Expect(o.Status).To(Equal("CONFIRMED"))
		Expect(o.Total).To(Equal("51.00"))
		Expect(stockOf(ctx, "E2E-CPL-1")).To(Equal(8), "stock lower by exactly 2")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", id)).To(ConsistOf(
			And(HaveField("Status", "CAPTURED"), HaveField("Amount", "51.00"))))
		Expect(byOrder[shipment](ctx, "shipping", "/v1/shipments", id)).To(ConsistOf(HaveField("Status", "SCHEDULED")))
		Expect(byOrder[reservation](ctx, "inventory", "/v1/reservations", id)).To(ConsistOf(HaveField("Status", "RESERVED")))
		Expect(byOrder[notification](ctx, "notification", "/v1/notifications", id)).To(ConsistOf(HaveField("Type", "ORDER_CONFIRMED")))
	}, SpecTimeout(2*time.Minute))

	It("rolls back an order above the stock: Compensated with the reason, stock unchanged, no payment", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-out-of-stock")
		setProduct(ctx, "E2E-OOS-1", "10.00", 3)
		applySagas(ctx, ns, saga("order-1", "E2E-OOS-1", 5, "10.00"))

		s := waitRolledBack(ctx, ns, "order-1", v1.ReasonOutOfStock)
		// Compensated by design is Ready: Flux, Argo CD and kubectl wait see a saga that ended.
		kubectlOK(ctx, "wait", "--for=condition=Ready", "osaga/order-1", "-n", ns, "--timeout=10s")
		wide := kubectlOK(ctx, "get", "osaga", "order-1", "-n", ns, "-o", "wide")
		GinkgoWriter.Printf("$ kubectl get osaga order-1 -n %s -o wide\n%s", ns, wide)
		Expect(wide).To(ContainSubstring("Compensated"))
		Expect(strings.ToLower(wide)).To(MatchRegexp(`out.of.stock`), "MESSAGE says why")

		Expect(stockOf(ctx, "E2E-OOS-1")).To(Equal(3), "stock unchanged")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", orderID(s))).To(BeEmpty(), "no payment")
		o, ok := getOrder(ctx, orderID(s))
		Expect(ok).To(BeTrue())
		Expect(o.Status).To(Equal("CANCELLED"))
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))

	It("rolls back a declined payment: stock restored exactly, nothing charged, the customer told", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-declined")
		setProduct(ctx, "E2E-DCL-1", "2000.00", 10)
		applySagas(ctx, ns, saga("order-1", "E2E-DCL-1", 3, "2000.00")) // 6000.00 > the 5000.00 limit

		s := waitRolledBack(ctx, ns, "order-1", v1.ReasonPaymentDeclined)
		Expect(stockOf(ctx, "E2E-DCL-1")).To(Equal(10), "stock restored exactly")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", orderID(s))).To(
			HaveEach(HaveField("Status", Not(Equal("CAPTURED")))), "no capture left")
		expectCancelledNotice(ctx, s)
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))

	It("rolls back an unsupported destination: the capture refunded, stock restored, the customer told", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-destination")
		setProduct(ctx, "E2E-DST-1", "30.00", 10)
		sg := saga("order-1", "E2E-DST-1", 4, "30.00")
		sg.country = "AQ"
		applySagas(ctx, ns, sg)

		s := waitRolledBack(ctx, ns, "order-1", v1.ReasonUnsupportedDestination)
		Expect(stockOf(ctx, "E2E-DST-1")).To(Equal(10), "stock restored exactly")
		Expect(byOrder[payment](ctx, "payment", "/v1/payments", orderID(s))).To(ConsistOf(And(
			HaveField("Status", "REFUNDED"), HaveField("Amount", "120.00"), HaveField("RefundedAmount", "120.00"))),
			"the capture was refunded in full")
		Expect(byOrder[shipment](ctx, "shipping", "/v1/shipments", orderID(s))).To(
			HaveEach(HaveField("Status", Not(Equal("SCHEDULED")))))
		expectCancelledNotice(ctx, s)
		expectConsistent(ctx, []v1.OrderSaga{s})
	}, SpecTimeout(2*time.Minute))
})

// waitRolledBack waits with kubectl until the saga's Succeeded condition is False and
// checks that it ended Compensated for reason.
func waitRolledBack(ctx context.Context, ns, name, reason string) v1.OrderSaga {
	GinkgoHelper()
	kubectlOK(ctx, "wait", "--for=condition=Succeeded=False", "osaga/"+name, "-n", ns, "--timeout=60s")
	s := getSaga(ctx, ns, name)
	Expect(s.Status.Phase).To(Equal(v1.PhaseCompensated), "message: %s", s.Status.Message)
	Expect(s.Status.Conditions).To(ContainElement(And(
		HaveField("Type", v1.ConditionSucceeded), HaveField("Reason", reason))))
	return s
}

// expectCancelledNotice checks that the order is CANCELLED and the customer got one
// ORDER_CANCELLED notification (and no confirmation).
func expectCancelledNotice(ctx context.Context, s v1.OrderSaga) {
	GinkgoHelper()
	o, ok := getOrder(ctx, orderID(s))
	Expect(ok).To(BeTrue())
	Expect(o.Status).To(Equal("CANCELLED"))
	Expect(byOrder[notification](ctx, "notification", "/v1/notifications", orderID(s))).To(
		ConsistOf(HaveField("Type", "ORDER_CANCELLED")))
}
