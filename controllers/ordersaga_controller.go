// Package controllers holds the OrderSaga reconciler: it loads a saga, asks the engine in
// internal/saga what to do, makes the calls through a StepCaller, and records the result
// in one status write.
package controllers

import (
	"cmp"
	"context"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// OrderSagaReconciler runs OrderSagas.
//
// Design: one batch runs calls back to back — as many as the engine asks for, up to
// MaxCallsPerReconcile, for at most ProgressInterval once a call was made — and then
// writes status once. A reconcile runs batches one after the other, each from the object
// its predecessor's write returned, until the saga waits or ReconcileBudget is spent. A
// happy-path saga thus costs one finalizer write (none where the admission policy adds the
// finalizer at create) and one status write (the pivot is fenced, not checkpointed: see
// saga.Fence and docs/adr/0011), and no API read: the saga comes
// from the informer cache. A crash or a lost write between calls loses nothing: every
// call carries an idempotency key, so the next reconcile repeats the calls the lost status
// did not record and gets their first results.
type OrderSagaReconciler struct {
	// Client reads sagas from the manager's informer cache and writes to the API server.
	client.Client
	Steps    StepCaller
	Recorder events.EventRecorder
	Clock    Clock
	Metrics  *Metrics

	// MaxCallsPerReconcile bounds the calls one batch makes before writing status.
	MaxCallsPerReconcile int
	// ReconcileBudget bounds the time one reconcile spends calling; no call starts when
	// less than its stepTimeout plus statusWriteGrace is left.
	ReconcileBudget time.Duration
	// MaxConcurrentReconciles is the number of sagas advanced in parallel.
	MaxConcurrentReconciles int
	// ProgressInterval ends a batch of calls once it has run this long, so that a saga
	// whose services are slow shows its progress in status instead of nothing for a minute.
	ProgressInterval time.Duration
	// Shard, when set, is this replica's share of the sagas; it runs only those.
	Shard Shard

	// rebalanced wakes the sagas this replica takes over (Rebalancer).
	rebalanced <-chan ctrlevent.GenericEvent
	memory     sagaMemory
}

// statusWriteGrace is kept free at the end of the budget so the status write has time, and
// bounds that write. An API server out of CPU answers a status patch in seconds: a write
// cut off at 2 s often landed anyway, and the next reconcile then met a cache behind it and
// a conflict, and repeated its calls. With 200 ms services and 256 workers on 2 cores that
// was 2.7 reconciles and 7.1 calls per saga; at 10 s it is 1.0 and 6.0, at the same
// throughput (make bench-latency).
const statusWriteGrace = 10 * time.Second

// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=ordersagas,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=ordersagas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=ordersagas/finalizers,verbs=update
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch

// Reconcile advances one OrderSaga: the saga engine decides, this method calls and records.
func (r *OrderSagaReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj, gone, err := r.load(ctx, req)
	if gone || err != nil {
		return ctrl.Result{}, err
	}
	if !owns(r.Shard, obj.UID) { // another replica's now
		r.memory.forget(req)
		return ctrl.Result{}, nil
	}
	if wait, behind := r.memory.behind(req, obj.ResourceVersion, r.Metrics, kindOrderSaga); behind {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	trail := versionTrail{obj.ResourceVersion}
	if err := ensureFinalizer(ctx, r.Client, obj, Finalizer); err != nil {
		return ctrl.Result{}, err
	}
	trail.add(obj.ResourceVersion)
	return r.memory.drive(ctx, req, r.loop(), obj, trail, func() (batch, bool, error) {
		before := obj.DeepCopy()
		stored := ordersaga.ToRun(&before.Status)
		b := r.loop().run(ctx, orderRun{obj: obj, steps: r.Steps}, &stored)
		// One status patch, then Events, then the finalizer release or TTL delete.
		conflict, err := r.finish(ctx, before, obj, b.last, b.events)
		return b, conflict, err
	})
}

// load reads the saga from the informer cache. A saga that is gone takes its metrics
// entry and what the reconciler remembers of it with it; any other error keeps them, for
// the saga may be in flight.
func (r *OrderSagaReconciler) load(ctx context.Context, req ctrl.Request) (_ *v1.OrderSaga, gone bool, _ error) {
	obj := &v1.OrderSaga{}
	err := r.Get(ctx, req.NamespacedName, obj)
	switch {
	case err == nil:
		return obj, false, nil
	case apierrors.IsNotFound(err):
		r.Metrics.forget(metricKey{kindOrderSaga, req.NamespacedName})
		r.memory.forget(req)
		return nil, true, nil
	default:
		return nil, false, fmt.Errorf("get %s: %w", req.NamespacedName, err)
	}
}

func (r *OrderSagaReconciler) loop() batchLoop {
	return batchLoop{cache: r.Client, clock: r.Clock, metrics: r.Metrics, kind: kindOrderSaga, maxCalls: r.MaxCallsPerReconcile, budget: r.ReconcileBudget, progress: r.ProgressInterval}
}

// orderRun is an OrderSaga as the batch loop drives it: the order saga's plan, its calls
// through a StepCaller, and its status converted to the engine's and back.
type orderRun struct {
	obj   *v1.OrderSaga
	steps StepCaller
}

func (o orderRun) view() saga.View { return ordersaga.ViewOf(o.obj) }

func (o orderRun) call(ctx context.Context, _ *saga.Plan, c saga.Call) saga.Outcome {
	return o.steps.Call(ctx, o.obj, c)
}

func (o orderRun) store(run *v1.SagaStatus) { ordersaga.FromRun(&o.obj.Spec, run, &o.obj.Status) }

func (o orderRun) words() vocabulary { return orderEvents() }

func (o orderRun) metric() string { return metricOrderSaga }

func (o orderRun) object() client.Object { return o.obj }

// Options tune a reconciler; zero values take the defaults.
type Options struct {
	MaxCallsPerReconcile    int
	ReconcileBudget         time.Duration
	MaxConcurrentReconciles int
	ProgressInterval        time.Duration
	// Metrics receives the controllers' metrics (NewMetrics on controller-runtime's
	// registry in the manager, shared by both reconcilers); nil records none.
	Metrics *Metrics
	// Rebalancer, when set, shards the sagas among the manager's replicas: each reconciler
	// runs only its Shard's sagas, and is woken for the ones it takes over.
	Rebalancer *Rebalancer
}

// Defaults of Options.
const (
	DefaultMaxCallsPerReconcile = 16
	DefaultReconcileBudget      = time.Minute
	// DefaultMaxConcurrentReconciles: each worker holds one saga through one call at a time,
	// so with services that answer in 200 ms, 32 workers capped a manager near 25 sagas/s
	// whatever the API server could take (make bench-latency). An idle worker is a parked
	// goroutine; 256 of them reach the API server's limit on the benchmark machine.
	DefaultMaxConcurrentReconciles = 256
	DefaultProgressInterval        = 2 * time.Second
)

// NewOrderSagaReconciler returns a reconciler wired to mgr's clients and event recorder
// that makes its calls through steps.
func NewOrderSagaReconciler(mgr ctrl.Manager, steps StepCaller, o Options) *OrderSagaReconciler {
	r := &OrderSagaReconciler{
		Client:                  mgr.GetClient(),
		Steps:                   steps,
		Recorder:                mgr.GetEventRecorder("ordersaga-controller"),
		Clock:                   RealClock{},
		MaxCallsPerReconcile:    cmp.Or(o.MaxCallsPerReconcile, DefaultMaxCallsPerReconcile),
		ReconcileBudget:         cmp.Or(o.ReconcileBudget, DefaultReconcileBudget),
		MaxConcurrentReconciles: cmp.Or(o.MaxConcurrentReconciles, DefaultMaxConcurrentReconciles),
		ProgressInterval:        cmp.Or(o.ProgressInterval, DefaultProgressInterval),
	}
	r.Metrics = o.Metrics
	if o.Rebalancer != nil {
		r.Shard, r.rebalanced = o.Rebalancer.Shard, o.Rebalancer.orderSagaWakes()
	}
	return r
}

// GracefulShutdownTimeout is how long a manager must wait for reconciles in flight when
// it stops: a batch may run for the whole reconcile budget, and its status write for the
// grace after it. A shorter wait would drop the status of calls already made. (Shutdown
// cancels the calls in flight, so in practice a batch ends within the grace.)
func GracefulShutdownTimeout(reconcileBudget time.Duration) time.Duration {
	return cmp.Or(reconcileBudget, DefaultReconcileBudget) + statusWriteGrace
}

// SetupWithManager registers the reconciler with mgr. It reconciles on what people change
// — the spec (generation), the retry and abandon annotations, deletion — and not on the
// controller's own status and finalizer writes, nor on other tools' labels and
// annotations: the reconcile that wrote asked for whatever comes next with RequeueAfter,
// and an extra reconcile per write would double the work per saga.
func (r *OrderSagaReconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.OrderSaga{}, builder.WithPredicates(SagaEvents(), ownedBy(r.Shard)))
	err := watchRebalanced(b, r.rebalanced).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("ordersaga").
		Complete(r)
	if err != nil {
		return fmt.Errorf("build the ordersaga controller: %w", err)
	}
	return nil
}

// SagaEvents is the filter both saga reconcilers put on their sagas' watch events:
// creations and removals, and the updates a person makes — the spec (generation), the
// retry and abandon annotations, the start of deletion. (The simulator filters its watch
// events through it too.)
func SagaEvents() predicate.Predicate {
	return predicate.Or(predicate.GenerationChangedPredicate{},
		annotationChanged(v1.RetryAnnotation, v1.AbandonAnnotation), deletionStarted())
}

// deletionStarted passes the update that sets deletionTimestamp.
func deletionStarted() predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		return e.ObjectOld.GetDeletionTimestamp() == nil && e.ObjectNew.GetDeletionTimestamp() != nil
	}}
}
