package controllers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// Reasons of a SagaDefinition's Ready condition, besides sagadef's InvalidSchema,
// InvalidExpression and InvalidPlan.
const (
	// ReasonCompiled: every expression compiled against the input schema.
	ReasonCompiled = "Compiled"
	// ReasonInUse: the definition is being deleted and waits for the Sagas still running on it.
	ReasonInUse = "InUse"
)

// maxConditionMessage is the longest condition message the API server accepts.
const maxConditionMessage = 32768

// inUseRecheck is how often a definition being deleted looks again for running Sagas,
// besides the Saga events that wake it.
const inUseRecheck = 30 * time.Second

// SagaDefinitionReconciler compiles SagaDefinitions and reports whether Sagas can run on
// them (the Ready condition), and keeps a definition that is being deleted until no Saga
// that started on it is still running.
type SagaDefinitionReconciler struct {
	client.Client
	// APIReader lists Sagas from the API server, not the cache, before a definition is
	// let go: a Saga that has just pinned it must be seen.
	APIReader client.Reader
}

// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagadefinitions,verbs=get;list;watch;update;patch
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagadefinitions/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=saga.ordersaga.io,resources=sagadefinitions/finalizers,verbs=update

// Reconcile compiles one SagaDefinition, or lets a deleted one go once nothing runs on it.
func (r *SagaDefinitionReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	def := &v1.SagaDefinition{}
	if err := r.Get(ctx, req.NamespacedName, def); err != nil {
		if apierrors.IsNotFound(err) {
			return reconcile.Result{}, nil
		}
		return reconcile.Result{}, fmt.Errorf("get SagaDefinition %s: %w", req.NamespacedName, err)
	}
	if !def.DeletionTimestamp.IsZero() {
		return r.release(ctx, def)
	}
	// The finalizer comes before Ready, so that no Saga can start on a definition that
	// could vanish under it.
	if err := ensureFinalizer(ctx, r.Client, def, InUseFinalizer); err != nil {
		return reconcile.Result{}, err
	}
	ready := metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionTrue, Reason: ReasonCompiled,
		Message: fmt.Sprintf("%d steps; every expression compiled against the input schema", len(def.Spec.Steps))}
	if _, err := sagadef.Compile(ctx, &def.Spec); err != nil {
		ready.Status, ready.Reason, ready.Message = metav1.ConditionFalse, sagadef.ReasonInvalidExpression, err.Error()
		if ce, ok := errors.AsType[*sagadef.CompileError](err); ok {
			ready.Reason = ce.Reason
		}
	}
	return reconcile.Result{}, r.setReady(ctx, def, ready)
}

// release removes the finalizer once no Saga that started on def is still running; until
// then Ready says which Sagas it waits for.
func (r *SagaDefinitionReconciler) release(ctx context.Context, def *v1.SagaDefinition) (reconcile.Result, error) {
	running, err := r.runningOn(ctx, def)
	if err != nil {
		return reconcile.Result{}, err
	}
	if len(running) == 0 {
		return reconcile.Result{}, releaseFinalizer(ctx, r.Client, def, InUseFinalizer)
	}
	names := running
	if len(names) > 5 {
		names = append(names[:5:5], fmt.Sprintf("and %d more", len(running)-5))
	}
	err = r.setReady(ctx, def, metav1.Condition{Type: v1.ConditionReady, Status: metav1.ConditionFalse, Reason: ReasonInUse,
		Message: fmt.Sprintf("being deleted: waits for %d Saga(s) still running on it (%s); new Sagas are refused",
			len(running), strings.Join(names, ", "))})
	return reconcile.Result{RequeueAfter: inUseRecheck}, err
}

// runningOn lists the Sagas pinned to def that may still call its steps: every one not
// Completed or Compensated (a Failed one may be re-driven or abandoned).
func (r *SagaDefinitionReconciler) runningOn(ctx context.Context, def *v1.SagaDefinition) ([]string, error) {
	var sagas v1.SagaList
	if err := r.APIReader.List(ctx, &sagas, client.InNamespace(def.Namespace)); err != nil {
		return nil, fmt.Errorf("list the Sagas of %s/%s: %w", def.Namespace, def.Name, err)
	}
	var running []string
	for _, s := range sagas.Items {
		pin := s.Status.Definition
		if pin == nil || pin.UID != string(def.UID) {
			continue
		}
		if s.Status.Phase != v1.PhaseCompleted && s.Status.Phase != v1.PhaseCompensated {
			running = append(running, s.Name)
		}
	}
	return running, nil
}

func (r *SagaDefinitionReconciler) setReady(ctx context.Context, def *v1.SagaDefinition, ready metav1.Condition) error {
	before := def.DeepCopy()
	ready.ObservedGeneration = def.Generation
	ready.Message = saga.Truncate(ready.Message, maxConditionMessage)
	meta.SetStatusCondition(&def.Status.Conditions, ready)
	def.Status.ObservedGeneration = def.Generation
	if equality.Semantic.DeepEqual(before.Status, def.Status) {
		return nil
	}
	err := r.Status().Patch(ctx, def, client.MergeFromWithOptions(before, client.MergeFromWithOptimisticLock{}))
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("write status of SagaDefinition %s/%s: %w", def.Namespace, def.Name, err)
	}
	return nil
}

// SetupWithManager registers the reconciler. A Saga that finishes or goes away wakes the
// definition it names, which may be waiting for it to be deleted.
func (r *SagaDefinitionReconciler) SetupWithManager(mgr manager.Manager) error {
	err := ctrl.NewControllerManagedBy(mgr).
		For(&v1.SagaDefinition{}).
		Watches(&v1.Saga{}, handler.EnqueueRequestsFromMapFunc(definitionOf), builder.WithPredicates(sagaLetGo())).
		Named("sagadefinition").
		Complete(r)
	if err != nil {
		return fmt.Errorf("build the sagadefinition controller: %w", err)
	}
	return nil
}

// definitionOf maps a Saga to the definition it names.
func definitionOf(_ context.Context, obj client.Object) []reconcile.Request {
	s, ok := obj.(*v1.Saga)
	if !ok {
		return nil
	}
	return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: s.Namespace, Name: s.Spec.DefinitionRef.Name}}}
}

// sagaLetGo passes the Saga events after which its definition may be free: a deletion,
// and a phase change.
func sagaLetGo() predicate.Predicate {
	return predicate.Funcs{
		CreateFunc:  func(ctrlevent.CreateEvent) bool { return false },
		GenericFunc: func(ctrlevent.GenericEvent) bool { return false },
		DeleteFunc:  func(ctrlevent.DeleteEvent) bool { return true },
		UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
			before, okBefore := e.ObjectOld.(*v1.Saga)
			after, okAfter := e.ObjectNew.(*v1.Saga)
			return okBefore && okAfter && before.Status.Phase != after.Status.Phase
		},
	}
}
