package bench

import (
	"context"
	"fmt"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersaga/ordersaga/internal/shard"
)

// shardSettleTimeout bounds the wait for the members to see each other: a replica lists
// the Leases every third of the default 15 s lease duration.
const shardSettleTimeout = time.Minute

// waitShardMembers polls the Leases of ns until membersSettled says every replica has
// listed all n members.
func (s *Stack) waitShardMembers(ctx context.Context, ns string, n int) error {
	deadline := time.Now().Add(shardSettleTimeout)
	for {
		var leases coordinationv1.LeaseList
		if err := s.Client.List(ctx, &leases, client.InNamespace(ns), client.HasLabels{shard.GroupLabel}); err != nil {
			return fmt.Errorf("list the shard leases in %s: %w", ns, err)
		}
		ok, state := membersSettled(leases.Items, n)
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("shard members in %s not settled after %s: %s", ns, shardSettleTimeout, state)
		}
		settle(ctx, 200*time.Millisecond)
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("wait for the shard members: %w", err)
		}
	}
}

// membersSettled reports whether n replicas have each seen all n Leases. A replica renews
// its own Lease and then lists the group's Leases, once per tick (internal/shard), so a
// Lease renewed after the last Lease was created belongs to a replica whose next list sees
// every Lease. creationTimestamp has whole seconds: a renewal counts from a second after
// it. The replicas and the API server share this machine's clock. state says what is
// missing.
func membersSettled(leases []coordinationv1.Lease, n int) (ok bool, state string) {
	var lastCreated time.Time
	for i := range leases {
		if t := leases[i].CreationTimestamp.Time; t.After(lastCreated) {
			lastCreated = t
		}
	}
	seenAll := lastCreated.Add(time.Second)
	renewed := 0
	for i := range leases {
		spec := leases[i].Spec
		if spec.HolderIdentity != nil && spec.RenewTime != nil && !spec.RenewTime.Time.Before(seenAll) {
			renewed++
		}
	}
	state = fmt.Sprintf("%d of %d Leases, %d renewed since the last was created", len(leases), n, renewed)
	return len(leases) == n && renewed == n, state
}
