// Package sim drives the deterministic fault-schedule simulator (internal/sagasim) on
// both kinds of saga: OrderSagas, and Sagas of the order SagaDefinition. make test runs a
// bounded set of seeds of each, make sim SEEDS=n runs n of each, and make sim SEED=n
// replays one schedule and prints it (KIND=ordersaga or KIND=saga picks one kind).
package sim

import (
	"bufio"
	"cmp"
	"flag"
	"fmt"
	"maps"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/sagasim"
)

// Seeds of a run when -sim.seeds is not given (make test): a Saga schedule costs about
// ten OrderSaga ones, as its manager compiles the definition's expressions each time it starts.
const (
	defaultSeeds     = 5000
	defaultSagaSeeds = 500
)

// definitionFiles are where the order SagaDefinition is read from, the first that exists:
// the sample that users apply, else the spec that internal/sagadef's tests compile.
var definitionFiles = []string{
	"../../config/samples/saga_v1alpha1_sagadefinition_order_fulfilment.yaml",
	"../../internal/sagadef/testdata/order.yaml",
}

var (
	seeds    = flag.Uint64("sim.seeds", defaultSeeds, "number of schedules of each kind to run, seeds sim.first to sim.first+sim.seeds-1 (without it, "+strconv.Itoa(defaultSagaSeeds)+" of kind saga)")
	kinds    = flag.String("sim.kind", "both", "kinds of saga to run: ordersaga, saga, or both")
	first    = flag.Uint64("sim.first", 1, "first seed of the run")
	seed     = flag.Uint64("sim.seed", 0, "replay this one seed and print its schedule (0: run sim.seeds schedules)")
	steps    = flag.Int("sim.steps", 0, "length of the faulty part of each schedule (0: the simulator's default)")
	maxShown = flag.Int("sim.show", 3, "failing schedules printed in full")
)

// definition is the order SagaDefinition's spec, read once; Run does not change it.
var (
	definition     *v1.SagaDefinitionSpec
	definitionFile string
)

func TestMain(m *testing.M) {
	// The reconciler logs through controller-runtime; a schedule's trace says what matters.
	ctrl.SetLogger(logr.Discard())
	flag.Parse()
	for _, path := range definitionFiles {
		if _, err := os.Stat(path); err != nil {
			continue
		}
		def, err := sagasim.LoadDefinition(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		definition, definitionFile = def, path
		break
	}
	os.Exit(m.Run())
}

// kindsToRun are the kinds -sim.kind names.
func kindsToRun(t *testing.T) []sagasim.Kind {
	t.Helper()
	if *kinds == "both" {
		return sagasim.Kinds()
	}
	k, err := sagasim.ParseKind(*kinds)
	if err != nil {
		t.Fatalf("-sim.kind: %v", err)
	}
	return []sagasim.Kind{k}
}

// options are the schedules' options for kind.
func options(t *testing.T, kind sagasim.Kind) sagasim.Options {
	t.Helper()
	if kind == sagasim.KindSaga && definition == nil {
		t.Fatalf("no order SagaDefinition in %s", strings.Join(definitionFiles, " or "))
	}
	return sagasim.Options{Steps: *steps, Kind: kind, Definition: definition}
}

// seedsOf is how many schedules of kind a run has.
func seedsOf(kind sagasim.Kind) uint64 {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == "sim.seeds" })
	if kind == sagasim.KindSaga && !given {
		return defaultSagaSeeds
	}
	return *seeds
}

// regressions are the seeds that once failed; they run on every make test.
const regressions = "testdata/regressions.txt"

func TestReplay(t *testing.T) {
	if *seed == 0 {
		t.Skip("no -sim.seed given")
	}
	for _, kind := range kindsToRun(t) {
		r := sagasim.Run(*seed, options(t, kind))
		t.Log("\n" + r.String())
		if r.Failed() {
			t.Errorf("seed %d (%s) broke %d invariant(s)", *seed, kind, len(r.Violations))
		}
	}
}

// TestRegressions runs the seeds that once failed, on every kind: a schedule that found a
// defect on one is a good schedule for the other.
func TestRegressions(t *testing.T) {
	for _, kind := range kindsToRun(t) {
		for _, s := range readRegressions(t) {
			if r := sagasim.Run(s, options(t, kind)); r.Failed() {
				t.Errorf("regression seed %d fails again on %s (replay: make sim SEED=%d KIND=%s):\n%s", s, kind, s, kind, r)
			}
		}
	}
}

func TestSchedules(t *testing.T) {
	if *seed != 0 {
		t.Skip("replaying one seed")
	}
	for _, kind := range kindsToRun(t) {
		t.Run(string(kind), func(t *testing.T) { runSchedules(t, kind) })
	}
}

// runSchedules runs the schedules of kind on every CPU and reports the failing ones.
func runSchedules(t *testing.T, kind sagasim.Kind) {
	t.Helper()
	opts := options(t, kind)
	if kind == sagasim.KindSaga {
		t.Logf("the order SagaDefinition is %s", definitionFile)
	}
	start := time.Now()
	var next atomic.Uint64
	next.Store(*first)
	n := seedsOf(kind)
	last := *first + n
	var (
		mu         sync.Mutex
		failed     []sagasim.Result
		reconciles atomic.Int64
		wg         sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for s := next.Add(1) - 1; s < last; s = next.Add(1) - 1 {
				r := sagasim.Run(s, opts)
				reconciles.Add(int64(r.Reconciles))
				if r.Failed() {
					mu.Lock()
					failed = append(failed, r)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d %s schedules (seeds %d..%d), %d reconciles, %d failed, in %s",
		n, kind, *first, last-1, reconciles.Load(), len(failed), time.Since(start).Round(time.Millisecond))
	if len(failed) > 0 {
		reportFailures(t, kind, n, failed)
	}
}

// reportFailures prints the first failing schedules in full, then, per invariant, how many
// seeds broke it and the first few: one run says which defects it found and how many
// schedules each needed.
func reportFailures(t *testing.T, kind sagasim.Kind, n uint64, failed []sagasim.Result) {
	t.Helper()
	slices.SortFunc(failed, func(a, b sagasim.Result) int { return cmp.Compare(a.Seed, b.Seed) })
	for i, r := range failed[:min(len(failed), *maxShown)] {
		t.Errorf("schedule %d of %d failed (replay: make sim SEED=%d KIND=%s):\n%s", i+1, len(failed), r.Seed, kind, r)
	}
	seedsOf := map[string][]string{}
	for _, r := range failed {
		done := map[string]bool{}
		for _, v := range r.Violations {
			if !done[v.Invariant] {
				done[v.Invariant] = true
				seedsOf[v.Invariant] = append(seedsOf[v.Invariant], strconv.FormatUint(r.Seed, 10))
			}
		}
	}
	for _, inv := range slices.Sorted(maps.Keys(seedsOf)) {
		ids := seedsOf[inv]
		t.Errorf("%q broken by %d seeds, first: %s", inv, len(ids), strings.Join(ids[:min(len(ids), 10)], " "))
	}
	t.Errorf("%d of %d %s schedules failed; once fixed, add the seeds that found each defect to test/sim/%s", len(failed), n, kind, regressions)
}

func readRegressions(t *testing.T) []uint64 {
	t.Helper()
	f, err := os.Open(regressions)
	if err != nil {
		t.Fatalf("read regression seeds: %v", err)
	}
	defer func() { _ = f.Close() }()
	var out []uint64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		s, err := strconv.ParseUint(line, 10, 64)
		if err != nil {
			t.Fatalf("%s: %q: %v", regressions, line, err)
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatalf("read %s: %v", regressions, err)
	}
	return out
}
