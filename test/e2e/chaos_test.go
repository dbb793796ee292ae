package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// These specs break the system while sagas run — a service goes away, every service
// misbehaves — and check that no money or stock is lost (crashes: crash_test.go).
var _ = Describe("Chaos", Label("e2e"), func() {
	It("rides out a 10 s payment outage: sagas retry and complete, or roll back cleanly where retries ran out", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-outage")
		// Most sagas wait about 20 s in all, longer than the outage; four give up after
		// about 3 s and roll back, their refund waiting (up to 23 s) for payment to return.
		patient := many(16, "patient", "", 2, "7.00", outageRetry)
		hasty := many(4, "hasty", "", 1, "7.00", retry{maxAttempts: 3, initialBackoff: "1s", maxBackoff: "8s"})
		all := append(patient, hasty...)
		ids := stockUp(ctx, all, "7.00", 5)

		stack.StopProcess("payment")
		down := time.Now()
		isDown["payment"] = true
		DeferCleanup(restartIfDown, "payment")
		applySagas(ctx, ns, all...)

		Consistently(ctx, func(g Gomega) {
			m, err := phases(ctx, ns)
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(m).NotTo(ContainElement(v1.PhaseCompleted), "no saga completes without payment")
		}).WithTimeout(time.Until(down.Add(10 * time.Second))).WithPolling(time.Second).Should(Succeed())
		restart(ctx, "payment")
		GinkgoWriter.Printf("payment was down for %s\n", time.Since(down).Round(100*time.Millisecond))

		sagas := waitAllTerminal(ctx, ns, 20, 2*time.Minute)
		for _, s := range sagas {
			want, reason := v1.PhaseCompleted, ""
			if s.Spec.RetryPolicy.MaxAttempts == 3 {
				want, reason = v1.PhaseCompensated, v1.ReasonRetriesExhausted
			}
			Expect(s.Status.Phase).To(Equal(want), "%s: %s", s.Name, s.Status.Message)
			if reason != "" {
				Expect(s.Status.Failure).To(HaveField("Reason", reason), s.Name)
			}
		}
		expectSettledClean(ctx, sagas, 5, ids...)
	}, SpecTimeout(4*time.Minute))

	It("keeps 100 sagas whole, rolled back or not, under 20 % errors and 50 ms latency on every service", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-flaky")
		// 80 complete; 10 roll back after the capture (unsupported destination) and 10 at
		// it (declined), so that refunds and releases run under faults too.
		flaky := withFailures(many(100, "flaky", "", 1, "3.00", quickRetry), 10, 10)
		ids := stockUp(ctx, flaky, "3.00", 5)
		// "after" runs the action and loses its answer (an unknown outcome, retried with
		// the same idempotency key) where a duplicate would cost stock, money or a parcel.
		for _, s := range services {
			f := faults{ErrorRate: 0.2, Latency: "50ms", Phase: "before"}
			if s == "inventory" || s == "payment" || s == "shipping" {
				f.Phase = "after"
			}
			setFaults(ctx, s, f)
		}
		DeferCleanup(allFaultsOff)
		injected := faultsInjected(ctx)
		applySagas(ctx, ns, flaky...)

		sagas := waitAllTerminal(ctx, ns, 100, 4*time.Minute)
		allFaultsOff(ctx)
		GinkgoWriter.Printf("flaky: %v; %.0f errors injected\n", byPhase(sagas), faultsInjected(ctx)-injected)
		Expect(faultsInjected(ctx)-injected).To(BeNumerically(">", 50), "faults were injected")
		expectOutcomes(sagas)
		expectSettledClean(ctx, sagas, 5, ids...)
	}, SpecTimeout(6*time.Minute))
})

// setFaultsEverywhere sets the same fault injection on every service.
func setFaultsEverywhere(ctx context.Context, f faults) {
	GinkgoHelper()
	for _, s := range services {
		setFaults(ctx, s, f)
	}
}

// isDown records the processes ("manager" or a service) a spec has stopped or crashed.
var isDown = map[string]bool{}

// restart starts a stopped or crashed process again and waits until it is ready.
func restart(ctx context.Context, name string) {
	GinkgoHelper()
	sys.bringBack(ctx, name)
	isDown[name] = false
}

// restartIfDown starts a process again that a failed spec left stopped.
func restartIfDown(ctx SpecContext, name string) {
	if isDown[name] {
		restart(ctx, name)
	}
}
