package e2e

import (
	"context"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// With a stepTimeout shorter than the services take under load, many calls end with no
// answer although the service goes on and acts: the unknown outcomes of the design's
// section 4. Sagas that give up compensate what may have happened, tombstones refuse the
// late actions, and a compensation that itself keeps timing out leaves the saga Failed
// until `sagactl retry` re-drives it once the load is gone. Nothing may leak or double.
var _ = Describe("Unknown outcomes", Label("e2e"), func() {
	It("rolls back sagas whose calls time out, and late actions neither leak nor double stock", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-timeouts")
		specs := many(40, "timeout", "", 1, "4.00", retry{maxAttempts: 2, initialBackoff: "50ms", maxBackoff: "100ms"})
		for i := range specs {
			specs[i].stepTimeout = "100ms"
		}
		ids := stockUp(ctx, specs, "4.00", 5)
		applySagas(ctx, ns, specs...)
		sagas := waitAllTerminal(ctx, ns, len(specs), 3*time.Minute)
		GinkgoWriter.Printf("with stepTimeout 100ms: %v %v\n", byPhase(sagas), failureReasons(sagas))

		// With 100 ms per call the compensations time out too while the machine is busy, so
		// some sagas go Failed; an operator re-drives them until the late runs have settled
		// (within the services' 30 s run deadline) and the undo goes through.
		Eventually(ctx, func(g Gomega) {
			sagas = getSagas(ctx, ns)
			redriveFailed(ctx, ns, sagas)
			g.Expect(byPhase(sagas)).NotTo(HaveKey(v1.PhaseFailed))
			g.Expect(violations(readWorld(ctx), sagas)).To(BeEmpty())
		}).WithTimeout(2 * time.Minute).WithPolling(3 * time.Second).Should(Succeed())
		expectStock(ctx, 5, sagas, ids...)
		expectCheckClean(ctx)
	}, SpecTimeout(5*time.Minute))
})

// redriveFailed runs `sagactl retry` on every Failed saga, as an operator would once the
// cause (here: the load) is gone. A retry that fails again is not an error here: the
// caller polls until none is left Failed.
func redriveFailed(ctx context.Context, ns string, sagas []v1.OrderSaga) {
	GinkgoHelper()
	for _, s := range sagas {
		if s.Status.Phase != v1.PhaseFailed {
			continue
		}
		out, errOut, err := sagactl(ctx, "retry", s.Name, "-n", ns, "--wait", "1s")
		GinkgoWriter.Printf("$ sagactl retry %s -n %s (%v)\n%s%s", s.Name, ns, err, out, errOut)
	}
}
