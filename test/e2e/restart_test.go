package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// These specs crash processes from outside, as a user does with
// `kill -9 $(cat .local/pids/manager)`: the stack restarts each one, as a cluster restarts
// a Deployment's pod, on the same port and (for the store) with the same data, and the
// sagas carry on (crash_test.go restarts the processes itself).
var _ = Describe("Restarts", Label("e2e"), func() {
	It("restarts the manager, the inventory service and the store, each killed with kill -9 via its PID file mid-run: every saga ends once, check clean", func(ctx SpecContext) {
		victims := restartVictims()
		ns := newNamespace(ctx, "e2e-restart")
		// One wave of sagas per kill, applied just before it, so that each kill lands while
		// that wave's calls are in flight however fast the machine finished the waves before
		// (one wave for all three kills let a fast machine finish it before the second).
		const perWave = 14
		waves := make([][]sagaSpec, 0, len(victims))
		var all []sagaSpec
		for i := range victims {
			w := withFailures(many(perWave, fmt.Sprintf("%s-%d", ns[4:], i), "", 1, "9.00", outageRetry), 2, 0)
			waves = append(waves, w)
			all = append(all, w...)
		}
		ids := stockUp(ctx, all, "9.00", 5)
		// 100 ms on every call keeps each wave in flight for a while.
		setFaultsEverywhere(ctx, faults{Latency: "100ms"})
		DeferCleanup(allFaultsOff)

		for i, victim := range victims {
			applySagas(ctx, ns, waves[i]...)
			m := waitRunning(ctx, ns, waves[i])
			begin := time.Now()
			old := killFromPIDFile(ctx, victim)
			pid := waitRestarted(ctx, victim, old)
			GinkgoWriter.Printf("%s (pid %d) killed with kill -9; back as pid %d in %s; sagas then: %v\n",
				victim, old, pid, time.Since(begin).Round(100*time.Millisecond), summarize(m))
			Expect(stackLog.lines()).To(ContainElement(MatchRegexp(
				`^%s exited \(signal: killed\); restarting in 1s \(restart \d+\)$`, regexp.QuoteMeta(victim))))
		}

		sagas := waitAllTerminal(ctx, ns, len(all), 3*time.Minute)
		allFaultsOff(ctx)
		expectOutcomes(sagas)
		expectSettledClean(ctx, sagas, 5, ids...)
	}, SpecTimeout(5*time.Minute))
})

// waitRunning waits until a saga of wave has calls under way, and returns the phases of
// every saga of ns then. Its status need not say so: a saga that goes straight through
// writes status once, at its end (ADR 0011), so the order service is asked instead: a saga
// not yet finished whose order exists is between its first call and its last.
func waitRunning(ctx context.Context, ns string, wave []sagaSpec) map[string]v1.Phase {
	GinkgoHelper()
	var m map[string]v1.Phase
	Eventually(ctx, func(g Gomega) {
		sagas := readOrderSagas(ctx, ns)
		m = make(map[string]v1.Phase, len(sagas))
		for name, s := range sagas {
			m[name] = s.Status.Phase
		}
		inFlight := 0
		for _, w := range wave {
			s, ok := sagas[w.name]
			if !ok || s.Status.Phase.IsTerminal() {
				continue
			}
			var order struct{}
			if getJSON(ctx, "order", "/v1/orders/"+ordersaga.OrderID(string(s.UID)), &order) == http.StatusOK {
				inFlight++
			}
		}
		g.Expect(inFlight).To(BeNumerically(">=", 1), "a saga of the wave in flight: %v", summarize(m))
	}).WithTimeout(time.Minute).WithPolling(50 * time.Millisecond).Should(Succeed())
	return m
}

// restartVictims are the processes the restart spec kills in turn: the manager, a
// service, and the store unless it is an external MongoDB (MONGO_TEST_URI), which the
// stack does not run.
func restartVictims() []string {
	if os.Getenv(mongoserver.EnvURI) != "" {
		GinkgoWriter.Printf("%s is set: the store is external and is not killed\n", mongoserver.EnvURI)
		return []string{"manager", "inventory"}
	}
	return []string{"manager", "inventory", "mongo"}
}

// pidFile is where the stack keeps the process ID of name, as README shows it.
func pidFile(name string) string { return stack.PIDFile(name) }

// readPID returns the process ID in name's PID file, or 0 while there is none.
func readPID(name string) int {
	b, err := os.ReadFile(pidFile(name))
	if err != nil {
		return 0
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return 0
	}
	return pid
}

// killFromPIDFile runs `kill -9 $(cat PIDFILE)` in a shell, as a user would, and
// returns the process ID it killed.
func killFromPIDFile(ctx context.Context, name string) int {
	GinkgoHelper()
	pid := readPID(name)
	Expect(pid).NotTo(BeZero(), "PID file %s", pidFile(name))
	out, errOut, err := runIn(ctx, sys.env(), "sh", "-c", fmt.Sprintf("kill -9 $(cat '%s')", pidFile(name)))
	Expect(err).NotTo(HaveOccurred(), "kill -9 %s\n%s%s", name, out, errOut)
	return pid
}

// waitRestarted waits until name's PID file names a live process other than old. The
// stack writes the file once the process is ready, so it serves from then on.
func waitRestarted(ctx context.Context, name string, old int) int {
	GinkgoHelper()
	var pid int
	Eventually(ctx, func(g Gomega) {
		pid = readPID(name)
		g.Expect(pid).NotTo(BeZero(), "PID file of %s", name)
		g.Expect(pid).NotTo(Equal(old), "PID file of %s", name)
		g.Expect(syscall.Kill(pid, 0)).To(Succeed(), "process %d of %s", pid, name)
	}).WithTimeout(time.Minute).WithPolling(100 * time.Millisecond).Should(Succeed())
	return pid
}

// lineLog is a list of lines that several goroutines append to.
type lineLog struct {
	mu  sync.Mutex
	all []string
}

func (l *lineLog) add(line string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all = append(l.all, line)
}

func (l *lineLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.all...)
}
