package bench

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// runRows are the throughput and latency rows of controller runs and the ceilings they are
// measured against.
func throughputTable(r *Report, runs []ControllerRun, c Ceilings) {
	header := []string{"run", "sagas", colCompleted, colRate, "of create ceiling", colOfStatusCeiling,
		"of unwatched create+status ceiling", "p50", colP99, colMax}
	rows := make([][]string, 0, len(runs)+len(c.all()))
	for _, run := range runs {
		rows = append(rows, []string{runLabel(run), strconv.Itoa(run.Sagas), strconv.Itoa(run.Completed), rate(run.Rate()),
			share(run.Rate(), c.Create.Rate()), share(run.Rate(), c.CreateStatus.Rate()), share(run.Rate(), c.CreateStatusUnwatched.Rate()),
			ms(run.Latency.P50), ms(run.Latency.P99), ms(run.Latency.Max)})
	}
	for _, cr := range c.all() {
		rows = append(rows, []string{cr.Name, strconv.Itoa(cr.Sagas), "–", rate(cr.Rate()),
			share(cr.Rate(), c.Create.Rate()), share(cr.Rate(), c.CreateStatus.Rate()), share(cr.Rate(), c.CreateStatusUnwatched.Rate()),
			ms(cr.Latency.P50), ms(cr.Latency.P99), ms(cr.Latency.Max)})
	}
	r.Table(header, rows)
}

func runLabel(run ControllerRun) string {
	label := fmt.Sprintf("controller (%s, %d workers", run.Manager, run.Workers)
	if run.Delay > 0 {
		label += fmt.Sprintf(", services +%s", run.Delay)
	}
	return label + ")"
}

// costTable is what each completed saga cost the manager, the API server and etcd.
func costTable(r *Report, runs []ControllerRun, c Ceilings) {
	header := []string{"run", "manager requests/saga", "manager writes/saga", "API server requests/saga (all clients)",
		"API server writes/saga", colAPICPU, colEtcdCPU, "process CPU/saga", "whose process CPU", "status bytes",
		"watches closed, events backed up"}
	rows := make([][]string, 0, len(runs)+len(c.all()))
	for _, run := range runs {
		u, n := run.Usage, run.Completed
		// Without a transport count (a manager in its own process), the API server's count
		// less the benchmark's own stands in, marked: it also holds the API server's own.
		mgr, mark := u.Manager, ""
		if mgr == nil {
			mgr, mark = u.NotBench(), " ‡"
		}
		mgrAll, mgrWrites := perSaga(mgr.Total(anyRequest), n)+mark, perSaga(mgr.Total(writeRequest), n)+mark
		rows = append(rows, []string{runLabel(run), mgrAll, mgrWrites, perSaga(u.APIServer.Total(anyRequest), n),
			perSaga(u.APIServer.Total(writeRequest), n), cpuPerSaga(u.APIServerCPU, n), cpuPerSaga(u.EtcdCPU, n),
			cpuPerSaga(u.ProcessCPU, n), u.ProcessLabel, fmt.Sprintf("%.0f", run.StatusBytes), strconv.FormatInt(u.WatchesClosed, 10)})
	}
	for _, cr := range c.all() {
		u, n := cr.Usage, cr.Sagas
		rows = append(rows, []string{cr.Name, "–", "–", perSaga(u.APIServer.Total(anyRequest), n),
			perSaga(u.APIServer.Total(writeRequest), n), cpuPerSaga(u.APIServerCPU, n), cpuPerSaga(u.EtcdCPU, n),
			cpuPerSaga(u.ProcessCPU, n), u.ProcessLabel, "–", strconv.FormatInt(u.WatchesClosed, 10)})
	}
	r.Table(header, rows)
}

// requestColumn is one column of the requests-by-kind table.
type requestColumn struct {
	Title  string
	Counts Counts
	Sagas  int
}

// requestsTable breaks requests per saga down by verb and resource.
func requestsTable(r *Report, cols []requestColumn) {
	kinds := Counts{}
	header := make([]string, 0, 2+len(cols))
	header = append(header, "verb", "resource")
	for _, c := range cols {
		maps.Copy(kinds, c.Counts)
		header = append(header, c.Title)
	}
	sorted := kinds.Sorted()
	rows := make([][]string, 0, len(sorted))
	for _, k := range sorted {
		row := make([]string, 0, 2+len(cols))
		row = append(row, k.Verb, k.Name())
		for _, c := range cols {
			v := "–"
			if n := c.Counts[k]; n != 0 {
				v = perSaga(n, c.Sagas)
			}
			row = append(row, v)
		}
		rows = append(rows, row)
	}
	slices.SortStableFunc(rows, func(a, b []string) int { return strings.Compare(a[1], b[1]) })
	r.Table(header, rows)
}

// requestColumns are the request columns of controller runs (the manager's own, where
// counted, and the API server's) and of the ceilings.
func requestColumns(runs []ControllerRun, c Ceilings) []requestColumn {
	var cols []requestColumn
	for _, run := range runs {
		tag := string(run.Manager)
		if run.Usage.Manager != nil {
			cols = append(cols, requestColumn{Title: tag + ": manager", Counts: run.Usage.Manager, Sagas: run.Completed})
		}
		cols = append(cols,
			requestColumn{Title: tag + ": API server − bench ‡", Counts: run.Usage.NotBench(), Sagas: run.Completed},
			requestColumn{Title: tag + ": API server, all", Counts: run.Usage.APIServer, Sagas: run.Completed})
	}
	for _, cr := range c.all() {
		cols = append(cols, requestColumn{Title: cr.Name + ": API server, all", Counts: cr.Usage.APIServer, Sagas: cr.Sagas})
	}
	return cols
}

// methodNotes say how the figures were measured; every report carries them.
func methodNotes() []string {
	return []string{
		"sagas/s: completed sagas divided by the time from the first create sent to the watch event that showed the last one Completed.",
		"latency: from the moment a create was SENT (open loop: its scheduled arrival time, so a late send counts) to the arrival, in the benchmark, of the watch event that first showed the saga Completed. One watch on the namespace, opened before the first create; nothing polls.",
		"ceilings: the same number of clients create the same sagas (internal/testing/testgen) with no controller running; the status ceilings then write each saga's status once, a merge patch of the status subresource with the resource version (optimistic lock), carrying the status of a saga the controller completed in this run. The % columns divide by the ceilings of this same run. The ceilings run after the controller's runs, on the same API server and etcd, which then hold those runs' sagas too.",
		"watched ceilings: the benchmark's completion watch is open on the ceiling's namespace, as it is on every controller run's, so that what the watch costs (the API server encodes and sends every event once more, the benchmark decodes it) weighs on both sides of a % column. The status ceiling's sagas/s then ends, as a controller run's does, at the watch event that showed the last status; the create-only ceiling's still ends at its last create's return. The unwatched status ceiling is the same run without the watch (this benchmark's method until 2026-12-07), shown for comparison.",
		"‡ API server − bench: the API server's count of resource requests less the benchmark's own (counted by the same kind of RoundTripper on the benchmark's client). For a manager in its own process it is the only count of its requests; it also holds the API server's own requests (its identity lease, its endpoints), which nothing tells apart. For the in-process manager it checks the transport count.",
		"manager requests: counted by a RoundTripper on the manager's rest.Config (every client and informer of the manager), by method and path: a GET on a collection is LIST, with ?watch=true WATCH; status is its own subresource. Writes are POST, PUT, PATCH, DELETE.",
		"API server requests: the difference of apiserver_request_total (scraped from the API server's /metrics) across the measured window: EVERY client, the benchmark's own creates, status patches and its watch included. The API server counts a WATCH when it ends: the manager's informer watches, opened before the window and still open, are not in it.",
		"watches closed, events backed up: apiserver_terminated_watchers_total across the window, every client. The API server buffers a few events per watch; when they back up for longer than it allows (the reader, or the API server's own sending, short of CPU on the shared host) it closes the watch, the reader re-opens it from its last resource version and is sent again what it missed. Each closing costs the API server and the reader work that a faster host would not do.",
		"CPU: utime+stime of kube-apiserver and etcd from /proc/<pid>/stat across the window. \"process CPU\" is getrusage of the benchmark process when the manager runs in it (so it includes the fake services and the benchmark's clients and watch), or /proc/<pid>/stat of cmd/manager when it runs in its own process.",
		"each run has its own namespace and its own manager, which watches only that namespace; one warm-up saga runs to Completed before the window opens.",
		"inprocess: the OrderSaga reconciler alone on a controller-runtime manager in the benchmark process (client QPS 500, burst 1000, as cmd/manager's defaults). subprocess: the cmd/manager binary built from this tree, with all its controllers (OrderSaga, Saga, SagaDefinition) and default flags but --watch-namespace, --service-urls and --max-concurrent-reconciles.",
	}
}
