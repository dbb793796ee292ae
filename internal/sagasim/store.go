package sagasim

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// store is the API server's storage of OrderSagas, in memory: resourceVersions,
// optimistic locking, the status subresource, finalizers and graceful deletion. It keeps
// typed objects and copies them, where controller-runtime's fake client round-trips JSON
// on every write; that made the API server four fifths of a schedule's cost.
//
// It models what the reconciler and the simulator send, no more: merge patches carry
// the resourceVersion they were computed from (MergeFromWithOptimisticLock), so a patch
// that is not refused leaves the object exactly as the writer's copy; any other method
// of client.Client panics on the nil embedded client.
type store struct {
	client.Client // nil: methods the simulation does not use are not modelled
	sim           *sim
	objects       map[string]*v1.OrderSaga
	version       int
}

var _ client.Client = (*store)(nil)

func newStore(s *sim) *store { return &store{sim: s, objects: map[string]*v1.OrderSaga{}} }

func (st *store) notFound(name string) error { return apierrors.NewNotFound(sagaResource(), name) }

func (st *store) conflict(name, why string) error {
	return apierrors.NewConflict(sagaResource(), name, fmt.Errorf("%s", why))
}

func sagaOf(obj any) *v1.OrderSaga {
	o, ok := obj.(*v1.OrderSaga)
	if !ok {
		panic(fmt.Sprintf("sagasim: the API model stores OrderSagas only, not %T", obj))
	}
	return o
}

// bump gives o the next resourceVersion and stores a copy; an object deleted and whose
// finalizers are all gone is removed, as the API server does.
func (st *store) bump(o *v1.OrderSaga) {
	st.version++
	o.ResourceVersion = strconv.Itoa(st.version)
	if o.DeletionTimestamp != nil && len(o.Finalizers) == 0 {
		delete(st.objects, o.Name)
		return
	}
	st.objects[o.Name] = o.DeepCopy()
}

// Get implements client.Reader.
func (st *store) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	cur, ok := st.objects[key.Name]
	if !ok || key.Namespace != Namespace {
		return st.notFound(key.Name)
	}
	cur.DeepCopyInto(sagaOf(obj))
	return nil
}

// List implements client.Reader: every saga, by name.
func (st *store) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l, ok := list.(*v1.OrderSagaList)
	if !ok {
		panic(fmt.Sprintf("sagasim: the API model lists OrderSagas only, not %T", list))
	}
	l.Items = l.Items[:0]
	for _, name := range slices.Sorted(maps.Keys(st.objects)) {
		l.Items = append(l.Items, *st.objects[name].DeepCopy())
	}
	l.Continue = ""
	return nil
}

// Create implements client.Writer.
func (st *store) Create(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
	o := sagaOf(obj)
	if _, ok := st.objects[o.Name]; ok {
		return apierrors.NewAlreadyExists(sagaResource(), o.Name)
	}
	o.Generation = 1
	st.bump(o)
	return nil
}

// Update implements client.Writer: spec and metadata, never status; a stale
// resourceVersion conflicts.
func (st *store) Update(_ context.Context, obj client.Object, _ ...client.UpdateOption) error {
	o := sagaOf(obj)
	cur, ok := st.objects[o.Name]
	if !ok {
		return st.notFound(o.Name)
	}
	if o.ResourceVersion != cur.ResourceVersion {
		return st.conflict(o.Name, "the object has been modified")
	}
	next := o.DeepCopy()
	next.Status = *cur.Status.DeepCopy()
	next.DeletionTimestamp = cur.DeletionTimestamp // set only by a delete
	next.Generation = cur.Generation
	if !equalSpec(&cur.Spec, &next.Spec) {
		next.Generation++
	}
	st.bump(next)
	next.DeepCopyInto(o)
	return nil
}

// Patch implements client.Writer for the reconciler's optimistic-lock merge patches.
func (st *store) Patch(ctx context.Context, obj client.Object, patch client.Patch, _ ...client.PatchOption) error {
	if patch.Type() != types.MergePatchType {
		panic("sagasim: the API model applies merge patches only")
	}
	return st.Update(ctx, obj)
}

// Delete implements client.Writer: with finalizers it only sets deletionTimestamp.
func (st *store) Delete(_ context.Context, obj client.Object, opts ...client.DeleteOption) error {
	o := sagaOf(obj)
	cur, ok := st.objects[o.Name]
	if !ok {
		return st.notFound(o.Name)
	}
	do := &client.DeleteOptions{}
	do.ApplyOptions(opts)
	if p := do.Preconditions; p != nil {
		if p.UID != nil && *p.UID != cur.UID || p.ResourceVersion != nil && *p.ResourceVersion != cur.ResourceVersion {
			return st.conflict(o.Name, "a precondition of the delete does not hold")
		}
	}
	if cur.DeletionTimestamp != nil {
		return nil
	}
	next := cur.DeepCopy()
	now := metav1.NewTime(st.sim.clock.Now())
	next.DeletionTimestamp = &now
	st.bump(next)
	return nil
}

// Status implements client.StatusClient.
func (st *store) Status() client.SubResourceWriter { return statusWriter{st: st} }

// SubResource implements client.SubResourceClientConstructor for "status" only.
func (st *store) SubResource(sub string) client.SubResourceClient {
	if sub != "status" {
		panic("sagasim: the API model has the status subresource only")
	}
	return statusWriter{st: st}
}

// statusWriter writes the status subresource: status only, optimistic lock.
type statusWriter struct {
	client.SubResourceClient // nil: Get, Create and Apply are not modelled
	st                       *store
}

func (w statusWriter) Update(_ context.Context, obj client.Object, _ ...client.SubResourceUpdateOption) error {
	o := sagaOf(obj)
	cur, ok := w.st.objects[o.Name]
	if !ok {
		return w.st.notFound(o.Name)
	}
	if o.ResourceVersion != cur.ResourceVersion {
		return w.st.conflict(o.Name, "the object has been modified")
	}
	next := cur.DeepCopy()
	next.Status = *o.Status.DeepCopy()
	w.st.bump(next)
	next.DeepCopyInto(o)
	return nil
}

func (w statusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, _ ...client.SubResourcePatchOption) error {
	if patch.Type() != types.MergePatchType {
		panic("sagasim: the API model applies merge patches only")
	}
	return w.Update(ctx, obj)
}

func equalSpec(a, b *v1.OrderSagaSpec) bool { return equality.Semantic.DeepEqual(a, b) }
