package sagasim

import (
	"context"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// apiServer is the model of the Kubernetes API: the store, and in front of it, for the
// reconcilers only, faults that crash the manager, lose writes, lose replies and let a
// user change the object first.
type apiServer struct {
	sim *sim
	// store is the API server itself; the simulator's own changes (a user's kubectl) go
	// to it directly.
	store *store
	// archive keeps the last stored version of every saga, as the OrderSaga the
	// invariants judge, so that they can judge a saga that was deleted once it finished.
	archive map[string]*v1.OrderSaga
}

func newAPIServer(s *sim) *apiServer {
	return &apiServer{sim: s, store: newStore(s), archive: map[string]*v1.OrderSaga{}}
}

// client returns the client the reconcilers use: sagas read from the manager's cache.
func (a *apiServer) client() client.Client { return cachedClient{a.live()} }

// live returns the reconcilers' client that reads from the API server itself (APIReader).
func (a *apiServer) live() faultyClient { return faultyClient{store: a.store, api: a} }

// faultyClient is the reconciler's view of the API server: every call may meet a fault.
type faultyClient struct {
	*store
	api *apiServer
}

func (c faultyClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if c.api.sim.proc.dead {
		return errCrashed
	}
	return c.store.Get(ctx, key, obj, opts...)
}

func (c faultyClient) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
	return c.api.write(ctx, "patch", obj, func() error { return c.store.Patch(ctx, obj, patch, opts...) })
}

func (c faultyClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	return c.api.write(ctx, "update", obj, func() error { return c.store.Update(ctx, obj, opts...) })
}

func (c faultyClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	return c.api.write(ctx, "delete", obj, func() error {
		return c.store.Delete(ctx, obj, opts...)
	})
}

func (c faultyClient) Status() client.SubResourceWriter { return faultyStatus{c} }

func (c faultyClient) SubResource(sub string) client.SubResourceClient {
	_ = c.store.SubResource(sub) // only status is modelled
	return faultyStatus{c}
}

type faultyStatus struct{ c faultyClient }

func (s faultyStatus) Get(context.Context, client.Object, client.Object, ...client.SubResourceGetOption) error {
	panic("sagasim: status get is not modelled")
}

func (s faultyStatus) Create(context.Context, client.Object, client.Object, ...client.SubResourceCreateOption) error {
	panic("sagasim: status create is not modelled")
}

func (s faultyStatus) Apply(context.Context, runtime.ApplyConfiguration, ...client.SubResourceApplyOption) error {
	panic("sagasim: status apply is not modelled")
}

func (s faultyStatus) Update(ctx context.Context, obj client.Object, opts ...client.SubResourceUpdateOption) error {
	return s.c.api.write(ctx, "status update", obj, func() error { return s.c.store.Status().Update(ctx, obj, opts...) })
}

func (s faultyStatus) Patch(ctx context.Context, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
	return s.c.api.write(ctx, "status patch", obj, func() error { return s.c.store.Status().Patch(ctx, obj, patch, opts...) })
}

// write sends one write of a reconciler, with the fault the schedule draws for it.
func (a *apiServer) write(ctx context.Context, verb string, obj client.Object, do func() error) error {
	s := a.sim
	name := obj.GetName()
	if !s.proc.op() {
		s.trace.addf("%s: crash before %s", traceName(obj), verb)
		return errCrashed
	}
	if _, ok := obj.(*v1.SagaDefinition); !ok {
		s.definitionMeanwhile(ctx, "during "+name+"'s "+verb) // Saga mode only
		if s.proc.dead {                                      // the definition's controller crashed the manager
			return errCrashed
		}
	}
	f := s.draw(s.faults.write)
	if f == writeOverlap && s.overlapping { // the other replica's own writes meet no third one
		f = none
	}
	switch f {
	case writeOverlap:
		a.overlap(ctx, obj)
	case writeLost:
		s.trace.addf("%s: %s lost before it reached the API server", traceName(obj), verb)
		return apierrors.NewServiceUnavailable("sagasim: write lost")
	case writeRaced:
		a.race(ctx, obj, "during "+verb)
	case writeReplyLost:
		err := do()
		a.written(ctx, obj)
		s.trace.addf("%s: %s applied (err=%v), reply lost", traceName(obj), verb, errText(err))
		return apierrors.NewTimeoutError("sagasim: reply lost", 1)
	default: // none: the write goes through
	}
	err := do()
	a.written(ctx, obj)
	if err != nil {
		s.trace.addf("%s: %s refused: %v", traceName(obj), verb, errText(err))
	}
	return err
}

// overlap is another replica of the manager reconciling the saga obj just before this
// write, as happens for a moment when the shard members change: the two replicas both
// believe they own it. The other replica reads the API server as it is now (its cache
// caught up), calls with the same idempotency keys, and writes first; it has a process of
// its own, which does not crash. Nothing here may depend on exclusive ownership.
func (a *apiServer) overlap(ctx context.Context, obj client.Object) {
	s := a.sim
	if _, ok := obj.(*v1.SagaDefinition); ok {
		return
	}
	s.trace.addf("%s: another replica reconciles it first", obj.GetName())
	outer := s.proc
	s.proc, s.overlapping = &process{incarnation: outer.incarnation}, true
	defer func() { s.proc, s.overlapping = outer, false }()
	req := ctrl.Request{NamespacedName: types.NamespacedName{Namespace: Namespace, Name: obj.GetName()}}
	res, err := s.kind.replica().Reconcile(ctx, req)
	s.trace.addf("%s: the other replica's reconcile: %s", obj.GetName(), resultText(res, err))
}

// race is a user's change to obj just before a write of the reconciler: to a saga, any
// change; to the definition, a label.
func (a *apiServer) race(ctx context.Context, obj client.Object, when string) {
	if _, ok := obj.(*v1.SagaDefinition); ok {
		a.sim.touchDefinition(ctx, when)
		return
	}
	a.sim.externalChange(ctx, obj.GetName(), when)
}

// written records what a write of obj changed: the archive for a saga, the watch events
// for the definition.
func (a *apiServer) written(ctx context.Context, obj client.Object) {
	if _, ok := obj.(*v1.SagaDefinition); ok {
		a.sim.definitionChanged(ctx)
		return
	}
	a.remember(ctx, obj.GetName())
}

// traceName names obj in the trace: a saga by its name, the definition by its kind too.
func traceName(obj client.Object) string {
	if _, ok := obj.(*v1.SagaDefinition); ok {
		return "definition " + obj.GetName()
	}
	return obj.GetName()
}

// remember archives the stored version of a saga after a write, as the OrderSaga the
// invariants judge; in Saga mode, it also delivers the watch events of the change.
func (a *apiServer) remember(ctx context.Context, name string) {
	obj, ok := a.raw(ctx, name)
	if !ok {
		a.sim.sagaChanged(name, nil)
		return
	}
	view := a.sim.kind.view(obj)
	a.archive[string(view.UID)] = view
	a.sim.sagaChanged(name, obj)
}

// raw reads a saga, of the schedule's kind, from the store; found is false once it is gone.
func (a *apiServer) raw(ctx context.Context, name string) (client.Object, bool) {
	obj := a.sim.kind.empty()
	if err := a.store.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, obj); err != nil {
		return nil, false
	}
	return obj, true
}

// get reads a saga from the store as the OrderSaga the invariants judge; found is false
// once it is gone.
func (a *apiServer) get(ctx context.Context, name string) (*v1.OrderSaga, bool) {
	obj, ok := a.raw(ctx, name)
	if !ok {
		return nil, false
	}
	return a.sim.kind.view(obj), true
}

// mutate applies a user's change to a saga, as kubectl would: read, change, update
// (which bumps the resourceVersion, so that a write of the reconciler in flight conflicts).
func (a *apiServer) mutate(ctx context.Context, name string, change func(client.Object)) bool {
	obj, ok := a.raw(ctx, name)
	if !ok {
		return false
	}
	change(obj)
	if err := a.store.Update(ctx, obj); err != nil {
		a.sim.trace.addf("%s: user update refused: %v", name, err)
		return false
	}
	a.remember(ctx, name)
	return true
}

// views reads the sagas as the OrderSagas the invariants judge: what sagactl check's
// collector lists.
type views struct {
	client.Reader // nil: only List is modelled
	api           *apiServer
}

// List implements client.Reader for OrderSagaList only.
func (v views) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l, ok := list.(*v1.OrderSagaList)
	if !ok {
		panic(fmt.Sprintf("sagasim: the sagas are listed as OrderSagas only, not %T", list))
	}
	l.Items = l.Items[:0]
	for _, obj := range v.api.store.stored(resourceOf(v.api.sim.kind.empty()).Resource) {
		l.Items = append(l.Items, *v.api.sim.kind.view(deepCopy(obj)))
	}
	l.Continue = ""
	return nil
}

// nextToken is a fresh annotation or label value.
func (a *apiServer) nextToken() string {
	a.sim.tokens++
	return "t" + strconv.Itoa(a.sim.tokens)
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	if apierrors.IsConflict(err) {
		return "Conflict"
	}
	return err.Error()
}
