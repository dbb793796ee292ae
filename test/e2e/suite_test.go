package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/localstack"
)

// stack is the local stack, for the specs that control its processes; nil on a cluster.
var stack *localstack.Stack

// suiteStarted is when the system was ready, for the suite's wall-time report.
var suiteStarted time.Time

// stackLog keeps the local stack's progress lines, among them its restarts (restart_test.go).
var stackLog = &lineLog{}

func TestE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("the end-to-end suite starts the whole stack; skipped with -short")
	}
	RegisterFailHandler(Fail)
	RunSpecs(t, "OrderSaga end-to-end suite")
}

var _ = BeforeSuite(func(ctx SpecContext) {
	// The control plane's client libraries log through controller-runtime; the stack's
	// own processes log to files, which a failed spec prints.
	ctrllog.SetLogger(logr.Discard())
	if onCluster() {
		sys = connectCluster()
	} else {
		local := startLocal(ctx)
		stack, sys = local.stack, local
	}
	suiteStarted = time.Now()
}, NodeTimeout(15*time.Minute))

// After the last spec, everything every spec did must still add up (unless a spec
// already failed and explained itself); the stack stops whatever the check says.
var _ = AfterSuite(func(ctx SpecContext) {
	var checkErr, stopErr error
	if sys != nil {
		GinkgoWriter.Printf("specs ran for %s\n", time.Since(suiteStarted).Round(time.Second))
		if !anySpecFailed && !releaseGone {
			out, errOut, err := sagactl(ctx, "check", "-A")
			GinkgoWriter.Printf("$ sagactl check -A\n%s%s", out, errOut)
			if err != nil {
				checkErr = fmt.Errorf("sagactl check after the last spec: %w\n%s%s", err, out, errOut)
			}
		}
		stopErr = sys.stop(ctx)
	}
	Expect(checkErr).NotTo(HaveOccurred())
	Expect(stopErr).NotTo(HaveOccurred())
}, NodeTimeout(2*time.Minute))

// anySpecFailed is set by the first failed spec.
var anySpecFailed bool

// Every spec that can run on the target starts with fault injection off on every service, whatever the previous
// spec left behind, and a red spec prints what a person needs to understand it.
var _ = BeforeEach(func(ctx SpecContext) {
	skipUnlessRunnable()
	specNamespaces = nil
	allFaultsOff(ctx)
}, NodeTimeout(30*time.Second))

var _ = AfterEach(func() {
	if !CurrentSpecReport().Failed() {
		return
	}
	anySpecFailed = true
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dumpDiagnostics(ctx)
})
