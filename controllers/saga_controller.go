package controllers

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Exchanger sends one request of a saga and returns the answer, or why none came
// (*stepclient.Client).
type Exchanger interface {
	Exchange(ctx context.Context, r stepclient.Request, c saga.Call, timeout time.Duration) (stepclient.Response, saga.Outcome, bool)
}

var _ Exchanger = (*stepclient.Client)(nil)

// definitionRefField indexes Sagas by the name of the definition they name, so that a
// definition that becomes Ready wakes the Sagas waiting for it.
const definitionRefField = "spec.definitionRef.name"

// EventDefinitionGone is the Warning Event of a running Saga whose definition vanished
// although its finalizer should have kept it (someone removed the finalizer by hand): the
// saga cannot go on.
const EventDefinitionGone = "DefinitionGone"

// definitionGoneRecheck is how often a Saga whose definition vanished looks again.
const definitionGoneRecheck = time.Minute

// SagaReconciler runs Sagas on their SagaDefinitions, with the same engine, batch loop,
// status write, finalizer and annotations as the OrderSaga reconciler.
//
// A Saga pins its definition's UID before its first call, and the definition's finalizer
// keeps it while the Saga runs: a Saga finishes on the definition it started with. A Saga
// whose definition is missing or not Ready, or whose input fails the definition's schema,
// is held Pending with the reason, and makes no call.
type SagaReconciler struct {
	// Client reads Sagas and definitions from the manager's informer cache.
	client.Client
	// APIReader reads from the API server a definition just pinned, and a Saga that has
	// not started: a pin must not rest on a cached copy of a definition that may already
	// be going, nor of a saga whose pin was taken back.
	APIReader client.Reader
	Steps     Exchanger
	Recorder  events.EventRecorder
	Clock     Clock
	Metrics   *Metrics

	// The limits of a batch, as on OrderSagaReconciler.
	MaxCallsPerReconcile    int
	ReconcileBudget         time.Duration
	MaxConcurrentReconciles int
	ProgressInterval        time.Duration

	// Shard, when set, is this replica's share of the sagas; it runs only those.
	Shard Shard

	// rebalanced wakes the sagas this replica takes over (Rebalancer).
	rebalanced <-chan ctrlevent.GenericEvent
	programs   programCache
	memory     sagaMemory
}

// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagas,verbs=get;list;watch;update;patch;delete
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagas/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagas/finalizers,verbs=update

// Reconcile advances one Saga: the engine decides, this method calls and records.
func (r *SagaReconciler) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	obj := &v1.Saga{}
	if gone, err := r.load(ctx, req, r.Client, obj); gone || err != nil {
		return ctrl.Result{}, err
	}
	if !owns(r.Shard, obj.UID) { // another replica's now
		r.memory.forget(req)
		return ctrl.Result{}, nil
	}
	if wait, behind := r.memory.behind(req, obj.ResourceVersion, r.Metrics, kindSaga); behind {
		return ctrl.Result{RequeueAfter: wait}, nil
	}
	if notStarted(obj) {
		// Whether a Saga may make its first call rests on its pin, and a cached copy may
		// still show a pin that was taken back since (by this reconciler, whose write's
		// reply was lost, or before a restart): until the start is stored, read it from
		// the API server. One read per Saga, not per reconcile of a running one.
		if gone, err := r.load(ctx, req, r.APIReader, obj); gone || err != nil {
			return ctrl.Result{}, err
		}
	}
	if obj.Status.Definition == nil && !obj.DeletionTimestamp.IsZero() {
		// Nothing was called before the definition was pinned: nothing to undo.
		return ctrl.Result{}, releaseFinalizer(ctx, r.Client, obj, Finalizer)
	}
	trail := versionTrail{obj.ResourceVersion}
	if err := ensureFinalizer(ctx, r.Client, obj, Finalizer); err != nil {
		return ctrl.Result{}, err
	}
	trail.add(obj.ResourceVersion)
	run, err := r.resolve(ctx, obj)
	switch {
	case err != nil:
		return ctrl.Result{}, err
	case run.gone:
		return r.definitionGone(ctx, obj)
	case run.unpinned:
		return ctrl.Result{RequeueAfter: r.memory.conflicted(req, r.Metrics, kindSaga)}, nil
	case run.pin != nil:
		if res, held, err := r.holdUnlessPinned(ctx, req, obj, run.pin, &trail); held || err != nil {
			return res, err
		}
	}
	return r.memory.drive(ctx, req, r.loop(), obj, trail, func() (batch, bool, error) {
		before := obj.DeepCopy()
		b := r.loop().run(ctx, run, &before.Status)
		conflict, err := r.finish(ctx, before, obj, b.last, b.events)
		return b, conflict, err
	})
}

// holdUnlessPinned pins the definition a saga that has not started runs on. held reports
// that the saga must make no call yet, because the pin did not land or was taken back; the
// next reconcile says why, from what it reads then.
func (r *SagaReconciler) holdUnlessPinned(ctx context.Context, req ctrl.Request, obj *v1.Saga, def *v1.SagaDefinition,
	trail *versionTrail) (_ ctrl.Result, held bool, _ error) {
	pinned, err := r.pin(ctx, obj, def, trail)
	trail.add(obj.ResourceVersion)
	if err != nil || !pinned {
		r.memory.writes.wrote(req.NamespacedName, trail.superseded())
	}
	switch {
	case err != nil:
		return ctrl.Result{}, true, err
	case !pinned:
		return ctrl.Result{RequeueAfter: r.memory.conflicted(req, r.Metrics, kindSaga)}, true, nil
	}
	return ctrl.Result{}, false, nil
}

// load reads the saga into obj through reader: the informer cache, or the API server. A
// saga that is gone takes its metrics entry and what the reconciler remembers of it with
// it; any other error keeps them, for the saga may be in flight.
func (r *SagaReconciler) load(ctx context.Context, req ctrl.Request, reader client.Reader, obj *v1.Saga) (gone bool, _ error) {
	err := reader.Get(ctx, req.NamespacedName, obj)
	switch {
	case err == nil:
		return false, nil
	case apierrors.IsNotFound(err):
		r.Metrics.forget(metricKey{kindSaga, req.NamespacedName})
		r.memory.forget(req)
		return true, nil
	default:
		return false, fmt.Errorf("get saga %s: %w", req.NamespacedName, err)
	}
}

func (r *SagaReconciler) loop() batchLoop {
	return batchLoop{cache: r.Client, clock: r.Clock, metrics: r.Metrics, kind: kindSaga, maxCalls: r.MaxCallsPerReconcile, budget: r.ReconcileBudget, progress: r.ProgressInterval}
}

// finish stamps the generation on the Saga's status, stores the batch, and counts the
// saga in the metrics.
func (r *SagaReconciler) finish(ctx context.Context, before, obj *v1.Saga, last saga.Decision, events []event) (conflict bool, _ error) {
	observe(&obj.Status, obj.Generation)
	result, err := store(ctx, r.Client, r.Recorder, written{before: before, obj: obj,
		changed: !equality.Semantic.DeepEqual(before.Status, obj.Status), last: last, events: events})
	if result != stored {
		return result == conflicted, err
	}
	st := &obj.Status
	r.Metrics.track(metricKey{kindSaga, client.ObjectKeyFromObject(obj)}, obj.Spec.DefinitionRef.Name, before.Status.Phase, st.Phase, st.StartedAt, st.FinishedAt)
	return false, err
}

// NewSagaReconciler returns a reconciler wired to mgr's clients and event recorder that
// makes its calls through steps.
func NewSagaReconciler(mgr ctrl.Manager, steps Exchanger, o Options) *SagaReconciler {
	r := &SagaReconciler{
		Client:                  mgr.GetClient(),
		APIReader:               mgr.GetAPIReader(),
		Steps:                   steps,
		Recorder:                mgr.GetEventRecorder("saga-controller"),
		Clock:                   RealClock{},
		MaxCallsPerReconcile:    cmp.Or(o.MaxCallsPerReconcile, DefaultMaxCallsPerReconcile),
		ReconcileBudget:         cmp.Or(o.ReconcileBudget, DefaultReconcileBudget),
		MaxConcurrentReconciles: cmp.Or(o.MaxConcurrentReconciles, DefaultMaxConcurrentReconciles),
		ProgressInterval:        cmp.Or(o.ProgressInterval, DefaultProgressInterval),
		Metrics:                 o.Metrics,
	}
	if o.Rebalancer != nil {
		r.Shard, r.rebalanced = o.Rebalancer.Shard, o.Rebalancer.sagaWakes()
	}
	return r
}

// SetupWithManager registers the reconciler with mgr. Like the OrderSaga reconciler, it
// reconciles on what people change, not on its own writes; and a SagaDefinition that
// changes (becomes Ready, or goes) wakes the Sagas that name it.
func (r *SagaReconciler) SetupWithManager(mgr ctrl.Manager) error {
	err := mgr.GetFieldIndexer().IndexField(context.Background(), &v1.Saga{}, definitionRefField, func(o client.Object) []string {
		if s, ok := o.(*v1.Saga); ok {
			return []string{s.Spec.DefinitionRef.Name}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index Sagas by %s: %w", definitionRefField, err)
	}
	b := ctrl.NewControllerManagedBy(mgr).
		For(&v1.Saga{}, builder.WithPredicates(SagaEvents(), ownedBy(r.Shard))).
		Watches(&v1.SagaDefinition{}, handler.EnqueueRequestsFromMapFunc(r.sagasNaming))
	err = watchRebalanced(b, r.rebalanced).
		WithOptions(controller.Options{MaxConcurrentReconciles: max(1, r.MaxConcurrentReconciles)}).
		Named("saga").
		Complete(r)
	if err != nil {
		return fmt.Errorf("build the saga controller: %w", err)
	}
	return nil
}

// sagasNaming maps a SagaDefinition to the Sagas that name it and have not started: the
// ones that may be waiting for it.
func (r *SagaReconciler) sagasNaming(ctx context.Context, obj client.Object) []reconcile.Request {
	var sagas v1.SagaList
	if err := r.List(ctx, &sagas, client.InNamespace(obj.GetNamespace()), client.MatchingFields{definitionRefField: obj.GetName()}); err != nil {
		logf.FromContext(ctx).Error(err, "list the Sagas that name a SagaDefinition; they wake at their next change", "definition", client.ObjectKeyFromObject(obj))
		return nil
	}
	var out []reconcile.Request
	for _, s := range sagas.Items {
		if s.Status.Definition == nil {
			out = append(out, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&s)})
		}
	}
	return out
}
