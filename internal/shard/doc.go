// Package shard splits the sagas among the replicas of the manager, so that several
// replicas share the work instead of one leader doing all of it.
//
// Each replica is a member of a group. A member is a coordination.k8s.io Lease, one per
// replica, labelled shard.ordersaga.io/group=<group> and renewed in the background by
// Membership. A saga belongs to the member that Ring picks for its UID: rendezvous
// (highest-random-weight) hashing over the names of the live members, which every replica
// computes alike from the same list of Leases, with no coordination beyond the Leases.
//
// # Why overlap is harmless
//
// Ownership here is advisory, not a lock. Two replicas can both believe they own a saga for
// a while: a new member claims its share at once while the others learn of it at their
// next list, and a replica whose view of the members is out of date claims by that view.
// Nothing in this package prevents it, and nothing needs to: the reconciler's steps are
// idempotent (a step call carries the saga's idempotency key) and its status writes are
// optimistic-lock updates (resourceVersion), so a second reconciler that acts on an old
// copy gets a conflict and retries from the new one. Sharding divides the work; it is not
// what keeps the work correct. That is also why a missed change notification or a clock
// skew between nodes costs at most some duplicate or delayed reconciles, never a wrong
// result.
//
// The one thing that would be wrong is a saga nobody reconciles for good. Two rules prevent
// it. A member whose Lease is not renewed drops out of every other member's ring within
// LeaseDuration + RenewInterval (its Lease expires after LeaseDuration, and each other
// member lists the Leases every RenewInterval), and its sagas move to the remaining members.
// A member that stops cleanly deletes its Lease, so its sagas move at the others' next
// list. And a member that could not renew its own Lease for LeaseDuration (cut off from the
// API server) stops claiming anything, because by then the others have dropped it.
//
// Leader election stays available as one shard: a single replica with leader election
// needs none of this.
//
// # RBAC
//
// The marker below is for the manager's role. controller-gen runs over ./controllers and
// ./api only, so the same marker must also be present there.
//
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch;delete
package shard
