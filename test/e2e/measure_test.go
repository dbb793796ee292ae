package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Load of the measurements: 100 sagas, at most 20 in flight, after one round of 20 that
// warms the stack (connection pools, the store's first writes) outside the measurement.
const (
	loadSagas       = 100
	loadConcurrency = 20
	warmUpSagas     = loadConcurrency
)

// These specs measure, and log rather than assert, what a shop gets through the whole
// stack: each saga is created through the API as soon as one of the 20 in flight
// finishes, and one `kubectl get -w` sees it end. The creates go through one client built
// from the kubeconfig kubectl uses, not a `kubectl apply` process each: on 2 cores, 20
// kubectl processes at a time took more CPU than the stack they measured (5-6 sagas/s).
// End-to-end latency runs from the create to the watch event; controller latency from
// status.startedAt to finishedAt.
var _ = Describe("Throughput and latency", Label("e2e", "measure"), func() {
	It("measures 100 sagas at concurrency 20 without faults", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-measure")
		runLoad(ctx, ns, "warm", warmUpSagas, retry{}, faults{})
		r := runLoad(ctx, ns, "clean", loadSagas, retry{}, faults{})
		report("without faults", r)
		expectConsistent(ctx, r.sagas)
		expectStock(ctx, 5, r.sagas, r.products...)
	}, SpecTimeout(5*time.Minute))

	It("measures 100 sagas at concurrency 20 with 20 % errors and 50 ms latency on every service", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-measure-faults")
		DeferCleanup(allFaultsOff)
		runLoad(ctx, ns, "warm-faulty", warmUpSagas, quickRetry, faults{})
		r := runLoad(ctx, ns, "faulty", loadSagas, quickRetry, faults{ErrorRate: 0.2, Latency: "50ms"})
		report("with 20% errors + 50ms latency", r)
		expectConsistent(ctx, r.sagas)
		expectStock(ctx, 5, r.sagas, r.products...)
	}, SpecTimeout(6*time.Minute))
})

// loadResult is what one load run measured.
type loadResult struct {
	n          int             // sagas measured
	wall       time.Duration   // first apply to last terminal event
	endToEnd   []time.Duration // per saga: apply started to terminal event seen
	controller []time.Duration // per saga: status.startedAt to status.finishedAt
	// toStart and toSeen split the rest of each saga's end-to-end latency: create sent to
	// status.startedAt, and status.finishedAt to the watch event (one machine, one clock).
	toStart, toSeen []time.Duration
	sagas           []v1.OrderSaga
	products        []string           // one per saga, 5 units each at the start
	routes          map[string]float64 // mean seconds a service spent per request, by route
}

// terminalEvent is a saga seen terminal by the watch.
type terminalEvent struct {
	name string
	at   time.Time
}

// runLoad creates n sagas named prefix-000..., each for a product of its own, keeping
// loadConcurrency in flight, with f injected on every service while they run.
func runLoad(ctx context.Context, ns, prefix string, n int, r retry, f faults) loadResult {
	GinkgoHelper()
	specs := many(n, prefix, "", 1, "1.00", r)
	api := apiClient()
	ids := stockUp(ctx, specs, "1.00", 5)
	setFaultsEverywhere(ctx, f)
	timesBefore := routeTimes(ctx)
	objs := map[string]*unstructured.Unstructured{}
	for _, s := range specs {
		objs[s.name] = manifestObject(s, ns)
	}
	done, stopWatch := watchTerminal(ctx, ns, n)
	defer stopWatch() // a later run must not share the machine with this run's watch
	applied := make(chan error, n)
	started, seen := map[string]time.Time{}, map[string]time.Time{}
	res := loadResult{n: n}
	begin, next, inFlight := time.Now(), 0, 0
	for len(res.endToEnd) < n {
		for ; inFlight < loadConcurrency && next < n; next, inFlight = next+1, inFlight+1 {
			name := specs[next].name
			started[name] = time.Now()
			go func() {
				if err := api.Create(ctx, objs[name]); err != nil {
					applied <- fmt.Errorf("create %s: %w", name, err)
					return
				}
				applied <- nil
			}()
		}
		select {
		case ev := <-done:
			if t0, ok := started[ev.name]; ok {
				res.endToEnd = append(res.endToEnd, ev.at.Sub(t0))
				seen[ev.name] = ev.at
				inFlight--
			}
		case err := <-applied:
			Expect(err).NotTo(HaveOccurred())
		case <-time.After(2 * time.Minute):
			Fail(fmt.Sprintf("no saga finished for 2 minutes; %d of %d done", len(res.endToEnd), n))
		}
	}
	res.wall = time.Since(begin)
	allFaultsOff(ctx)
	res.routes = meanDelta(timesBefore, routeTimes(ctx))
	res.sagas = slices.DeleteFunc(getSagas(ctx, ns), func(s v1.OrderSaga) bool {
		_, ours := started[s.Name]
		return !ours // an earlier run's, in the same namespace
	})
	res.products = ids
	for _, s := range res.sagas {
		if s.Status.StartedAt != nil && s.Status.FinishedAt != nil {
			res.controller = append(res.controller, s.Status.FinishedAt.Sub(s.Status.StartedAt.Time))
			res.toStart = append(res.toStart, s.Status.StartedAt.Sub(started[s.Name]))
			res.toSeen = append(res.toSeen, seen[s.Name].Sub(s.Status.FinishedAt.Time))
		}
	}
	return res
}

// watchTerminal runs `kubectl get osaga -w` on ns and sends each saga's first terminal
// phase, with the time it was seen, until stop (or ctx's end); buffer is the channel's.
func watchTerminal(ctx context.Context, ns string, buffer int) (_ <-chan terminalEvent, stop func()) {
	GinkgoHelper()
	wctx, cancel := context.WithCancel(ctx)
	cmd := exec.CommandContext(wctx, sys.kubectl(), "get", "osaga", "-n", ns, "--watch", "--no-headers",
		"-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase")
	cmd.Env = sys.env()
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	out := make(chan terminalEvent, buffer)
	go func() {
		seen := map[string]bool{}
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) == 2 && v1.Phase(f[1]).IsTerminal() && !seen[f[0]] {
				seen[f[0]] = true
				select {
				case out <- terminalEvent{name: f[0], at: time.Now()}:
				case <-wctx.Done():
					return
				}
			}
		}
	}()
	return out, func() {
		cancel() // kills kubectl, which ends the scan
		_ = cmd.Wait()
	}
}

// report logs a run's figures and adds them to the suite's report.
func report(what string, r loadResult) {
	line := fmt.Sprintf("%s: %d sagas, concurrency %d, %.1f sagas/s (%s); end-to-end p50 %s p99 %s, of which "+
		"create → startedAt p50 %s p99 %s, controller (startedAt → finishedAt) p50 %s p99 %s, finishedAt → seen p50 %s p99 %s; %v",
		what, r.n, loadConcurrency, float64(r.n)/r.wall.Seconds(), r.wall.Round(10*time.Millisecond),
		percentile(r.endToEnd, 50), percentile(r.endToEnd, 99), percentile(r.toStart, 50), percentile(r.toStart, 99),
		percentile(r.controller, 50), percentile(r.controller, 99), percentile(r.toSeen, 50), percentile(r.toSeen, 99), byPhase(r.sagas))
	routes := make([]string, 0, len(r.routes))
	for route, mean := range r.routes {
		routes = append(routes, fmt.Sprintf("%s %s", route, time.Duration(mean*float64(time.Second)).Round(100*time.Microsecond)))
	}
	slices.Sort(routes)
	line += "\n  mean time in the service per request: " + strings.Join(routes, "; ")
	AddReportEntry("measure "+what, line)
}

// routeTimes returns, per business route that wrote ("PUT"/"POST"), the sum of the
// seconds the services spent on its requests and their number.
func routeTimes(ctx context.Context) map[string][2]float64 {
	GinkgoHelper()
	out := map[string][2]float64{}
	writes := func(series string) bool {
		return strings.Contains(series, "/v1/") && !strings.Contains(series, `route="GET `)
	}
	for key, v := range scrape(ctx, "ordersaga_http_request_duration_seconds_sum{", writes) {
		e := out[routeOf(key)]
		out[routeOf(key)] = [2]float64{e[0] + v, e[1]}
	}
	for key, v := range scrape(ctx, "ordersaga_http_request_duration_seconds_count{", writes) {
		e := out[routeOf(key)]
		out[routeOf(key)] = [2]float64{e[0], e[1] + v}
	}
	return out
}

// routeOf returns the route label of a scraped series key.
func routeOf(key string) string {
	_, after, _ := strings.Cut(key, `route="`)
	route, _, _ := strings.Cut(after, `"`)
	return route
}

// meanDelta returns the mean seconds per request of each route between two readings.
func meanDelta(before, after map[string][2]float64) map[string]float64 {
	out := map[string]float64{}
	for route, a := range after {
		b := before[route]
		if n := a[1] - b[1]; n > 0 {
			out[route] = (a[0] - b[0]) / n
		}
	}
	return out
}

// percentile returns the p-th percentile (nearest rank) of ds.
func percentile(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	rank := (p*len(s) + 99) / 100 // ceil(p/100 * n)
	return s[max(rank, 1)-1].Round(time.Millisecond)
}

// apiClient is a client of the system's API server, from the kubeconfig its kubectl uses.
func apiClient() client.Client {
	GinkgoHelper()
	var kubeconfig string
	for _, kv := range sys.env() {
		if v, ok := strings.CutPrefix(kv, "KUBECONFIG="); ok {
			kubeconfig = v // the last one wins, as in exec
		}
	}
	Expect(kubeconfig).NotTo(BeEmpty(), "the system's environment names no KUBECONFIG")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred(), "read %s", kubeconfig)
	cfg.QPS, cfg.Burst = 100, 200
	c, err := client.New(cfg, client.Options{})
	Expect(err).NotTo(HaveOccurred())
	return c
}

// manifestObject is the saga's manifest, as kubectl would send it, in namespace ns.
func manifestObject(s sagaSpec, ns string) *unstructured.Unstructured {
	GinkgoHelper()
	raw, err := json.Marshal(sagaManifest(s))
	Expect(err).NotTo(HaveOccurred())
	u := &unstructured.Unstructured{}
	Expect(u.UnmarshalJSON(raw)).To(Succeed())
	u.SetNamespace(ns)
	return u
}
