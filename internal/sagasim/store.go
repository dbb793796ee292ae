package sagasim

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// store is the API server's storage of OrderSagas, Sagas and SagaDefinitions, in memory:
// resourceVersions, optimistic locking, the status subresource, finalizers and graceful
// deletion. It keeps typed objects and copies them, where controller-runtime's fake
// client round-trips JSON on every write; that made the API server four fifths of a
// schedule's cost.
//
// It models what the reconcilers and the simulator send, no more: merge patches carry
// the resourceVersion they were computed from (MergeFromWithOptimisticLock), so a patch
// that is not refused leaves the object exactly as the writer's copy; any other method
// of client.Client panics on the nil embedded client. What differs between the kinds
// (their resource, status and spec) is in kinds.go.
type store struct {
	client.Client // nil: methods the simulation does not use are not modelled
	sim           *sim
	objects       map[objectKey]client.Object
	version       int
}

// objectKey names a stored object: its resource and name (the namespace is always Namespace).
type objectKey struct{ resource, name string }

var _ client.Client = (*store)(nil)

func newStore(s *sim) *store { return &store{sim: s, objects: map[objectKey]client.Object{}} }

func keyOf(obj client.Object) objectKey { return objectKey{resourceOf(obj).Resource, obj.GetName()} }

func (st *store) notFound(obj client.Object) error {
	return apierrors.NewNotFound(resourceOf(obj), obj.GetName())
}

func (st *store) conflict(obj client.Object, why string) error {
	return apierrors.NewConflict(resourceOf(obj), obj.GetName(), fmt.Errorf("%s", why))
}

// bump gives o the next resourceVersion and stores a copy; an object deleted and whose
// finalizers are all gone is removed, as the API server does.
func (st *store) bump(o client.Object) {
	st.version++
	o.SetResourceVersion(strconv.Itoa(st.version))
	removed := o.GetDeletionTimestamp() != nil && len(o.GetFinalizers()) == 0
	if removed {
		delete(st.objects, keyOf(o))
	} else {
		st.objects[keyOf(o)] = deepCopy(o)
	}
	if st.sim.informer != nil && keyOf(o).resource == st.sim.sagaResource() { // the watch of the manager's cache
		var stored client.Object
		if !removed {
			stored = o
		}
		st.sim.informer.changed(o.GetName(), stored)
	}
}

// Get implements client.Reader.
func (st *store) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	cur, ok := st.objects[objectKey{resourceOf(obj).Resource, key.Name}]
	if !ok || key.Namespace != Namespace {
		return apierrors.NewNotFound(resourceOf(obj), key.Name)
	}
	copyInto(obj, cur)
	return nil
}

// List implements client.Reader: every object of the list's kind, by name.
func (st *store) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	fill(list, st.stored(resourceOf(list).Resource))
	return nil
}

// stored returns the objects of resource, by name. They are the store's own: callers copy.
func (st *store) stored(resource string) []client.Object {
	var out []client.Object
	for _, k := range slices.SortedFunc(maps.Keys(st.objects), func(a, b objectKey) int {
		return cmp.Or(cmp.Compare(a.resource, b.resource), cmp.Compare(a.name, b.name))
	}) {
		if k.resource == resource {
			out = append(out, st.objects[k])
		}
	}
	return out
}

// Create implements client.Writer.
func (st *store) Create(_ context.Context, obj client.Object, _ ...client.CreateOption) error {
	if _, ok := st.objects[keyOf(obj)]; ok {
		return apierrors.NewAlreadyExists(resourceOf(obj), obj.GetName())
	}
	obj.SetGeneration(1)
	st.bump(obj)
	return nil
}

// Update implements client.Writer: spec and metadata, never status; a stale
// resourceVersion conflicts.
func (st *store) Update(_ context.Context, obj client.Object, _ ...client.UpdateOption) error {
	cur, ok := st.objects[keyOf(obj)]
	if !ok {
		return st.notFound(obj)
	}
	if obj.GetResourceVersion() != cur.GetResourceVersion() {
		return st.conflict(obj, "the object has been modified")
	}
	next := deepCopy(obj)
	copyStatus(next, cur)
	next.SetDeletionTimestamp(cur.GetDeletionTimestamp()) // set only by a delete
	next.SetGeneration(cur.GetGeneration())
	if !sameSpec(cur, next) {
		next.SetGeneration(cur.GetGeneration() + 1)
	}
	st.bump(next)
	copyInto(obj, next)
	return nil
}

// Patch implements client.Writer for the reconcilers' optimistic-lock merge patches.
func (st *store) Patch(ctx context.Context, obj client.Object, patch client.Patch, _ ...client.PatchOption) error {
	if patch.Type() != types.MergePatchType {
		panic("sagasim: the API model applies merge patches only")
	}
	return st.Update(ctx, obj)
}

// Delete implements client.Writer: with finalizers it only sets deletionTimestamp.
func (st *store) Delete(_ context.Context, obj client.Object, opts ...client.DeleteOption) error {
	cur, ok := st.objects[keyOf(obj)]
	if !ok {
		return st.notFound(obj)
	}
	do := &client.DeleteOptions{}
	do.ApplyOptions(opts)
	if p := do.Preconditions; p != nil {
		if p.UID != nil && *p.UID != cur.GetUID() || p.ResourceVersion != nil && *p.ResourceVersion != cur.GetResourceVersion() {
			return st.conflict(obj, "a precondition of the delete does not hold")
		}
	}
	if cur.GetDeletionTimestamp() != nil {
		return nil
	}
	next := deepCopy(cur)
	now := metav1.NewTime(st.sim.clock.Now())
	next.SetDeletionTimestamp(&now)
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
	cur, ok := w.st.objects[keyOf(obj)]
	if !ok {
		return w.st.notFound(obj)
	}
	if obj.GetResourceVersion() != cur.GetResourceVersion() {
		return w.st.conflict(obj, "the object has been modified")
	}
	next := deepCopy(cur)
	copyStatus(next, obj)
	w.st.bump(next)
	copyInto(obj, next)
	return nil
}

func (w statusWriter) Patch(ctx context.Context, obj client.Object, patch client.Patch, _ ...client.SubResourcePatchOption) error {
	if patch.Type() != types.MergePatchType {
		panic("sagasim: the API model applies merge patches only")
	}
	return w.Update(ctx, obj)
}
