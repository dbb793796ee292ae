package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/go-logr/logr"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/localstack"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// stack is the local system every spec drives; started once for the suite.
var stack *localstack.Stack

// stateDir holds the stack's binaries, logs and kubeconfig.
var stateDir string

// suiteStarted is when the stack was ready, for the suite's wall-time report.
var suiteStarted time.Time

// stackLog keeps the stack's progress lines, among them its restarts (restart_test.go).
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
	root, err := mongoserver.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	stateDir, err = os.MkdirTemp("", "ordersaga-e2e-")
	Expect(err).NotTo(HaveOccurred())
	begin := time.Now()
	stack, err = localstack.Start(ctx, localstack.Options{
		Root:     root,
		StateDir: stateDir,
		Assets:   os.Getenv("KUBEBUILDER_ASSETS"),
		Progress: func(format string, args ...any) {
			line := fmt.Sprintf(format, args...)
			stackLog.add(line)
			GinkgoWriter.Printf("localstack: %s\n", line)
		},
	})
	Expect(err).NotTo(HaveOccurred(), "start the local stack; logs in %s/logs", stateDir)
	suiteStarted = time.Now()
	AddReportEntry("stack start-up", time.Since(begin).Round(100*time.Millisecond).String())
	GinkgoWriter.Printf("local stack ready in %s; state in %s; services %v\n",
		time.Since(begin).Round(100*time.Millisecond), stateDir, stack.URLs)
}, NodeTimeout(15*time.Minute))

// After the last spec, everything every spec did must still add up (unless a spec
// already failed and explained itself); the stack stops whatever the check says.
var _ = AfterSuite(func(ctx SpecContext) {
	var checkErr, stopErr error
	if stack != nil {
		GinkgoWriter.Printf("specs ran for %s on the stack\n", time.Since(suiteStarted).Round(time.Second))
		if !anySpecFailed {
			out, errOut, err := sagactl(ctx, "check", "-A")
			GinkgoWriter.Printf("$ sagactl check -A\n%s%s", out, errOut)
			if err != nil {
				checkErr = fmt.Errorf("sagactl check after the last spec: %w\n%s%s", err, out, errOut)
			}
		}
		stopErr = stack.Stop()
	}
	if stateDir != "" && os.Getenv("E2E_KEEP_STATE") == "" {
		_ = os.RemoveAll(stateDir)
	}
	Expect(checkErr).NotTo(HaveOccurred())
	Expect(stopErr).NotTo(HaveOccurred())
}, NodeTimeout(2*time.Minute))

// anySpecFailed is set by the first failed spec.
var anySpecFailed bool

// Every spec starts with fault injection off on every service, whatever the previous
// spec left behind, and a red spec prints what a person needs to understand it.
var _ = BeforeEach(func(ctx SpecContext) {
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
