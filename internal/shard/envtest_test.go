package shard

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/testr"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// These tests run Memberships with real timers against a real API server (envtest, no
// CRDs: Leases are built in). KUBEBUILDER_ASSETS names the envtest binaries: `make test`
// sets it; by hand, KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./internal/shard/
//
// The lease is short (2 s) to keep the package under half a minute; waits are bounded by
// several lease durations, because a loaded machine delays timers and requests, and each
// wait logs how long it took next to the bound the package documents.

const (
	envLease = 2 * time.Second
	envRenew = 300 * time.Millisecond
	// envWait bounds every wait for the members to change: 3 lease durations plus slack.
	envWait = 3*envLease + 2*time.Second
)

// cluster is the test API server, started by the first test that needs it and stopped by
// TestMain.
var cluster struct {
	once   sync.Once
	env    *envtest.Environment
	client client.Client
	err    error
}

func TestMain(m *testing.M) {
	// envtest logs through controller-runtime's global logger; the Memberships log through
	// their tests' loggers (see startMember).
	logf.SetLogger(logr.Discard())
	code := m.Run()
	if cluster.env != nil {
		if err := cluster.env.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop envtest:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// apiServer returns a client of the test API server, starting it on first use. Without
// KUBEBUILDER_ASSETS the test is skipped, unless CI is set: there a missing API server is a
// broken setup, not a reason to pass.
func apiServer(t *testing.T) client.Client {
	t.Helper()
	if os.Getenv("KUBEBUILDER_ASSETS") == "" {
		const msg = "KUBEBUILDER_ASSETS is not set: run `make test`, or KUBEBUILDER_ASSETS=$(hack/envtest.sh) go test ./internal/shard/"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + " (CI is set, so this fails instead of skipping)")
		}
		t.Skip(msg)
	}
	cluster.once.Do(func() {
		cluster.env = &envtest.Environment{}
		cfg, err := cluster.env.Start()
		if err != nil {
			cluster.err = fmt.Errorf("start envtest: %w", err)
			return
		}
		cluster.client, cluster.err = client.New(cfg, client.Options{})
	})
	if cluster.err != nil {
		t.Fatal(cluster.err)
	}
	return cluster.client
}

// newNamespace creates a namespace of its own for t. envtest runs no namespace controller,
// so namespaces stay; a fresh one per test keeps tests apart.
func newNamespace(t *testing.T, c client.Client) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "shard-"}}
	if err := c.Create(t.Context(), ns); err != nil {
		t.Fatalf("create namespace: %v", err)
	}
	return ns.Name
}

// member is a running Membership with a client that the test can cut.
type member struct {
	*Membership
	cut    *cutClient
	cancel context.CancelFunc
	done   chan error
}

// startMember starts a Membership named identity in ns. It is stopped when t ends, before
// t's logger goes away.
func startMember(t *testing.T, c client.Client, ns, identity string) *member {
	t.Helper()
	cut := &cutClient{Client: c}
	m, err := New(Config{Client: cut, Namespace: ns, Group: testGroup, Identity: identity, LeaseDuration: envLease, RenewInterval: envRenew})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(logf.IntoContext(context.Background(), testr.New(t)))
	mb := &member{Membership: m, cut: cut, cancel: cancel, done: make(chan error, 1)}
	go func() { mb.done <- m.Start(ctx) }()
	t.Cleanup(func() { mb.stop(t) })
	return mb
}

// stop cancels the member's context and waits for Start to return. Calling it again is
// harmless.
func (mb *member) stop(t *testing.T) {
	t.Helper()
	mb.cancel()
	select {
	case err, ok := <-mb.done:
		if ok && err != nil {
			t.Errorf("%s: Start() = %v, want nil", mb.Identity(), err)
		}
		if ok {
			close(mb.done)
		}
	case <-time.After(2 * releaseTimeout):
		t.Errorf("%s: Start did not return after cancel", mb.Identity())
	}
}

// converged returns nil once every member reports exactly want as the members.
func converged(want []string, ms ...*member) func() error {
	return func() error {
		for _, m := range ms {
			if got := m.Members(); !m.Ready() || !slices.Equal(got, want) {
				return fmt.Errorf("%s: ready %v, members %q, want %q", m.Identity(), m.Ready(), got, want)
			}
		}
		return nil
	}
}

// partitioned returns nil once each key is owned by exactly one of ms.
func partitioned(keys []string, ms ...*member) func() error {
	return func() error {
		for _, k := range keys {
			var owners []string
			for _, m := range ms {
				if m.Owns(k) {
					owners = append(owners, m.Identity())
				}
			}
			if len(owners) != 1 {
				return fmt.Errorf("saga %s is owned by %q, want exactly one owner", k, owners)
			}
		}
		return nil
	}
}

// notifiedWithin reports whether ch receives within d. The member set is published before
// the notification is sent, so a wait that saw the new members needs only a moment.
func notifiedWithin(ch <-chan struct{}, d time.Duration) bool {
	select {
	case <-ch:
		return true
	case <-time.After(d):
		return false
	}
}

func leaseExists(t *testing.T, c client.Client, ns, name string) bool {
	t.Helper()
	err := c.Get(t.Context(), types.NamespacedName{Namespace: ns, Name: name}, &coordinationv1.Lease{})
	if err != nil && !apierrors.IsNotFound(err) {
		t.Fatal(err)
	}
	return err == nil
}

// TestGroup runs three replicas through a join, a graceful stop and a crash.
func TestGroup(t *testing.T) {
	c := apiServer(t)
	ns := newNamespace(t, c)
	keys := uuids(3000, 20)
	a, b, r := startMember(t, c, ns, "a"), startMember(t, c, ns, "b"), startMember(t, c, ns, "c")

	took := waitFor(t, envWait, converged([]string{"a", "b", "c"}, a, b, r))
	t.Logf("three members converged in %s", took)
	for _, m := range []*member{a, b, r} {
		if !fired(m.Changes()) {
			t.Errorf("%s: no notification after the members changed", m.Identity())
		}
	}
	// Retried rather than checked once: a member whose renewal a loaded machine delays past
	// its lease duration claims nothing for a moment, which is the rule working.
	waitFor(t, envWait, partitioned(keys, a, b, r))

	t.Run("graceful stop hands over at the next list", func(t *testing.T) {
		r.stop(t)
		if leaseExists(t, c, ns, r.LeaseName()) {
			t.Fatal("c's lease is still there after c stopped")
		}
		took := waitFor(t, envWait, converged([]string{"a", "b"}, a, b))
		t.Logf("two members converged %s after c stopped (bound: the renew interval, %s)", took, envRenew)
		if !notifiedWithin(a.Changes(), time.Second) || !notifiedWithin(b.Changes(), time.Second) {
			t.Error("no notification after c left")
		}
		if !ownsNone(r.Membership, keys) {
			t.Error("c claims sagas after it stopped")
		}
		waitFor(t, envWait, partitioned(keys, a, b))
	})

	t.Run("a replica cut off from the API server is dropped and stops claiming", func(t *testing.T) {
		b.cut.cut.Store(true)
		start := time.Now()
		// b gives up first (a lease duration after its last renewal), a drops b after (at
		// its first list once b's lease expired), so that the two never both miss a saga.
		waitFor(t, envWait, func() error {
			if !ownsNone(b.Membership, keys) {
				return errors.New("b, cut off, still claims sagas")
			}
			return nil
		})
		t.Logf("b stopped claiming %s after it was cut off (bound: lease duration, %s)", time.Since(start), envLease)
		waitFor(t, envWait, converged([]string{"a"}, a))
		t.Logf("b dropped %s after it was cut off (bound: lease duration + renew interval, %s)", time.Since(start), envLease+envRenew)
		if !notifiedWithin(a.Changes(), time.Second) {
			t.Error("no notification after b was dropped")
		}
		waitFor(t, envWait, partitioned(keys, a))

		// Stopping b now is a crash: it cannot delete its lease, which stays behind.
		b.stop(t)
		if !leaseExists(t, c, ns, b.LeaseName()) {
			t.Error("b's lease is gone although b could not delete it")
		}
	})
}

// TestLeasesByHand checks a member against Leases it did not write: a live one counts until
// it expires, and expired, foreign and holderless ones do not count.
func TestLeasesByHand(t *testing.T) {
	c := apiServer(t)
	ns := newNamespace(t, c)
	put := func(name, group, holder string, renewed time.Time) {
		t.Helper()
		l := &coordinationv1.Lease{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{GroupLabel: group}},
			Spec: coordinationv1.LeaseSpec{
				LeaseDurationSeconds: new(leaseSeconds(envLease)),
				RenewTime:            new(metav1.NewMicroTime(renewed)),
			},
		}
		if holder != "" {
			l.Spec.HolderIdentity = new(holder)
		}
		if err := c.Create(t.Context(), l); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	put("ghost", testGroup, "ghost", now)
	put("abandoned", testGroup, "abandoned", now.Add(-time.Hour))
	put("other-group", "other", "x", now)
	put("no-holder", testGroup, "", now)

	a := startMember(t, c, ns, "a")
	waitFor(t, envWait, converged([]string{"a", "ghost"}, a))
	took := waitFor(t, envWait, converged([]string{"a"}, a))
	t.Logf("ghost, never renewed, dropped %s after a saw it (bound: lease duration + renew interval, %s)", took, envLease+envRenew)
	waitFor(t, envWait, func() error {
		if leaseExists(t, c, ns, "abandoned") {
			return errors.New("the abandoned lease is still there")
		}
		return nil
	})
}
