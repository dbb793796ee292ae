package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strconv"
)

// runReplicas is `make bench-replicas`: the same closed loop on 1, 2, 3… replicas of
// cmd/manager (--shards), with how the reconciles and the CPU split between them.
func runReplicas(ctx context.Context, s *Stack, cfg Config) (*Report, error) {
	if len(cfg.ReplicaCounts) == 0 {
		return nil, errors.New("-bench.replica-counts: no replica count")
	}
	r := newReport(ModeReplicas, cfg.Command, s)
	runs := make([]ReplicaRun, 0, len(cfg.ReplicaCounts))
	for _, n := range cfg.ReplicaCounts {
		if n < 1 {
			return nil, fmt.Errorf("-bench.replica-counts: %d replicas", n)
		}
		run, err := s.measureReplicas(ctx, cfg, n)
		if err != nil {
			return nil, fmt.Errorf("%d replicas: %w", n, err)
		}
		runs = append(runs, run)
	}
	c, err := s.measureCeilings(ctx, cfg.Sagas, cfg.Clients, runs[0].LastStatus)
	if err != nil {
		return nil, fmt.Errorf("ceilings: %w", err)
	}
	r.Section("Throughput against replicas", fmt.Sprintf(
		"Closed loop: %d sagas created by %d concurrent clients per row, run by that many cmd/manager processes (--shards = replicas above 1). "+
			"On this machine (%d CPUs) every replica shares the same cores with the API server, etcd and the benchmark, so more replicas cannot raise throughput here: the rows show how the work and the CPU split, and what sharding costs.",
		cfg.Sagas, cfg.Clients, runtime.NumCPU()))
	replicasTable(r, runs, c)
	r.Section("Each replica's share", "")
	replicaShareTable(r, runs)
	r.Section("Ceilings of this run", "")
	throughputTable(r, nil, c)
	r.Section("How each figure is measured", "")
	r.Notes(append(methodNotes(), replicaNotes()...)...)
	for _, run := range runs {
		tag := "r" + strconv.Itoa(len(run.Replicas))
		r.Headline[tag+"-sagas/s"] = run.Rate()
		r.Headline[tag+"-p99-ms"] = float64(run.Latency.P99.Milliseconds())
	}
	return r, nil
}

func replicasTable(r *Report, runs []ReplicaRun, c Ceilings) {
	header := []string{"replicas", "workers each", "sagas", colCompleted, colRate, colOfStatusCeiling, colP50, colP99, colMax,
		"manager CPU/saga (all replicas)", "manager CPU cores (all replicas)", colAPIRequests, colAPICPU, colEtcdCPU}
	rows := make([][]string, 0, len(runs))
	for _, run := range runs {
		u, n := run.Usage, run.Completed
		rows = append(rows, []string{strconv.Itoa(len(run.Replicas)), strconv.Itoa(run.Workers), strconv.Itoa(run.Sagas), strconv.Itoa(n),
			rate(run.Rate()), share(run.Rate(), c.CreateStatus.Rate()), ms(run.Latency.P50), ms(run.Latency.P99), ms(run.Latency.Max),
			cpuPerSaga(u.ProcessCPU, n), cores(u.ProcessCPU.Seconds(), run.Elapsed.Seconds()),
			perSaga(u.APIServer.Total(anyRequest), n), cpuPerSaga(u.APIServerCPU, n), cpuPerSaga(u.EtcdCPU, n)})
	}
	r.Table(header, rows)
}

func replicaShareTable(r *Report, runs []ReplicaRun) {
	header := []string{"replicas", "replica", "reconciles", "of the run's reconciles", "sagas completed", "reconciles/saga",
		"stopped on a conflict", "stopped on the cache behind",
		"CPU", "CPU cores", "CPU/saga", "RSS"}
	var rows [][]string
	for _, run := range runs {
		var total int64
		for _, ru := range run.Replicas {
			total += ru.Reconciles
		}
		for _, ru := range run.Replicas {
			done := int(ru.Completed)
			rows = append(rows, []string{strconv.Itoa(len(run.Replicas)), ru.Name, strconv.FormatInt(ru.Reconciles, 10),
				share(float64(ru.Reconciles), float64(total)), strconv.Itoa(done), perSaga(ru.Reconciles, done),
				strconv.FormatInt(ru.Conflicts, 10), strconv.FormatInt(ru.Behind, 10),
				ms(ru.CPU), cores(ru.CPU.Seconds(), run.Elapsed.Seconds()), cpuPerSaga(ru.CPU, done), mib(ru.RSS)})
		}
	}
	r.Table(header, rows)
}

func cores(cpu, window float64) string {
	if window <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", cpu/window)
}

func replicaNotes() []string {
	return []string{
		"replicas: that many cmd/manager processes built from this tree, each watching only the run's namespace with the subprocess flags above (--max-concurrent-reconciles applies to each: n replicas have n × the workers). One replica runs with the defaults (no --shards, no leader election). Above one, each has --shards=n, POD_NAME=replica-i and --leader-election-namespace=the run's namespace, where their Leases live; --shard-lease-duration is the default (15 s; each replica renews its Lease and lists the others every 5 s).",
		"settled: a row's window opens once every replica answered /readyz (with --shards that includes the \"shard\" check: it has renewed its Lease and listed the members once) and the Leases show that every replica has listed all n members: n Leases, each renewed at least a second after the last one's creationTimestamp (whole seconds), as a replica lists the Leases right after renewing its own. Then the warm-up saga runs to Completed.",
		"reconciles: the difference across the window of controller_runtime_reconcile_total{controller=\"ordersaga\"}, summed over its result labels, scraped from the replica's own /metrics right after the window's first and last samples. A replica queues only the sagas it owns (the others' events are filtered before the queue); % is of the row's sum.",
		"stopped on a conflict / on the cache behind: the difference of ordersaga_reconcile_requeues_total{kind=\"OrderSaga\",reason=\"Conflict\"} and {reason=\"CacheBehind\"} on that replica: reconciles whose status write met a newer version (the next reconcile repeats their calls under the same keys), and reconciles that made no call because the cached saga predated the replica's own last write.",
		"sagas completed: the difference of ordersaga_sagas_finished_total{phase=\"Completed\"} on that replica: the sagas whose last status write it made. While the members are settled no saga moves; during a change of members two replicas could both count one.",
		"replica CPU: utime+stime of its process from /proc/<pid>/stat across the window (ticks of 10 ms); cores: that divided by the time from the first create to the last completion (the window goes on through a quiet wait of 1-10 s); CPU/saga and reconciles/saga: over the sagas that replica completed. The first table's manager CPU is the replicas' sum over all completed sagas. RSS: VmRSS at the window's end.",
		"API server requests/saga: every client's, so it includes each replica's own informers and, above one replica, its Lease renewals and lists.",
	}
}
