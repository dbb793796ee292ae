// Package watch fans the OrderSaga informer's events out to GraphQL subscriptions. Each
// subscriber gets the newest version of every saga that changed since it last read, so
// a slow WebSocket never blocks the informer and never sees a stale version last.
package watch

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Change is a saga as it is now; Gone is set once it was deleted.
type Change struct {
	Key  types.NamespacedName
	Saga *v1.OrderSaga
	Gone bool
}

// Broker delivers informer events to subscribers.
type Broker struct {
	mu   sync.Mutex
	next int
	subs map[int]*Subscription
}

// NewBroker returns a broker with no subscribers.
func NewBroker() *Broker { return &Broker{subs: map[int]*Subscription{}} }

// Subscription receives the changes of one namespace, or of one saga when Name is set.
type Subscription struct {
	namespace, name string
	wake            chan struct{}

	mu      sync.Mutex
	pending map[types.NamespacedName]Change
	order   []types.NamespacedName
}

// Subscribe registers a subscriber to the sagas of namespace (all of them when name is
// empty) until ctx ends.
func (b *Broker) Subscribe(ctx context.Context, namespace, name string) *Subscription {
	s := &Subscription{namespace: namespace, name: name, wake: make(chan struct{}, 1), pending: map[types.NamespacedName]Change{}}
	b.mu.Lock()
	id := b.next
	b.next++
	b.subs[id] = s
	b.mu.Unlock()
	context.AfterFunc(ctx, func() {
		b.mu.Lock()
		delete(b.subs, id)
		b.mu.Unlock()
	})
	return s
}

// Wake is ready when Drain has something.
func (s *Subscription) Wake() <-chan struct{} { return s.wake }

// Drain returns the changes since the last Drain, one per saga (its newest), in the order
// the sagas first changed.
func (s *Subscription) Drain() []Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Change, 0, len(s.order))
	for _, key := range s.order {
		out = append(out, s.pending[key])
	}
	clear(s.pending)
	s.order = s.order[:0]
	return out
}

func (s *Subscription) offer(c Change) {
	if c.Key.Namespace != s.namespace || (s.name != "" && c.Key.Name != s.name) {
		return
	}
	s.mu.Lock()
	if _, ok := s.pending[c.Key]; !ok {
		s.order = append(s.order, c.Key)
	}
	s.pending[c.Key] = c
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

func (b *Broker) publish(c Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, s := range b.subs {
		s.offer(c)
	}
}

// Handler is the informer event handler that feeds the broker.
func (b *Broker) Handler() toolscache.ResourceEventHandler {
	return toolscache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { b.changed(obj, false) },
		UpdateFunc: func(_, obj any) { b.changed(obj, false) },
		DeleteFunc: func(obj any) {
			if tomb, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
				obj = tomb.Obj
			}
			b.changed(obj, true)
		},
	}
}

func (b *Broker) changed(obj any, gone bool) {
	saga, ok := obj.(*v1.OrderSaga)
	if !ok {
		return
	}
	b.publish(Change{Key: types.NamespacedName{Namespace: saga.Namespace, Name: saga.Name}, Saga: saga, Gone: gone})
}
