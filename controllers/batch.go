package controllers

import (
	"context"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// sagaRun is one saga, of either kind, as one reconcile drives it through the engine: the
// kind's adapter turns its object into the engine's view, makes its calls, and writes the
// engine's status back into the object.
type sagaRun interface {
	// view is the engine's view of the saga as the object is now.
	view() saga.View
	// call makes one call of the saga and classifies its outcome.
	call(ctx context.Context, plan *saga.Plan, c saga.Call) saga.Outcome
	// store writes the engine's status into the object.
	store(run *v1.SagaStatus)
	// words is what the kind's Events say.
	words() vocabulary
	// metric names the saga's definition in metrics.
	metric() string
	// object is the saga's object, as the batch has changed it.
	object() client.Object
}

// batchLoop holds what a batch of calls is bounded by and reports to; both reconcilers
// run their sagas through it.
type batchLoop struct {
	// cache is where the loop looks, before the pivot, for a deletion the batch has not
	// seen (the reconciler's cache-backed client).
	cache    client.Reader
	clock    Clock
	metrics  *Metrics
	kind     string // kindOrderSaga or kindSaga, for the metrics
	maxCalls int
	budget   time.Duration
	progress time.Duration
}

// batch is what one reconcile did before its status write: the last decision, the
// Events of the transitions it recorded, and when the saga wants the next reconcile.
type batch struct {
	last         saga.Decision
	events       []event
	requeueAfter time.Duration
	plan         *saga.Plan
}

// continueNow is the requeueAfter of a batch that stopped with more to do at once: a
// checkpoint to store before its call, or the batch's own limits.
const continueNow = time.Millisecond

// run asks the engine and makes its calls back to back, recording each into the object,
// until the engine waits, a checkpoint must be stored, or the batch's limits are reached.
// stored is the status as the API server holds it.
func (l batchLoop) run(ctx context.Context, s sagaRun, stored *v1.SagaStatus) batch {
	var b batch
	started := l.clock.Now()
	// A cancelled ctx means the manager is shutting down: no new call starts, and the
	// batch so far is still written (the status write has a context of its own).
	for calls := 0; calls < l.maxCalls && ctx.Err() == nil; {
		view := s.view()
		view.Stored = stored
		b.plan = view.Plan
		b.last = saga.Next(view, l.clock.Now())
		var out saga.Outcome
		if b.last.Kind == saga.KindCall {
			// The first call always runs, whatever its timeout: a budget that no call fits
			// in would otherwise requeue the saga for ever without a call.
			if calls > 0 && !l.timeLeft(started, view.Plan) {
				break
			}
			if !view.Deleting && pointOfNoReturn(view.Plan, *b.last.Call) && l.deletedMeanwhile(ctx, s.object()) {
				break // the next batch sees the deletion and rolls back instead
			}
			out = l.call(ctx, s, view.Plan, *b.last.Call)
			calls++
			if ctx.Err() != nil {
				// Shutdown cut the call short, so its outcome says nothing about the service.
				// It stays unrecorded: the next leader repeats it under the same key.
				break
			}
		}
		b.events = append(b.events, l.record(s, view, b.last, out)...)
		if b.last.Kind == saga.KindCheckpoint {
			break // the call is made by a later reconcile, once this record is stored
		}
		if b.last.Kind != saga.KindCall && !b.last.Continue() {
			b.requeueAfter = b.last.Wait
			return b
		}
	}
	b.requeueAfter = continueNow // more to do: continue after the write
	return b
}

// again reports whether a reconcile that started at started may run another batch after
// b's status write: b stopped with more to do, the manager is not stopping, and the
// longest call of the plan still fits in the reconcile's budget. Going on in the same
// reconcile, from the object the write returned, spares a read and a trip through the
// workqueue, and needs no cache to have seen the write.
func (l batchLoop) again(ctx context.Context, b batch, started time.Time) bool {
	if b.requeueAfter != continueNow || ctx.Err() != nil || b.plan == nil {
		return false
	}
	return l.clock.Now().Sub(started)+b.plan.LongestTimeout()+statusWriteGrace <= l.budget
}

// record applies a decision and its outcome to the saga and returns the Events of the
// transitions it made.
func (l batchLoop) record(s sagaRun, view saga.View, d saga.Decision, out saga.Outcome) []event {
	run := view.Status.DeepCopy()
	saga.Record(view.Plan, run, d, out, l.clock.Now())
	s.store(run)
	events := transitions(view.Plan, &view.Status, run, s.words())
	if d.Kind == saga.KindIgnoreAbandon { // a person's request that changed nothing: say why
		events = append(events, event{corev1.EventTypeWarning, v1.ReasonAbandonIgnored, "Abandon", d.Message})
	}
	return events
}

// pointOfNoReturn reports whether c is a call of the plan's pivot: once it may have run, a
// deletion no longer rolls the saga back.
func pointOfNoReturn(plan *saga.Plan, c saga.Call) bool {
	step, ok := plan.Step(c.Step)
	return ok && step.Pivot && c.Direction == saga.Action
}

// deletedMeanwhile reports whether the cache shows obj deleted, although the batch began
// before the deletion. A deleted saga whose pivot has not run is rolled back; without this
// look, a batch that began before the deletion would run the pivot, and the saga would
// finish forward, confirming an order that someone had just cancelled. A pivot of a fenced
// plan has no checkpoint to end the batch before it (docs/adr/0011), so this is the last
// moment to honour the deletion. The look is in memory; a deletion that reaches the cache
// only after it is honoured no more than before (the fence keeps the outcome consistent
// either way). An error reading the cache says nothing about a deletion: the call goes on.
func (l batchLoop) deletedMeanwhile(ctx context.Context, obj client.Object) bool {
	if l.cache == nil {
		return false
	}
	fresh, ok := obj.DeepCopyObject().(client.Object)
	if !ok || l.cache.Get(ctx, client.ObjectKeyFromObject(obj), fresh) != nil {
		return false
	}
	return !fresh.GetDeletionTimestamp().IsZero()
}

// timeLeft reports whether the batch may make one more call: the longest call of the
// plan still fits in the budget, and the batch has not yet run for the progress interval.
func (l batchLoop) timeLeft(started time.Time, plan *saga.Plan) bool {
	elapsed := l.clock.Now().Sub(started)
	return elapsed+plan.LongestTimeout()+statusWriteGrace <= l.budget && elapsed < l.progress
}

// call makes one call and measures it.
func (l batchLoop) call(ctx context.Context, s sagaRun, plan *saga.Plan, c saga.Call) saga.Outcome {
	start := l.clock.Now()
	out := s.call(ctx, plan, c)
	out.Took = l.clock.Now().Sub(start)
	l.metrics.observeCall(s.metric(), c, out, out.Took)
	return out
}

// writeStatus patches obj's status with optimistic locking. It does not inherit ctx's
// cancellation: when the manager shuts down mid-batch, the calls already made must still
// be recorded, and statusWriteGrace bounds how long that may take.
func writeStatus(ctx context.Context, c client.Client, before, obj client.Object) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), statusWriteGrace)
	defer cancel()
	//nolint:wrapcheck // the caller tells NotFound and Conflict apart by the API status error, then wraps the rest with the saga's name
	return c.Status().Patch(ctx, obj, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
}

// emit sends the collected Events about obj.
func emit(recorder events.EventRecorder, obj client.Object, events []event) {
	if recorder == nil {
		return
	}
	for _, e := range coalesceSuccesses(events) {
		recorder.Eventf(obj, nil, e.kind, e.reason, e.action, "%s", e.message)
	}
}

// observe stamps the generation a status was computed for on it and its conditions.
func observe(run *v1.SagaStatus, generation int64) {
	run.ObservedGeneration = generation
	for i := range run.Conditions {
		run.Conditions[i].ObservedGeneration = generation
	}
}

// sagaMemory is what a reconciler keeps about each saga between reconciles: its own last
// writes, for reads from a cache that may lag them, and two per-saga backoffs. It is
// usable as a zero value, so that a reconciler built as a struct literal (the simulator,
// tests) has one too.
type sagaMemory struct {
	writes    ownWrites
	conflicts lazyBackoff
	cacheLag  lazyBackoff
}

// Backoffs: a reconcile whose status write met a newer version runs again after the
// workqueue's per-item exponential delay, so that a saga someone keeps changing is retried
// ever more slowly instead of every 50 ms for ever. A cache that has not yet seen the
// controller's own write is usually a few milliseconds behind, so its recheck starts
// sooner.
const (
	conflictBaseDelay = 50 * time.Millisecond
	conflictMaxDelay  = 30 * time.Second
	cacheLagBaseDelay = 5 * time.Millisecond
	cacheLagMaxDelay  = time.Second
)

// conflicted returns when to reconcile a saga of kind whose status write conflicted, and
// counts it in metrics.
func (m *sagaMemory) conflicted(req ctrl.Request, metrics *Metrics, kind string) time.Duration {
	metrics.requeued(kind, requeueConflict)
	return m.conflicts.get(conflictBaseDelay, conflictMaxDelay).When(req)
}

// behind reports whether the cached copy of a saga of kind, at resourceVersion rv, predates
// the reconciler's own last write of it, and if so when to look again; it counts each such
// wait in metrics.
func (m *sagaMemory) behind(req ctrl.Request, rv string, metrics *Metrics, kind string) (time.Duration, bool) {
	if m.writes.stale(req.NamespacedName, rv) {
		metrics.requeued(kind, requeueCacheBehind)
		return m.cacheLag.get(cacheLagBaseDelay, cacheLagMaxDelay).When(req), true
	}
	m.cacheLag.get(cacheLagBaseDelay, cacheLagMaxDelay).Forget(req)
	return 0, false
}

// drive runs batches back to back, each one run and stored by batchOf, until the saga
// waits, a write conflicts or fails, or the reconcile's budget is spent. trail holds the
// versions obj had so far in this reconcile; what drive adds to it is remembered, so that
// the next reconcile can tell whether the cache has seen these writes.
func (m *sagaMemory) drive(ctx context.Context, req ctrl.Request, l batchLoop, obj client.Object, trail versionTrail,
	batchOf func() (b batch, conflict bool, err error)) (ctrl.Result, error) {
	defer func() { m.writes.wrote(req.NamespacedName, trail.superseded()) }()
	started := l.clock.Now()
	for {
		b, conflict, err := batchOf()
		trail.add(obj.GetResourceVersion())
		switch {
		case conflict: // the object changed meanwhile: start over from the stored version
			return ctrl.Result{RequeueAfter: m.conflicted(req, l.metrics, l.kind)}, nil
		case err != nil:
			return ctrl.Result{}, err
		}
		m.conflicts.get(conflictBaseDelay, conflictMaxDelay).Forget(req)
		if !l.again(ctx, b, started) {
			return ctrl.Result{RequeueAfter: b.requeueAfter}, nil
		}
	}
}

// forget drops what is kept about a saga that is gone.
func (m *sagaMemory) forget(req ctrl.Request) {
	m.writes.forget(req.NamespacedName)
	m.conflicts.get(conflictBaseDelay, conflictMaxDelay).Forget(req)
	m.cacheLag.get(cacheLagBaseDelay, cacheLagMaxDelay).Forget(req)
}

// lazyBackoff is a per-item exponential backoff created on first use.
type lazyBackoff struct {
	once    sync.Once
	limiter workqueue.TypedRateLimiter[ctrl.Request]
}

func (c *lazyBackoff) get(base, ceiling time.Duration) workqueue.TypedRateLimiter[ctrl.Request] {
	c.once.Do(func() {
		c.limiter = workqueue.NewTypedItemExponentialFailureRateLimiter[ctrl.Request](base, ceiling)
	})
	return c.limiter
}
