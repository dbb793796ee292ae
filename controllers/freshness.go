package controllers

import (
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// ownWrites remembers, for each saga, the resourceVersions that the controller's own last
// reconcile wrote over. The reconcilers read sagas from the informer cache, which may not
// have seen that reconcile's writes yet; a copy at one of those versions is older than
// what the controller already stored, and a batch run from it would repeat calls (harmless
// under their idempotency keys, but wasted) and then lose its status write to a conflict.
//
// Versions are compared for equality only, never ordered: a reconcile's writes all
// succeed under optimistic locking, so the versions it wrote over are exactly the ones the
// object had from its read to its last write, and a cache that shows any other version
// has seen that last write (an informer only moves forward).
type ownWrites struct {
	mu         sync.Mutex
	superseded map[types.NamespacedName][]string
}

// wrote records that the versions in superseded are older than the controller's last
// write of key. An empty list forgets key.
func (w *ownWrites) wrote(key types.NamespacedName, superseded []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(superseded) == 0 {
		delete(w.superseded, key)
		return
	}
	if w.superseded == nil {
		w.superseded = map[types.NamespacedName][]string{}
	}
	w.superseded[key] = superseded
}

// stale reports whether a cached copy of key at resourceVersion rv predates the
// controller's last write of it. A copy that does not is proof that the cache caught up,
// so the record is dropped.
func (w *ownWrites) stale(key types.NamespacedName, rv string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if slices.Contains(w.superseded[key], rv) {
		return true
	}
	delete(w.superseded, key)
	return false
}

// forget drops key: the saga is gone.
func (w *ownWrites) forget(key types.NamespacedName) { w.wrote(key, nil) }

// versionTrail collects the resourceVersions an object has during one reconcile, in order.
type versionTrail []string

// add appends rv unless it is the last one already.
func (t *versionTrail) add(rv string) {
	if n := len(*t); n == 0 || (*t)[n-1] != rv {
		*t = append(*t, rv)
	}
}

// superseded is every version but the last: the ones the reconcile's writes replaced.
func (t *versionTrail) superseded() []string {
	if len(*t) < 2 {
		return nil
	}
	return (*t)[:len(*t)-1]
}

// annotationChanged passes updates that change one of the named annotations: the requests
// a person makes of a saga (retry, abandon). Other annotations are other tools' business
// and must not cost a reconcile each.
func annotationChanged(keys ...string) predicate.Predicate {
	return predicate.Funcs{UpdateFunc: func(e ctrlevent.UpdateEvent) bool {
		oldAnn, newAnn := e.ObjectOld.GetAnnotations(), e.ObjectNew.GetAnnotations()
		for _, k := range keys {
			if oldAnn[k] != newAnn[k] {
				return true
			}
		}
		return false
	}}
}
