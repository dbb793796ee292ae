package sagasim

import (
	"context"
	"maps"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/ordersaga/ordersaga/controllers"
)

// informer is the manager's cache of sagas, which the reconcilers read: each saga as the
// watch last delivered it. Every change the API server stores reaches it in order, after
// a lag the schedule draws, so a reconcile may read a copy older than a write it made
// itself a moment ago. A delivered change passes the reconcilers' own event filter
// (controllers.SagaEvents) to wake the saga, as the watch does in a manager: a user's
// change wakes the saga only once the cache holds it.
type informer struct {
	sim    *sim
	filter predicate.Predicate
	seen   map[string]client.Object
	// pending holds, per saga, the changes on their way, in order; obj is nil for removal.
	pending map[string][]delivery
}

type delivery struct {
	at  time.Time
	obj client.Object
}

func newInformer(s *sim) *informer {
	return &informer{sim: s, filter: controllers.SagaEvents(), seen: map[string]client.Object{}, pending: map[string][]delivery{}}
}

// changed queues the delivery of a saga's stored version (nil: removed) after a lag.
func (in *informer) changed(name string, obj client.Object) {
	s := in.sim
	at := s.clock.Now().Add(in.lag())
	if q := in.pending[name]; len(q) > 0 {
		at = maxTime(at, q[len(q)-1].at) // a watch delivers in order
	}
	var c client.Object
	if obj != nil {
		c = deepCopy(obj)
	}
	in.pending[name] = append(in.pending[name], delivery{at: at, obj: c})
}

// lag is how long a change takes to reach the cache: mostly nothing or milliseconds,
// during the faults now and then seconds.
func (in *informer) lag() time.Duration {
	s := in.sim
	switch s.draw(s.faults.watchLag) {
	case watchLagShort:
		return time.Duration(1+s.rng.IntN(20)) * time.Millisecond
	case watchLagLong:
		return time.Duration(100+s.rng.IntN(4900)) * time.Millisecond
	default:
		return 0
	}
}

// next is the time of the earliest pending delivery; ok is false when none is pending.
func (in *informer) next() (time.Time, bool) {
	var first time.Time
	ok := false
	for _, q := range in.pending {
		if !ok || q[0].at.Before(first) {
			first, ok = q[0].at, true
		}
	}
	return first, ok
}

// deliver applies every change due by now, saga by saga in name order, and wakes the
// sagas whose changes pass the reconcilers' filter.
func (in *informer) deliver() {
	now := in.sim.clock.Now()
	for _, name := range slices.Sorted(maps.Keys(in.pending)) {
		q := in.pending[name]
		for len(q) > 0 && !q[0].at.After(now) {
			in.apply(name, q[0].obj)
			q = q[1:]
		}
		if len(q) == 0 {
			delete(in.pending, name)
		} else {
			in.pending[name] = q
		}
	}
}

// apply puts one change into the cache and passes its event through the filter.
func (in *informer) apply(name string, obj client.Object) {
	old, had := in.seen[name]
	var wake bool
	switch {
	case obj == nil && !had:
		return
	case obj == nil:
		delete(in.seen, name)
		wake = in.filter.Delete(ctrlevent.DeleteEvent{Object: old})
	case !had:
		in.seen[name] = obj
		wake = in.filter.Create(ctrlevent.CreateEvent{Object: obj})
	default:
		in.seen[name] = obj
		wake = in.filter.Update(ctrlevent.UpdateEvent{ObjectOld: old, ObjectNew: obj})
	}
	if wake {
		in.sim.enqueue(name, in.sim.clock.Now())
	}
}

// resync is a new manager's first list: the cache starts as the API server is, and
// nothing is on its way.
func (in *informer) resync() {
	in.seen, in.pending = map[string]client.Object{}, map[string][]delivery{}
	for _, obj := range in.sim.api.store.stored(in.sim.sagaResource()) {
		in.seen[obj.GetName()] = deepCopy(obj)
	}
}

// get reads a saga from the cache.
func (in *informer) get(key client.ObjectKey, obj client.Object) error {
	cur, ok := in.seen[key.Name]
	if !ok || key.Namespace != Namespace {
		return apierrors.NewNotFound(resourceOf(obj), key.Name)
	}
	copyInto(obj, cur)
	return nil
}

// cachedClient is the reconcilers' client: sagas are read from the informer, everything
// else, and every write, goes to the API server with its faults.
type cachedClient struct {
	faultyClient
}

func (c cachedClient) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if c.api.sim.proc.dead {
		return errCrashed
	}
	if resourceOf(obj).Resource == c.api.sim.sagaResource() {
		return c.api.sim.informer.get(key, obj)
	}
	return c.faultyClient.Get(ctx, key, obj, opts...)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// sagaResource is the resource of the schedule's sagas.
func (s *sim) sagaResource() string { return resourceOf(s.kind.empty()).Resource }
