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
}

// batchLoop holds what a batch of calls is bounded by and reports to; both reconcilers
// run their sagas through it.
type batchLoop struct {
	clock    Clock
	metrics  *Metrics
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
}

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
		b.last = saga.Next(view, l.clock.Now())
		var out saga.Outcome
		if b.last.Kind == saga.KindCall {
			// The first call always runs, whatever its timeout: a budget that no call fits
			// in would otherwise requeue the saga for ever without a call.
			if calls > 0 && !l.timeLeft(started, view.Plan) {
				break
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
	b.requeueAfter = time.Millisecond // more to do: continue after the write
	return b
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

// conflictLimiter is a reconciler's per-saga backoff after conflicting status writes,
// created on first use so that a reconciler built as a struct literal (the simulator,
// tests) has one too.
type conflictLimiter struct {
	once    sync.Once
	limiter workqueue.TypedRateLimiter[ctrl.Request]
}

func (c *conflictLimiter) get() workqueue.TypedRateLimiter[ctrl.Request] {
	c.once.Do(func() {
		c.limiter = workqueue.NewTypedItemExponentialFailureRateLimiter[ctrl.Request](conflictBaseDelay, conflictMaxDelay)
	})
	return c.limiter
}
