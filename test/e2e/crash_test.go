package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// These specs crash a program while sagas run, as a node failure would: on the local stack
// with SIGKILL, on a cluster by deleting its pods without a grace period. Every saga must
// still end, each effect at most once, the data consistent.
var _ = Describe("Crashes", Label("e2e"), func() {
	It("survives SIGKILL of the manager mid-run: all 50 sagas terminal, no duplicate effect, check clean", func(ctx SpecContext) {
		crashWhileRunning(ctx, "e2e-crash", "manager", 50, retry{})
	}, SpecTimeout(5*time.Minute))

	It("survives SIGKILL of the inventory service mid-run: reservations resumed or released, stock exact", func(ctx SpecContext) {
		crashWhileRunning(ctx, "e2e-crash-inventory", "inventory", 30, outageRetry)
	}, SpecTimeout(5*time.Minute))

	It("survives the manager's pod deleted mid-run: all 30 sagas terminal, no duplicate effect, check clean", Label(labelClusterOnly), func(ctx SpecContext) {
		crashWhileRunning(ctx, "e2e-pod-manager", "manager", 30, outageRetry)
	}, SpecTimeout(6*time.Minute))

	It("survives the payment service's pod deleted mid-run: captures and refunds once each, stock exact", Label(labelClusterOnly), func(ctx SpecContext) {
		crashWhileRunning(ctx, "e2e-pod-payment", "payment", 30, outageRetry)
	}, SpecTimeout(6*time.Minute))
})

// crashWhileRunning applies n sagas (a tenth of them bound to roll back after the
// capture), crashes victim once the first saga ended, brings it back 2 s later and checks
// that every saga ends as its spec says, with nothing lost or doubled.
func crashWhileRunning(ctx context.Context, ns, victim string, n int, r retry) {
	ns = newNamespace(ctx, ns)
	specs := withFailures(many(n, ns[4:], "", 1, "12.00", r), n/10, 0)
	ids := stockUp(ctx, specs, "12.00", 5)
	// 300 ms on every call stretches each saga to about 2 s, so that the kill lands while
	// sagas are in flight. At 100 ms, 30 sagas run side by side by 256 workers all ended
	// within one poll of kubectl (a CI run saw 27 Completed and 3 Compensated at the first
	// terminal one it could see).
	setFaultsEverywhere(ctx, faults{Latency: "300ms"})
	applySagas(ctx, ns, specs...)

	var atKill map[string]v1.Phase
	Eventually(ctx, func(g Gomega) {
		m, err := phases(ctx, ns)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(countTerminal(m)).To(BeNumerically(">=", 1))
		atKill = m
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
	sys.crash(ctx, victim)
	isDown[victim] = true
	DeferCleanup(restartIfDown, victim)
	GinkgoWriter.Printf("%s crashed; sagas then: %v\n", victim, summarize(atKill))
	Expect(countTerminal(atKill)).To(BeNumerically("<", n), "the kill landed while sagas were in flight")

	time.Sleep(2 * time.Second) // down for a while
	restart(ctx, victim)
	sagas := waitAllTerminal(ctx, ns, n, 3*time.Minute)
	allFaultsOff(ctx)

	expectOutcomes(sagas)
	expectSettledClean(ctx, sagas, 5, ids...)
}
