package sagasim

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// Options shape the schedules. The zero value takes the defaults.
type Options struct {
	// Steps is the length of the faulty part of a schedule; 0 means 80.
	Steps int
	// MaxSagas is the most sagas a schedule runs; 0 means 3.
	MaxSagas int
	// Kind is what the sagas are: OrderSagas (the zero value), or Sagas of Definition.
	Kind Kind
	// Definition is the order saga written as a SagaDefinition's spec (LoadDefinition),
	// which the Sagas run on; Saga mode needs it. Run does not change it.
	Definition *v1.SagaDefinitionSpec
}

// Result is one schedule's verdict.
type Result struct {
	Seed uint64
	Kind Kind
	// Trace is the schedule as it ran, one event per line.
	Trace string
	// Violations are the broken invariants; empty means the schedule passed.
	Violations []Violation
	// Reconciles counts the reconciles the schedule ran.
	Reconciles int
}

// Failed reports whether an invariant broke.
func (r Result) Failed() bool { return len(r.Violations) > 0 }

// String renders the verdict with the schedule, as a failing seed prints itself.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d (%s): %d reconciles\n%s\n", r.Seed, r.Kind, r.Reconciles, r.Trace)
	for _, v := range r.Violations {
		fmt.Fprintf(&b, "VIOLATION of %q: %s\n", v.Invariant, v.Message)
	}
	return b.String()
}

// epoch is the simulated time at which every schedule starts.
func epoch() time.Time { return time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC) }

// reconcile limits: a saga that is still not finished after this many reconciles once
// the faults stopped is stuck (a hot loop or a lost wake-up).
const settleReconcilesPerSaga = 300

// sim is one schedule in progress.
type sim struct {
	opts   Options
	rng    *rand.Rand
	clock  *Clock
	trace  *trace
	models *servicemodel.World
	api    *apiServer
	// informer is the manager's cache of sagas, which the reconcilers read.
	informer *informer
	// overlapping is set while another replica of the manager reconciles (writeOverlap).
	overlapping bool
	net         network
	proc        *process
	faults      faultRates
	// kind runs the sagas; def is the SagaDefinition they run on, in Saga mode only.
	kind sagaKind
	def  *definition

	sagas      []*v1.OrderSaga // as generated, in creation order
	stock      map[string]int  // each product's stock before any saga
	queue      map[string]time.Time
	failures   map[string]int // consecutive reconcile errors, for the workqueue's backoff
	late       []parcel
	tokens     int
	reconciles int
	violations []Violation
}

// Run plays the schedule of seed and checks the invariants at its end.
func Run(seed uint64, opts Options) Result {
	opts.Steps = cmp.Or(opts.Steps, 80)
	opts.MaxSagas = cmp.Or(opts.MaxSagas, 3)
	opts.Kind = cmp.Or(opts.Kind, KindOrderSaga)
	s := &sim{
		opts:     opts,
		rng:      rand.New(rand.NewPCG(seed, seed^0x5a6a5a6a)), //nolint:gosec // G404: seeded on purpose, so that a seed replays its schedule
		clock:    &Clock{now: epoch()},
		queue:    map[string]time.Time{},
		failures: map[string]int{},
		stock:    map[string]int{},
		proc:     &process{incarnation: 1},
	}
	s.trace = &trace{start: epoch(), clock: s.clock}
	s.net = network{sim: s}
	products := catalog(s.rng)
	for _, p := range products {
		s.stock[p.ID] = p.Stock
	}
	s.models = servicemodel.New(servicemodel.Config{Now: s.clock.Now, Catalog: products, Payment: paymentRules(),
		FailCustomers: []string{failingCustomer}})
	s.api = newAPIServer(s)
	s.informer = newInformer(s)
	s.faults = drawRates(s.rng)
	s.kind = orderSagas{s}
	if opts.Kind == KindSaga && !s.setUpDefinition(context.Background(), seed) {
		return s.result(seed)
	}
	s.play(context.Background())
	return s.result(seed)
}

func (s *sim) result(seed uint64) Result {
	return Result{Seed: seed, Kind: s.opts.Kind, Trace: s.trace.String(), Violations: s.violations, Reconciles: s.reconciles}
}

// play runs the faulty part, then heals everything (and deletes the Sagas that a deleted
// definition keeps from starting), lets every saga end, re-drives the Failed ones (or
// abandons them), and checks the invariants.
func (s *sim) play(ctx context.Context) {
	want := 1 + s.rng.IntN(s.opts.MaxSagas)
	for range s.opts.Steps {
		s.step(ctx, want)
	}
	s.faults = healed()
	s.trace.addf("--- faults stop")
	for len(s.sagas) < want {
		s.create(ctx)
	}
	for _, sg := range s.sagas {
		if obj, ok := s.api.get(ctx, sg.Name); ok && obj.Spec.Suspend {
			s.userChange(ctx, sg.Name, "resume", func(o client.Object) { *s.kind.suspend(o) = false })
		}
	}
	s.deleteStranded(ctx)
	for len(s.late) > 0 && s.rng.IntN(2) == 0 {
		s.net.deliverLate(ctx, s.rng.IntN(len(s.late)))
	}
	if !s.settle(ctx) {
		return
	}
	s.redriveFailed(ctx)
	for len(s.late) > 0 { // whatever the network still holds arrives after the end
		s.net.deliverLate(ctx, 0)
	}
	s.checkInvariants(ctx)
	s.checkDefinitionReleased(ctx)
}

// step is one point of the faulty schedule: a new saga, a user's change, a clock jump, a
// late delivery, or the next reconcile.
func (s *sim) step(ctx context.Context, want int) {
	r := s.rng.IntN(100)
	switch {
	case len(s.sagas) < want && r < 10:
		s.create(ctx)
	case len(s.sagas) > 0 && r < 10+s.faults.external:
		s.externalChange(ctx, s.sagas[s.rng.IntN(len(s.sagas))].Name, "")
	case r < 10+s.faults.external+s.faults.jump:
		d := time.Duration(1+s.rng.IntN(600)) * time.Second
		s.clock.Advance(d)
		s.trace.addf("clock jumps %s", d)
	case len(s.late) > 0 && r < 20+s.faults.external+s.faults.jump:
		s.net.deliverLate(ctx, s.rng.IntN(len(s.late)))
	default:
		s.reconcileNext(ctx)
	}
}

// settle reconciles until no saga's work is queued. It reports false, with a violation,
// when a saga is still not finished after the bound.
func (s *sim) settle(ctx context.Context) bool {
	limit := settleReconcilesPerSaga * max(1, len(s.sagas))
	for range limit {
		if !s.sagaQueued() || !s.reconcileNext(ctx) {
			break
		}
	}
	var stuck []string
	for _, sg := range s.sagas {
		obj, ok := s.api.get(ctx, sg.Name)
		if ok && !obj.Status.Phase.IsTerminal() {
			stuck = append(stuck, fmt.Sprintf("%s (phase %q, %s)", sg.Name, obj.Status.Phase, obj.Status.Message))
		}
		if ok && obj.Status.Phase.IsTerminal() && !obj.DeletionTimestamp.IsZero() && obj.Status.Phase != v1.PhaseFailed {
			stuck = append(stuck, sg.Name+" (finished and deleted, but its finalizer was never released)")
		}
	}
	if len(stuck) > 0 {
		s.violatef(invEnds, "every saga ends: after the faults stopped and %d reconciles, still not finished: %s", limit, strings.Join(stuck, "; "))
		return false
	}
	return true
}

func (s *sim) violatef(invariant, format string, args ...any) {
	s.violations = append(s.violations, Violation{Invariant: invariant, Message: fmt.Sprintf(format, args...)})
}
