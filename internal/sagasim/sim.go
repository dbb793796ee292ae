package sagasim

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// Options shape the schedules. The zero value takes the defaults.
type Options struct {
	// Steps is the length of the faulty part of a schedule; 0 means 80.
	Steps int
	// MaxSagas is the most sagas a schedule runs; 0 means 3.
	MaxSagas int
}

// Result is one schedule's verdict.
type Result struct {
	Seed uint64
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
	fmt.Fprintf(&b, "seed %d: %d reconciles\n%s\n", r.Seed, r.Reconciles, r.Trace)
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
	net    network
	proc   *process
	faults faultRates

	sagas      []*v1.OrderSaga // as created, in creation order
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
	s.faults = drawRates(s.rng)
	s.play(context.Background())
	return Result{Seed: seed, Trace: s.trace.String(), Violations: s.violations, Reconciles: s.reconciles}
}

// play runs the faulty part, then heals everything, lets every saga end, re-drives the
// Failed ones (or abandons them), and checks the invariants.
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
			s.userChange(ctx, sg.Name, "resume", func(o *v1.OrderSaga) { o.Spec.Suspend = false })
		}
	}
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

// settle reconciles until no work is queued. It reports false, with a violation, when a
// saga is still not finished after the bound.
func (s *sim) settle(ctx context.Context) bool {
	limit := settleReconcilesPerSaga * max(1, len(s.sagas))
	for range limit {
		if !s.reconcileNext(ctx) {
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

// redriveFailed ends every Failed saga as an operator would once the cause is gone: half
// are re-driven with the retry annotation and must end Compensated; the others are
// abandoned (deleted, then the abandon annotation) and must be released, listing what is
// left undone. Failed is only acceptable for a compensation that kept failing
// transiently, a cause the schedule made and then lifted.
func (s *sim) redriveFailed(ctx context.Context) {
	acted := false
	abandoned := map[string]bool{}
	for _, sg := range s.sagas {
		obj, ok := s.api.get(ctx, sg.Name)
		if !ok || obj.Status.Phase != v1.PhaseFailed {
			continue
		}
		if cause := failedCompensation(obj); cause != "" && !transientCode(cause) {
			s.violatef(invFailedCause, "%s: Failed for a permanent cause the schedule did not make: %s", sg.Name, obj.Status.Message)
		}
		acted = true
		if s.rng.IntN(2) == 0 {
			abandoned[sg.Name] = true
			s.abandon(ctx, sg.Name)
			continue
		}
		s.userChange(ctx, sg.Name, "re-drive", func(o *v1.OrderSaga) {
			setAnnotation(o, v1.RetryAnnotation, "redrive-"+s.api.nextToken())
		})
	}
	if !acted || !s.settle(ctx) {
		return
	}
	for _, sg := range s.sagas {
		obj, ok := s.api.get(ctx, sg.Name)
		switch {
		case ok && abandoned[sg.Name]:
			s.violatef(invAbandoned, "%s: abandoned while Failed and deleted, but still there: %s", sg.Name, obj.Status.Message)
		case ok && obj.Status.Phase == v1.PhaseFailed:
			s.violatef(invRedrive, "%s: still Failed after its cause was lifted and it was re-driven: %s", sg.Name, obj.Status.Message)
		}
	}
}

// abandon gives up on a Failed saga as `sagactl abandon` does: delete it, then set the
// abandon annotation.
func (s *sim) abandon(ctx context.Context, name string) {
	s.userDelete(ctx, name, " to abandon it")
	s.userChange(ctx, name, "sets the abandon annotation", func(o *v1.OrderSaga) {
		setAnnotation(o, v1.AbandonAnnotation, "abandon-"+s.api.nextToken())
	})
}

// failedCompensation is the error code of the compensation that gave up.
func failedCompensation(obj *v1.OrderSaga) string {
	for _, st := range obj.Status.Steps {
		if c := st.Compensation; c != nil && c.State == v1.CallFailed {
			code, _, _ := strings.Cut(c.LastError, ":")
			return code
		}
	}
	return ""
}

func transientCode(code string) bool {
	switch code {
	case "TIMEOUT", "CONNECTION", "CANCELED", "UNAVAILABLE", "HTTP_503", "HTTP_429", "HTTP_500", "HTTP_502", "HTTP_504":
		return true
	}
	return false
}

// create stores the next saga, as kubectl apply would.
func (s *sim) create(ctx context.Context) {
	obj := newSaga(s.rng, len(s.sagas)+1, s.clock.Now())
	if err := s.api.store.Create(ctx, obj); err != nil {
		s.violatef(invSetup, "create %s: %v", obj.Name, err)
		return
	}
	s.sagas = append(s.sagas, obj.DeepCopy())
	s.api.remember(ctx, obj.Name)
	s.trace.addf("%s: created (items %s, %s, to %s, customer %s, stepTimeout %s, maxAttempts %d, suspend %t)", obj.Name,
		itemsText(obj.Spec.Items), obj.Spec.PaymentMethod, obj.Spec.Shipping.Address.Country, obj.Spec.CustomerID,
		obj.Spec.StepTimeout.Duration, obj.Spec.RetryPolicy.MaxAttempts, obj.Spec.Suspend)
	s.enqueue(obj.Name, s.clock.Now())
}

func itemsText(items []v1.OrderItem) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, fmt.Sprintf("%dx%s@%s", it.Quantity, it.ProductID, it.UnitPrice))
	}
	return strings.Join(parts, "+")
}

// externalChange is a user's change to a saga at any moment: deletion, a suspend toggle,
// a retry annotation, the abandon annotation, another annotation, or a label. The first four pass the
// controller's predicates and wake the saga; a label change only bumps the version.
func (s *sim) externalChange(ctx context.Context, name, when string) {
	if name == "" {
		return
	}
	what := s.rng.IntN(10)
	suffix := ""
	if when != "" {
		suffix = " " + when
	}
	switch {
	case what < 3:
		s.userDelete(ctx, name, suffix)
	case what < 5:
		s.userChange(ctx, name, "toggles suspend"+suffix, func(o *v1.OrderSaga) { o.Spec.Suspend = !o.Spec.Suspend })
	case what < 7:
		s.userChange(ctx, name, "sets the retry annotation"+suffix, func(o *v1.OrderSaga) {
			setAnnotation(o, v1.RetryAnnotation, s.api.nextToken())
		})
	case what < 8 && s.rng.IntN(2) == 0: // refused unless the saga is Failed and being deleted
		s.userChange(ctx, name, "sets the abandon annotation"+suffix, func(o *v1.OrderSaga) {
			setAnnotation(o, v1.AbandonAnnotation, s.api.nextToken())
		})
	case what < 8:
		s.userChange(ctx, name, "sets another annotation"+suffix, func(o *v1.OrderSaga) {
			setAnnotation(o, "example.com/note", s.api.nextToken())
		})
	default:
		if s.api.mutate(ctx, name, func(o *v1.OrderSaga) {
			if o.Labels == nil {
				o.Labels = map[string]string{}
			}
			o.Labels["example.com/touched"] = s.api.nextToken()
		}) {
			s.trace.addf("%s: user changes a label%s", name, suffix)
		}
	}
}

// userDelete deletes a saga that is not being deleted yet, as kubectl delete would, and
// wakes it; suffix ends the trace line.
func (s *sim) userDelete(ctx context.Context, name, suffix string) {
	obj, ok := s.api.get(ctx, name)
	if !ok || !obj.DeletionTimestamp.IsZero() {
		return
	}
	if err := s.api.store.Delete(ctx, obj); err != nil {
		s.trace.addf("%s: user delete refused: %v", name, err)
		return
	}
	s.api.remember(ctx, name)
	s.trace.addf("%s: user deletes it%s", name, suffix)
	s.enqueue(name, s.clock.Now())
}

// userChange applies a change that passes the controller's predicates and so wakes the saga.
func (s *sim) userChange(ctx context.Context, name, what string, change func(*v1.OrderSaga)) {
	if s.api.mutate(ctx, name, change) {
		s.trace.addf("%s: user %s", name, what)
		s.enqueue(name, s.clock.Now())
	}
}

func setAnnotation(o *v1.OrderSaga, key, value string) {
	if o.Annotations == nil {
		o.Annotations = map[string]string{}
	}
	o.Annotations[key] = value
}

// enqueue asks for a reconcile of name at the latest at t, as the workqueue keeps one
// entry per key with its earliest time.
func (s *sim) enqueue(name string, t time.Time) {
	if due, ok := s.queue[name]; !ok || t.Before(due) {
		s.queue[name] = t
	}
}

// reconcileNext runs the reconcile due first, moving the clock to its time. It reports
// false when nothing is queued.
func (s *sim) reconcileNext(ctx context.Context) bool {
	if len(s.queue) == 0 {
		return false
	}
	names := make([]string, 0, len(s.queue))
	for name := range s.queue {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := s.queue[a].Compare(s.queue[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	name := names[0]
	s.clock.AdvanceTo(s.queue[name])
	delete(s.queue, name)
	s.reconcile(ctx, name)
	return true
}

// reconcile runs the real reconciler once for name, perhaps crashing the manager at one
// of its operations.
func (s *sim) reconcile(ctx context.Context, name string) {
	s.reconciles++
	crashAt := 0
	if s.rng.IntN(1000) < s.faults.crash {
		crashAt = 1 + s.rng.IntN(10)
	}
	s.proc.begin(crashAt)
	res, err := s.reconciler().Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: Namespace, Name: name}})
	if s.proc.dead {
		s.restart(ctx)
		return
	}
	if obj, ok := s.api.get(ctx, name); ok {
		s.trace.addf("%s: reconciled: %s, step %s; %s", name, obj.Status.Phase, obj.Status.CurrentStep, resultText(res, err))
	} else {
		s.trace.addf("%s: reconciled: gone", name)
	}
	switch {
	case err != nil:
		s.failures[name]++
		s.enqueue(name, s.clock.Now().Add(workqueueBackoff(s.failures[name])))
	case res.RequeueAfter > 0:
		delete(s.failures, name)
		s.enqueue(name, s.clock.Now().Add(res.RequeueAfter))
	default:
		delete(s.failures, name)
	}
}

func resultText(res ctrl.Result, err error) string {
	switch {
	case err != nil:
		return "error: " + errText(err)
	case res.RequeueAfter > 0:
		return "requeue after " + res.RequeueAfter.String()
	}
	return "done"
}

// workqueueBackoff is controller-runtime's default per-item backoff: 5ms doubling to 1000s.
func workqueueBackoff(failures int) time.Duration {
	d := 5 * time.Millisecond
	for i := 1; i < failures && d < 1000*time.Second; i++ {
		d *= 2
	}
	return min(d, 1000*time.Second)
}

// restart starts a new manager after a crash: its queue starts empty and its informer's
// first list wakes every saga that still exists.
func (s *sim) restart(ctx context.Context) {
	s.proc = &process{incarnation: s.proc.incarnation + 1}
	s.trace.addf("--- manager crashed; manager %d starts", s.proc.incarnation)
	s.queue = map[string]time.Time{}
	s.failures = map[string]int{}
	s.clock.Advance(time.Second)
	for _, sg := range s.sagas {
		if _, ok := s.api.get(ctx, sg.Name); ok {
			s.enqueue(sg.Name, s.clock.Now())
		}
	}
}

// reconciler is the real reconciler, wired to the models: the API server model, the
// simulated network and clock, and an Event recorder that writes to the trace.
func (s *sim) reconciler() *controllers.OrderSagaReconciler {
	c := s.api.client()
	overrides := map[string]string{}
	for _, name := range stepclient.Services() {
		overrides[name] = s.models.URL(name)
	}
	return &controllers.OrderSagaReconciler{
		Client:               c,
		APIReader:            c,
		Steps:                ordersaga.Caller{Client: stepclient.NewWithTransport(stepclient.Resolver{Overrides: overrides}, s.net)},
		Recorder:             recorder{s},
		Clock:                s.clock,
		MaxCallsPerReconcile: controllers.DefaultMaxCallsPerReconcile,
		ReconcileBudget:      controllers.DefaultReconcileBudget,
		ProgressInterval:     controllers.DefaultProgressInterval,
	}
}

// sagaOfKey names the saga of an idempotency key (uid/step/direction).
func (s *sim) sagaOfKey(key string) string {
	uid, _, _ := strings.Cut(key, "/")
	for _, sg := range s.sagas {
		if string(sg.UID) == uid {
			return sg.Name
		}
	}
	return "?"
}

func (s *sim) stepTimeoutOf(name string) time.Duration {
	for _, sg := range s.sagas {
		if sg.Name == name {
			return ordersaga.Plan(&sg.Spec).LongestTimeout()
		}
	}
	return saga.DefaultStepTimeout
}

func (s *sim) violatef(invariant, format string, args ...any) {
	s.violations = append(s.violations, Violation{Invariant: invariant, Message: fmt.Sprintf(format, args...)})
}
