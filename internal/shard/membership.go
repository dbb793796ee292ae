package shard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/manager"
)

// GroupLabel is the label that marks a Lease as a member of a group; its value is the group.
const GroupLabel = "shard.ordersaga.io/group"

// Defaults of Config.
const (
	// DefaultLeaseDuration is how long a member counts as live after its last renewal,
	// the same as controller-runtime's leader election lease.
	DefaultLeaseDuration = 15 * time.Second
	// releaseTimeout bounds the deletion of the Lease on a graceful stop, which runs after
	// the manager's context is cancelled and so needs a context of its own.
	releaseTimeout = 5 * time.Second
	// abandonedAfter is how many lease durations a Lease may go unrenewed before any member
	// deletes it. A crashed replica never deletes its own Lease and, with a random identity,
	// its successor never reuses it; without this, every crash would leave a Lease behind.
	// Deleting an expired Lease changes no member's view (it no longer counts), so the
	// number only trades clutter for a little history.
	abandonedAfter = 10
)

// Config configures a Membership.
type Config struct {
	// Client writes this replica's Lease. Required.
	Client client.Client
	// Reader lists the group's Leases and re-reads this replica's Lease after a conflict.
	// It should be uncached (manager.GetAPIReader()): the manager's cached client would start
	// an informer on Leases, and its lag would delay every change of the members and turn a
	// re-read after a conflict into another conflict. Defaults to Client.
	Reader client.Reader
	// Namespace holds the Leases. Required.
	Namespace string
	// Group names the set of replicas that share the sagas (a DNS-1123 label, for example
	// "ordersaga-manager"). Required.
	Group string
	// Identity names this replica among the members; it must be unique in the group (two
	// replicas with one identity would share one Lease and one share of the sagas). Defaults
	// to the host name (the pod name in Kubernetes) plus a random suffix.
	Identity string
	// LeaseDuration is how long a member counts as live after its last renewal, at least
	// a second (Lease durations are whole seconds; a fraction is rounded up). Defaults to
	// DefaultLeaseDuration.
	LeaseDuration time.Duration
	// RenewInterval is how often the Lease is renewed and the members listed; it must be
	// shorter than LeaseDuration. Defaults to LeaseDuration/3, which allows two failed
	// renewals before the Lease expires.
	RenewInterval time.Duration
	// Clock returns the current time, for renewal times and the liveness of Leases. Defaults
	// to time.Now. The renewal timer itself always runs on real time.
	Clock func() time.Time
}

// Membership keeps this replica's Lease renewed, tracks the live members of its group and
// answers whether a saga belongs to this replica. It is a manager.Runnable that runs on
// every replica, leader or not.
//
// Owns, Members, MemberCount, Ready and Changes are safe for concurrent use.
type Membership struct {
	client        client.Client
	reader        client.Reader
	namespace     string
	group         string
	identity      string
	leaseName     string
	leaseDuration time.Duration
	renewInterval time.Duration
	clock         func() time.Time

	// changes carries one pending notification at most (see Changes).
	changes chan struct{}
	// started rejects a second Start: two loops would renew one Lease against each other.
	started atomic.Bool

	// mu guards the view that Owns and the other readers see; the loop writes it once per
	// tick.
	mu sync.RWMutex
	// ring holds the live members of the last successful list.
	ring Ring
	// listed is set by the first successful list; until then this replica claims nothing.
	listed bool
	// renewedAt is the renewal time written by the last successful renewal (zero: none).
	renewedAt time.Time
	// stopped is set when Start returns, after the Lease is released.
	stopped bool

	// Loop-only state, touched by Start's goroutine alone.
	//
	// lease is the last copy of this replica's Lease that was written or read, so that a
	// renewal is a single update; nil means "read it first".
	lease *coordinationv1.Lease
	// announced is what the last notification said: the members, and whether this replica
	// was serving (renewed within a lease duration and listed).
	announcedMembers []string
	announcedServing bool
}

// The manager runs a Membership on every replica: sharding replaces leader election.
var (
	_ manager.Runnable               = (*Membership)(nil)
	_ manager.LeaderElectionRunnable = (*Membership)(nil)
)

// New checks cfg, fills in its defaults and returns a Membership that does nothing until
// Start.
func New(cfg Config) (*Membership, error) {
	if cfg.Client == nil {
		return nil, errors.New("shard: Config.Client is required")
	}
	if cfg.Namespace == "" {
		return nil, errors.New("shard: Config.Namespace is required")
	}
	if errs := validation.IsDNS1123Label(cfg.Group); len(errs) > 0 {
		return nil, fmt.Errorf("shard: Config.Group %q is not a DNS-1123 label: %s", cfg.Group, strings.Join(errs, "; "))
	}
	if cfg.Reader == nil {
		cfg.Reader = cfg.Client
	}
	if cfg.Identity == "" {
		id, err := defaultIdentity()
		if err != nil {
			return nil, err
		}
		cfg.Identity = id
	}
	if cfg.LeaseDuration == 0 {
		cfg.LeaseDuration = DefaultLeaseDuration
	}
	if cfg.LeaseDuration < time.Second {
		return nil, fmt.Errorf("shard: Config.LeaseDuration %s is under the one second a Lease can express", cfg.LeaseDuration)
	}
	if cfg.RenewInterval == 0 {
		cfg.RenewInterval = cfg.LeaseDuration / 3
	}
	if cfg.RenewInterval <= 0 || cfg.RenewInterval >= cfg.LeaseDuration {
		return nil, fmt.Errorf("shard: Config.RenewInterval %s must be positive and shorter than LeaseDuration %s", cfg.RenewInterval, cfg.LeaseDuration)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	return &Membership{
		client:        cfg.Client,
		reader:        cfg.Reader,
		namespace:     cfg.Namespace,
		group:         cfg.Group,
		identity:      cfg.Identity,
		leaseName:     LeaseName(cfg.Group, cfg.Identity),
		leaseDuration: cfg.LeaseDuration,
		renewInterval: cfg.RenewInterval,
		clock:         cfg.Clock,
		changes:       make(chan struct{}, 1),
	}, nil
}

// defaultIdentity is the host name plus a random suffix: the host name says which pod a
// Lease belongs to, and the suffix keeps two processes on one host (a developer's machine,
// a test) from sharing a Lease.
func defaultIdentity() (string, error) {
	host, err := os.Hostname()
	if err != nil {
		return "", fmt.Errorf("shard: default identity: %w", err)
	}
	suffix := make([]byte, 4)
	if _, err := rand.Read(suffix); err != nil {
		return "", fmt.Errorf("shard: default identity: %w", err)
	}
	return host + "-" + hex.EncodeToString(suffix), nil
}

// NeedLeaderElection is false: every replica must take part, not just the leader.
func (m *Membership) NeedLeaderElection() bool { return false }

// Identity returns this replica's name among the members.
func (m *Membership) Identity() string { return m.identity }

// LeaseName returns the name of this replica's Lease.
func (m *Membership) LeaseName() string { return m.leaseName }

// Owns reports whether the saga with this UID belongs to this replica. It is false for
// every UID before the first successful list (a replica that does not know the members
// claims nothing), after Start returns, and whenever this replica's last successful renewal
// is a lease duration old: by then the other members have dropped it and taken its sagas.
func (m *Membership) Owns(uid string) bool {
	now := m.clock()
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.servingLocked(now) && m.ring.Owner(uid) == m.identity
}

// servingLocked reports whether this replica may claim sagas at now. m.mu must be held.
func (m *Membership) servingLocked(now time.Time) bool {
	return m.listed && !m.stopped && !m.renewedAt.IsZero() && now.Sub(m.renewedAt) < m.leaseDuration
}

// Members returns the sorted identities of the live members as of the last successful
// list, this replica included while its Lease is live.
func (m *Membership) Members() []string {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ring.Members()
}

// MemberCount returns the number of live members as of the last successful list.
func (m *Membership) MemberCount() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.ring.Len()
}

// Ready reports whether this replica has renewed its Lease and listed the members at least
// once, that is, whether Owns can say yes at all.
func (m *Membership) Ready() bool {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.listed && !m.renewedAt.IsZero()
}

// Changes returns a channel that receives a value after the live members change, and after
// this replica stops or resumes serving (its renewals failed for a lease duration, or
// recovered). Either way the set of sagas this replica owns may have changed: the receiver
// should re-enqueue its sagas, because the ones it now owns may have no event of their own
// to come. Notifications are coalesced (the buffer holds one) and never block the
// Membership, so a slow receiver misses none: it sees at least one value after the last
// change. The channel has one receiver in mind; it is never closed.
func (m *Membership) Changes() <-chan struct{} { return m.changes }

// Start renews the Lease and lists the members every RenewInterval until ctx is cancelled,
// then deletes the Lease so that the other members take over its sagas at their next list,
// rather than a lease duration later. Failures to renew or list are logged and retried at
// the next tick; Start returns an error only when called twice.
func (m *Membership) Start(ctx context.Context) error {
	if !m.started.CompareAndSwap(false, true) {
		return fmt.Errorf("shard: membership %s already started", m.identity)
	}
	log := logf.FromContext(ctx).WithName("shard").WithValues("group", m.group, "identity", m.identity, "lease", m.leaseName)
	ctx = logf.IntoContext(ctx, log)
	log.Info("joining shard group", "leaseDuration", m.leaseDuration, "renewInterval", m.renewInterval)

	ticker := time.NewTicker(m.renewInterval)
	defer ticker.Stop()
	for {
		m.tick(ctx)
		select {
		case <-ctx.Done():
			m.release(ctx)
			return nil
		case <-ticker.C:
		}
	}
}

// tick renews the Lease, lists the members and publishes what changed.
func (m *Membership) tick(ctx context.Context) {
	// A hung request must not hold the loop past the point where the Lease expires: half a
	// lease duration still leaves the next tick time to renew.
	ctx, cancel := context.WithTimeout(ctx, m.leaseDuration/2)
	defer cancel()
	log := logf.FromContext(ctx)

	renewedAt := m.clock()
	renewErr := m.renew(ctx, renewedAt)
	if renewErr != nil {
		log.Error(renewErr, "could not renew shard lease; retrying at the next tick")
	}
	members, listErr := m.liveMembers(ctx)
	if listErr != nil {
		log.Error(listErr, "could not list shard members; keeping the last known members")
	}

	m.mu.Lock()
	if renewErr == nil {
		m.renewedAt = renewedAt
	}
	if listErr == nil {
		m.ring = NewRing(members)
		m.listed = true
	}
	current, serving := m.ring.Members(), m.servingLocked(m.clock())
	m.mu.Unlock()

	m.announce(ctx, current, serving)
}

// announce logs and notifies a change of the members or of whether this replica serves.
func (m *Membership) announce(ctx context.Context, members []string, serving bool) {
	if slices.Equal(members, m.announcedMembers) && serving == m.announcedServing {
		return
	}
	log := logf.FromContext(ctx)
	if !slices.Equal(members, m.announcedMembers) {
		added, removed := diff(m.announcedMembers, members)
		log.Info("shard members changed", "members", members, "added", added, "removed", removed)
	}
	if serving != m.announcedServing {
		if serving {
			log.Info("claiming this replica's share of the sagas", "members", len(members))
		} else {
			log.Info("claiming no sagas: this replica's lease is not known to be live")
		}
	}
	m.announcedMembers, m.announcedServing = members, serving
	m.notify()
}

// notify queues a notification unless one is already pending.
func (m *Membership) notify() {
	select {
	case m.changes <- struct{}{}:
	default:
	}
}

// diff returns the names in b but not a, and in a but not b; both are sorted.
func diff(a, b []string) (added, removed []string) {
	for _, n := range b {
		if _, found := slices.BinarySearch(a, n); !found {
			added = append(added, n)
		}
	}
	for _, n := range a {
		if _, found := slices.BinarySearch(b, n); !found {
			removed = append(removed, n)
		}
	}
	return added, removed
}

// release stops claiming sagas and deletes the Lease, on a context of its own because ctx
// is already cancelled (its values, the logger, are kept).
func (m *Membership) release(ctx context.Context) {
	m.mu.Lock()
	m.stopped = true
	m.ring = Ring{}
	m.mu.Unlock()
	m.notify()

	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), releaseTimeout)
	defer cancel()
	log := logf.FromContext(ctx)
	if err := m.deleteLease(ctx); err != nil {
		log.Error(err, "could not delete shard lease on stop; the other members take over when it expires", "leaseDuration", m.leaseDuration)
		return
	}
	log.Info("left shard group")
}
