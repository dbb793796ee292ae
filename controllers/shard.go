package controllers

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlevent "sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/source"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete

// Shard is this replica's share of the sagas (*shard.Membership). A reconciler with a
// Shard runs only the sagas it owns; without one, it runs every saga.
//
// Ownership is advisory: during a change of members two replicas may both run a saga for
// a moment, which the idempotency keys and the optimistic-lock status writes make
// harmless (see internal/shard).
type Shard interface {
	Owns(uid string) bool
	// Changes signals a change of the members; it has a single receiver (Rebalancer).
	Changes() <-chan struct{}
}

// owns reports whether a reconciler with shard s runs the saga of uid.
func owns(s Shard, uid types.UID) bool { return s == nil || s.Owns(string(uid)) }

// Rebalancer wakes the sagas a replica takes over: a saga that moved here waits for
// nothing else (its last reconcile on the replica that owned it may have asked for a
// requeue there, which that replica now drops). It wakes them when this replica's view of
// the members changes, and every Resync besides: a saga can also come back to a replica
// whose own view never changed (others dropped it for a while and then saw it again), and
// only the replica it comes back to can pick it up. It is the single receiver of the
// Shard's changes and hands the sagas to each reconciler's channel.
type Rebalancer struct {
	// Reader lists the sagas, from the manager's cache.
	Reader client.Reader
	Shard  Shard
	// Resync is how often it wakes this replica's unfinished sagas without a change; it
	// bounds how long a saga that came back waits. The shard's lease duration is apt.
	Resync time.Duration

	// orderSagas and sagas carry the wake-ups to the reconciler of each kind. Each is made
	// when that reconciler is set up, before the manager starts; a kind that no reconciler
	// runs has none and is not woken, for a send nobody receives would block every later
	// wake-up.
	orderSagas, sagas chan ctrlevent.GenericEvent
}

// NewRebalancer returns a Rebalancer for the sagas in reader's cache.
func NewRebalancer(reader client.Reader, shard Shard, resync time.Duration) *Rebalancer {
	return &Rebalancer{Reader: reader, Shard: shard, Resync: resync}
}

// orderSagaWakes returns the wake-ups of the OrderSaga reconciler. Call it while setting
// up the manager, not after it started.
func (rb *Rebalancer) orderSagaWakes() <-chan ctrlevent.GenericEvent {
	if rb.orderSagas == nil {
		rb.orderSagas = make(chan ctrlevent.GenericEvent)
	}
	return rb.orderSagas
}

// sagaWakes returns the wake-ups of the Saga reconciler, as orderSagaWakes does.
func (rb *Rebalancer) sagaWakes() <-chan ctrlevent.GenericEvent {
	if rb.sagas == nil {
		rb.sagas = make(chan ctrlevent.GenericEvent)
	}
	return rb.sagas
}

// NeedLeaderElection is false: every replica rebalances its own share.
func (rb *Rebalancer) NeedLeaderElection() bool { return false }

// Start wakes, at every change of the members and every Resync, the unfinished sagas
// this replica owns.
func (rb *Rebalancer) Start(ctx context.Context) error {
	tick := time.NewTicker(rb.Resync)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-rb.Shard.Changes():
		case <-tick.C:
		}
		if err := rb.wake(ctx); err != nil {
			// The sagas are woken at the next change or resync, or by their own requeues.
			logf.FromContext(ctx).Error(err, "wake the sagas this replica took over")
		}
	}
}

func (rb *Rebalancer) wake(ctx context.Context) error {
	if rb.orderSagas != nil {
		var orders v1.OrderSagaList
		if err := rb.Reader.List(ctx, &orders); err != nil {
			return fmt.Errorf("list OrderSagas: %w", err)
		}
		for i := range orders.Items {
			o := &orders.Items[i]
			if rb.mine(o, o.Status.Phase, o.Spec.TTLSecondsAfterFinished != nil) && !send(ctx, rb.orderSagas, o) {
				return nil
			}
		}
	}
	if rb.sagas != nil {
		var sagas v1.SagaList
		if err := rb.Reader.List(ctx, &sagas); err != nil {
			return fmt.Errorf("list Sagas: %w", err)
		}
		for i := range sagas.Items {
			s := &sagas.Items[i]
			if rb.mine(s, s.Status.Phase, s.Spec.TTLSecondsAfterFinished != nil) && !send(ctx, rb.sagas, s) {
				return nil
			}
		}
	}
	return nil
}

// mine reports whether a saga is this replica's and may still have work: unfinished,
// being deleted, or waiting for its TTL to delete it.
func (rb *Rebalancer) mine(obj client.Object, phase v1.Phase, ttl bool) bool {
	if !owns(rb.Shard, obj.GetUID()) {
		return false
	}
	return !phase.IsTerminal() || !obj.GetDeletionTimestamp().IsZero() || ttl
}

// ownedBy passes the watch events of the sagas shard owns; the reconciler checks again,
// for ownership may change while a saga waits in the queue.
func ownedBy(shard Shard) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(obj client.Object) bool { return owns(shard, obj.GetUID()) })
}

// watchRebalanced adds the rebalancer's wake-ups to a controller, when it has any.
func watchRebalanced(b *builder.Builder, ch <-chan ctrlevent.GenericEvent) *builder.Builder {
	if ch == nil {
		return b
	}
	return b.WatchesRawSource(source.Channel(ch, &handler.EnqueueRequestForObject{}))
}

// send hands obj to a reconciler's watch; false means the manager is stopping.
func send(ctx context.Context, ch chan<- ctrlevent.GenericEvent, obj client.Object) bool {
	select {
	case ch <- ctrlevent.GenericEvent{Object: obj}:
		return true
	case <-ctx.Done():
		return false
	}
}
