package shard

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// renew writes now as the renewal time of this replica's Lease, creating the Lease if it
// is missing. The usual case is one update of the copy from the last tick; a conflict (the
// Lease was changed by someone else) or a missing Lease falls back to a read.
func (m *Membership) renew(ctx context.Context, now time.Time) error {
	if m.lease == nil {
		return m.readAndRenew(ctx, now)
	}
	lease := m.lease.DeepCopy()
	m.fillSpec(lease, now)
	err := m.client.Update(ctx, lease)
	switch {
	case err == nil:
		m.lease = lease
		return nil
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
		m.lease = nil
		return m.readAndRenew(ctx, now)
	default:
		return fmt.Errorf("update lease %s/%s: %w", m.namespace, m.leaseName, err)
	}
}

// readAndRenew reads the Lease and updates it, or creates it when it does not exist.
func (m *Membership) readAndRenew(ctx context.Context, now time.Time) error {
	key := types.NamespacedName{Namespace: m.namespace, Name: m.leaseName}
	lease := &coordinationv1.Lease{}
	err := m.reader.Get(ctx, key, lease)
	if apierrors.IsNotFound(err) {
		return m.createLease(ctx, now)
	}
	if err != nil {
		return fmt.Errorf("get lease %s: %w", key, err)
	}
	m.fillSpec(lease, now)
	if err := m.client.Update(ctx, lease); err != nil {
		return fmt.Errorf("update lease %s: %w", key, err)
	}
	m.lease = lease
	return nil
}

// createLease creates this replica's Lease. AlreadyExists (another process created it
// since the read) is returned as an error: the next tick reads it and renews.
func (m *Membership) createLease(ctx context.Context, now time.Time) error {
	lease := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: m.namespace,
			Name:      m.leaseName,
			Labels:    map[string]string{GroupLabel: m.group},
		},
	}
	m.fillSpec(lease, now)
	if err := m.client.Create(ctx, lease); err != nil {
		return fmt.Errorf("create lease %s/%s: %w", m.namespace, m.leaseName, err)
	}
	m.lease = lease
	return nil
}

// fillSpec makes lease say that this replica holds it and renewed it at now. The label and
// holder are set on every write, so a Lease edited by hand is repaired; the acquire time
// changes only when the holder does.
func (m *Membership) fillSpec(lease *coordinationv1.Lease, now time.Time) {
	if lease.Labels == nil {
		lease.Labels = map[string]string{}
	}
	lease.Labels[GroupLabel] = m.group
	at := metav1.NewMicroTime(now)
	if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity != m.identity || lease.Spec.AcquireTime == nil {
		lease.Spec.HolderIdentity = new(m.identity)
		lease.Spec.AcquireTime = &at
	}
	lease.Spec.LeaseDurationSeconds = new(leaseSeconds(m.leaseDuration))
	lease.Spec.RenewTime = &at
}

// leaseSeconds rounds d up to whole seconds, so that a Lease never expires earlier in the
// other members' eyes than this replica assumes in servingLocked.
func leaseSeconds(d time.Duration) int32 {
	s := math.Ceil(d.Seconds())
	if s > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(s)
}

// liveMembers lists the group's Leases and returns the holders of the live ones. On the
// way it deletes Leases abandoned for abandonedAfter lease durations.
func (m *Membership) liveMembers(ctx context.Context) ([]string, error) {
	var leases coordinationv1.LeaseList
	if err := m.reader.List(ctx, &leases, client.InNamespace(m.namespace), client.MatchingLabels{GroupLabel: m.group}); err != nil {
		return nil, fmt.Errorf("list leases of group %s in %s: %w", m.group, m.namespace, err)
	}
	now := m.clock()
	members := make([]string, 0, len(leases.Items))
	for i := range leases.Items {
		lease := &leases.Items[i]
		if live(lease, now) {
			members = append(members, *lease.Spec.HolderIdentity)
			continue
		}
		if last := lastRenewal(lease); lease.Name != m.leaseName && now.Sub(last) > abandonedAfter*m.leaseDuration {
			m.deleteAbandoned(ctx, lease, last)
		}
	}
	return members, nil
}

// live reports whether lease has a holder and was renewed within its own duration. The
// renewal time was written by the holder's clock and is read by this one: clock skew
// between nodes shifts the moment a member drops out, which the package tolerates (see
// the package documentation).
func live(lease *coordinationv1.Lease, now time.Time) bool {
	s := lease.Spec
	if s.HolderIdentity == nil || *s.HolderIdentity == "" || s.RenewTime == nil || s.LeaseDurationSeconds == nil {
		return false
	}
	return s.RenewTime.Add(time.Duration(*s.LeaseDurationSeconds) * time.Second).After(now)
}

// lastRenewal returns when lease was last renewed, or created if it never was. A Lease is
// abandoned when that is abandonedAfter lease durations ago (this replica's duration: a
// Lease's own may be missing or absurd).
func lastRenewal(lease *coordinationv1.Lease) time.Time {
	if lease.Spec.RenewTime != nil {
		return lease.Spec.RenewTime.Time
	}
	return lease.CreationTimestamp.Time
}

// deleteAbandoned deletes an abandoned Lease unless it changed since it was listed (its
// holder came back). Every member may try at once; all but one get NotFound or a
// conflict, which is why failures are only logged, and quietly.
func (m *Membership) deleteAbandoned(ctx context.Context, lease *coordinationv1.Lease, last time.Time) {
	rv := lease.ResourceVersion
	err := m.client.Delete(ctx, lease, client.Preconditions{ResourceVersion: &rv})
	log := logf.FromContext(ctx)
	switch {
	case err == nil:
		log.Info("deleted abandoned shard lease", "abandonedLease", lease.Name, "lastRenewal", last)
	case apierrors.IsNotFound(err), apierrors.IsConflict(err):
	default:
		log.V(1).Info("could not delete abandoned shard lease", "abandonedLease", lease.Name, "error", err.Error())
	}
}

// deleteLease deletes this replica's Lease. NotFound is success: the Lease is gone either
// way. When the Lease's UID is known, it is a precondition, so that a process that took
// over the identity in the meantime keeps its Lease.
func (m *Membership) deleteLease(ctx context.Context) error {
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: m.namespace, Name: m.leaseName}}
	var opts []client.DeleteOption
	if m.lease != nil && m.lease.UID != "" {
		opts = append(opts, client.Preconditions{UID: &m.lease.UID})
	}
	if err := m.client.Delete(ctx, lease, opts...); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete lease %s/%s: %w", m.namespace, m.leaseName, err)
	}
	return nil
}

// LeaseName returns the name of the Lease of identity in group: "<group>-<identity>" when
// identity is already a lowercase DNS-1123 label, and otherwise the identity lowercased,
// with every other character turned into "-", cut to fit the 253 characters of a name and
// followed by a hash of the original. The hash keeps identities that sanitize alike
// ("Pod_A" and "pod-a") on different Leases. group must be a DNS-1123 label (New checks).
func LeaseName(group, identity string) string {
	clean := sanitize(identity)
	name := group + "-" + clean
	if clean == identity && len(validation.IsDNS1123Subdomain(name)) == 0 {
		return name
	}
	sum := strconv.FormatUint(mix64(fnv1a(fnvOffset64, identity)), 16)
	room := validation.DNS1123SubdomainMaxLength - len(group) - len(sum) - 2 // two "-"
	clean = strings.TrimRight(clean[:min(len(clean), max(room, 0))], "-")
	if clean == "" {
		return group + "-" + sum
	}
	return group + "-" + clean + "-" + sum
}

// sanitize lowercases s and replaces every character outside [a-z0-9-] with "-" (dots
// too: they would need their own rules), then trims "-" from both ends.
func sanitize(s string) string {
	b := []byte(strings.ToLower(s))
	for i, c := range b {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
			b[i] = '-'
		}
	}
	return strings.Trim(string(b), "-")
}
