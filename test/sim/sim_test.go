// Package sim drives the deterministic fault-schedule simulator (internal/sagasim):
// make test runs a bounded set of seeds, make sim SEEDS=n runs long, and make sim SEED=n
// replays one schedule and prints it.
package sim

import (
	"bufio"
	"cmp"
	"flag"
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

	"github.com/ordersaga/ordersaga/internal/sagasim"
)

var (
	seeds    = flag.Uint64("sim.seeds", 5000, "number of schedules to run, seeds sim.first to sim.first+sim.seeds-1")
	first    = flag.Uint64("sim.first", 1, "first seed of the run")
	seed     = flag.Uint64("sim.seed", 0, "replay this one seed and print its schedule (0: run sim.seeds schedules)")
	steps    = flag.Int("sim.steps", 0, "length of the faulty part of each schedule (0: the simulator's default)")
	maxShown = flag.Int("sim.show", 3, "failing schedules printed in full")
)

func TestMain(m *testing.M) {
	// The reconciler logs through controller-runtime; a schedule's trace says what matters.
	ctrl.SetLogger(logr.Discard())
	flag.Parse()
	os.Exit(m.Run())
}

// regressions are the seeds that once failed; they run on every make test.
const regressions = "testdata/regressions.txt"

func TestReplay(t *testing.T) {
	if *seed == 0 {
		t.Skip("no -sim.seed given")
	}
	r := sagasim.Run(*seed, sagasim.Options{Steps: *steps})
	t.Log("\n" + r.String())
	if r.Failed() {
		t.Fatalf("seed %d broke %d invariant(s)", *seed, len(r.Violations))
	}
}

func TestRegressions(t *testing.T) {
	for _, s := range readRegressions(t) {
		if r := sagasim.Run(s, sagasim.Options{Steps: *steps}); r.Failed() {
			t.Errorf("regression seed %d fails again (replay: make sim SEED=%d):\n%s", s, s, r)
		}
	}
}

func TestSchedules(t *testing.T) {
	if *seed != 0 {
		t.Skip("replaying one seed")
	}
	start := time.Now()
	var next atomic.Uint64
	next.Store(*first)
	last := *first + *seeds
	var (
		mu         sync.Mutex
		failed     []sagasim.Result
		reconciles atomic.Int64
		wg         sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for s := next.Add(1) - 1; s < last; s = next.Add(1) - 1 {
				r := sagasim.Run(s, sagasim.Options{Steps: *steps})
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
	t.Logf("%d schedules (seeds %d..%d), %d reconciles, %d failed, in %s",
		*seeds, *first, last-1, reconciles.Load(), len(failed), time.Since(start).Round(time.Millisecond))
	if len(failed) == 0 {
		return
	}
	slices.SortFunc(failed, func(a, b sagasim.Result) int { return cmp.Compare(a.Seed, b.Seed) })
	for i, r := range failed[:min(len(failed), *maxShown)] {
		t.Errorf("schedule %d of %d failed (replay: make sim SEED=%d):\n%s", i+1, len(failed), r.Seed, r)
	}
	// Per invariant: how many seeds broke it, and the first few, so that one run says
	// which defects it found and how many schedules each needed.
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
	t.Errorf("%d of %d schedules failed; once fixed, add the seeds that found each defect to test/sim/%s", len(failed), *seeds, regressions)
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
