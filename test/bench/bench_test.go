package bench

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
)

// The benchmark's flags; `make bench`, `make bench-openloop`, `make bench-latency`,
// `make bench-memory` and `make bench-replicas` set them.
var (
	flagMode          = flag.String("bench.mode", ModeClosed, "what to measure: closed (make bench), openloop, latency, memory or replicas")
	flagSagas         = flag.Int("bench.sagas", 500, "sagas per closed-loop run, per ceiling, per latency-mode cell and per replicas-mode row")
	flagClients       = flag.Int("bench.clients", 20, "concurrent clients that create sagas (closed loop and ceilings)")
	flagWorkers       = flag.Int("bench.workers", 0, "MaxConcurrentReconciles of the closed and open loops and the memory mode, and of each replica in the replicas mode; 0 takes the controller's default")
	flagManagers      = flag.String("bench.manager", "inprocess,subprocess", "where the closed loop's controller runs, one run each: inprocess (manager requests counted by verb and resource) and/or subprocess (cmd/manager: its own CPU and memory); the open loop uses the first")
	flagTimeout       = flag.Duration("bench.timeout", 10*time.Minute, "longest wait for one run's sagas to end after the load stopped")
	flagAdmission     = flag.Bool("bench.admission", false, "apply every YAML in config/admission (the finalizer-at-create policy) to the API server first")
	flagAdmissionDir  = flag.String("bench.admission-dir", "", "the folder -bench.admission applies (default: config/admission)")
	flagAPIServerArgs = flag.String("bench.apiserver-args", "", "extra kube-apiserver flags, comma-separated name=value (e.g. runtime-config=admissionregistration.k8s.io/v1beta1=true)")
	flagWindow        = flag.Duration("bench.window", 20*time.Second, "open loop: how long each rate's arrivals last")
	flagArrivals      = flag.String("bench.arrivals", string(Poisson), "open loop: poisson (seeded exponential gaps) or uniform (exactly 1/rate apart)")
	flagSeed          = flag.Uint64("bench.seed", 1, "open loop: seed of the Poisson arrivals")
	flagSearchSteps   = flag.Int("bench.search-steps", 3, "open loop: bisection steps of the saturation search")
	flagDelays        = flag.String("bench.delays", "0,20ms,200ms", "latency mode: the fake services' answer delay of each row")
	flagWorkerCounts  = flag.String("bench.worker-counts", "32,128,512,1024", "latency mode: MaxConcurrentReconciles of each column")
	flagMemorySagas   = flag.Int("bench.memory-sagas", 10000, "memory mode: finished sagas in the manager's cache when its memory is read")
	flagSettle        = flag.Duration("bench.settle", 5*time.Second, "memory mode: wait after the last saga ended before reading memory")
	flagReplicaCounts = flag.String("bench.replica-counts", "1,2,3", "replicas mode: cmd/manager replicas of each row (above 1: --shards)")
	flagOut           = flag.String("bench.out", "results", "folder of the markdown results (git-ignored)")
)

// shared is the control plane and fake services, started once by TestMain when benchmarks
// were asked for.
var shared *Stack

// TestMain starts the stack only when benchmarks were asked for, so that `go test ./...`
// pays nothing for this package.
func TestMain(m *testing.M) {
	flag.Parse()
	ctrllog.SetLogger(logr.Discard())
	if flag.Lookup("test.bench").Value.String() == "" {
		os.Exit(m.Run())
	}
	var args []string
	if *flagAPIServerArgs != "" {
		args = strings.Split(*flagAPIServerArgs, ",")
	}
	st, err := StartStack(context.Background(), StackOptions{
		Root: filepath.Join("..", ".."), Assets: os.Getenv("KUBEBUILDER_ASSETS"), Admission: *flagAdmission, AdmissionDir: *flagAdmissionDir,
		APIServerArgs: args,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared = st
	code := m.Run()
	st.Stop()
	os.Exit(code)
}

// BenchmarkOrderSaga runs the mode -bench.mode once and prints its report. The number of
// sagas is -bench.sagas, not b.N: run it with -benchtime 1x.
func BenchmarkOrderSaga(b *testing.B) {
	if b.N > 1 {
		b.Skip("run with -benchtime 1x: the load is set by -bench.sagas, not b.N")
	}
	cfg, err := configFromFlags()
	if err != nil {
		b.Fatal(err)
	}
	report, err := Run(b.Context(), shared, cfg)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintln(os.Stdout, report.Markdown())
	path, err := report.Write(cfg.OutDir)
	if err != nil {
		b.Fatal(err)
	}
	fmt.Fprintf(os.Stdout, "results written to test/bench/%s\n", path)
	// The wall time of one run is no per-operation figure: ns/op is suppressed.
	b.ReportMetric(0, "ns/op")
	for unit, v := range report.Headline {
		b.ReportMetric(v, unit)
	}
}

func configFromFlags() (Config, error) {
	cfg := Config{
		Mode: *flagMode, Command: commandLine(), OutDir: *flagOut,
		Sagas: *flagSagas, Clients: *flagClients, Workers: *flagWorkers, Timeout: *flagTimeout,
		Window: *flagWindow, Arrivals: Arrivals(*flagArrivals), Seed: *flagSeed, SearchSteps: *flagSearchSteps,
		MemorySagas: *flagMemorySagas, Settle: *flagSettle,
	}
	for k := range strings.SplitSeq(*flagManagers, ",") {
		kind := ManagerKind(strings.TrimSpace(k))
		if kind != InProcess && kind != Subprocess {
			return cfg, fmt.Errorf("-bench.manager: %q is neither inprocess nor subprocess", k)
		}
		cfg.Managers = append(cfg.Managers, kind)
	}
	if cfg.Arrivals != Poisson && cfg.Arrivals != Uniform {
		return cfg, fmt.Errorf("-bench.arrivals: %q is neither poisson nor uniform", cfg.Arrivals)
	}
	var err error
	if cfg.Delays, err = parseList(*flagDelays, parseDelay); err != nil {
		return cfg, fmt.Errorf("-bench.delays: %w", err)
	}
	if cfg.WorkerCounts, err = parseList(*flagWorkerCounts, strconv.Atoi); err != nil {
		return cfg, fmt.Errorf("-bench.worker-counts: %w", err)
	}
	if cfg.ReplicaCounts, err = parseList(*flagReplicaCounts, strconv.Atoi); err != nil {
		return cfg, fmt.Errorf("-bench.replica-counts: %w", err)
	}
	return cfg, nil
}

func parseList[T any](s string, parse func(string) (T, error)) ([]T, error) {
	var out []T
	for f := range strings.SplitSeq(s, ",") {
		v, err := parse(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// commandLine is the go test command that reproduces this run: the package, and every
// -bench.* flag that was set.
func commandLine() string {
	parts := []string{"go test ./test/bench -run '^$' -bench BenchmarkOrderSaga -benchtime 1x"}
	flag.Visit(func(f *flag.Flag) {
		if strings.HasPrefix(f.Name, "bench.") {
			parts = append(parts, fmt.Sprintf("-%s=%s", f.Name, f.Value))
		}
	})
	return strings.Join(parts, " ")
}

// parseDelay is time.ParseDuration that also takes a bare 0.
func parseDelay(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("delay: %w", err)
	}
	return d, nil
}
