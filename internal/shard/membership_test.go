package shard

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// These tests drive one Membership tick by tick against controller-runtime's fake client,
// with a fake clock, to check the rules in time without waiting for it. The envtest tests
// check the same rules with real timers against a real API server.

const (
	testNS    = "shard-test"
	testGroup = "ordersaga-manager"
)

func TestNewValidates(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"no client", Config{Namespace: "ns", Group: "g"}, "Client is required"},
		{"no namespace", Config{Client: c, Group: "g"}, "Namespace is required"},
		{"no group", Config{Client: c, Namespace: "ns"}, "not a DNS-1123 label"},
		{"group with a dot", Config{Client: c, Namespace: "ns", Group: "a.b"}, "not a DNS-1123 label"},
		{"sub-second lease", Config{Client: c, Namespace: "ns", Group: "g", LeaseDuration: 500 * time.Millisecond}, "under the one second"},
		{"renewal as long as the lease", Config{Client: c, Namespace: "ns", Group: "g", LeaseDuration: 2 * time.Second, RenewInterval: 2 * time.Second}, "shorter than LeaseDuration"},
		{"negative renewal", Config{Client: c, Namespace: "ns", Group: "g", RenewInterval: -time.Second}, "must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New() error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	m, err := New(Config{Client: fake.NewClientBuilder().Build(), Namespace: "ns", Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if !strings.HasPrefix(m.Identity(), host+"-") || len(m.Identity()) != len(host)+9 {
		t.Errorf("Identity() = %q, want %q plus a dash and 8 hex digits", m.Identity(), host)
	}
	if m.leaseDuration != DefaultLeaseDuration || m.renewInterval != DefaultLeaseDuration/3 {
		t.Errorf("lease duration %s, renew interval %s, want %s and a third of it", m.leaseDuration, m.renewInterval, DefaultLeaseDuration)
	}
	if m.reader == nil || m.clock == nil {
		t.Error("reader or clock not defaulted")
	}
	if m.NeedLeaderElection() {
		t.Error("NeedLeaderElection() = true, want false: every replica takes part")
	}
	other, err := New(Config{Client: fake.NewClientBuilder().Build(), Namespace: "ns", Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if other.Identity() == m.Identity() {
		t.Errorf("two default identities are both %q", m.Identity())
	}
}

func TestLeaseName(t *testing.T) {
	long := strings.Repeat("x", 300)
	tests := []struct {
		name, identity string
		// want is the exact name, or "" to check only validity and the prefix.
		want, prefix string
	}{
		{name: "pod name", identity: "ordersaga-manager-6d5f-abcde", want: "g-ordersaga-manager-6d5f-abcde"},
		{name: "upper case", identity: "Pod-A", prefix: "g-pod-a-"},
		{name: "underscore and dot", identity: "host_1.example", prefix: "g-host-1-example-"},
		{name: "nothing usable", identity: "__", prefix: "g-"},
		{name: "non-ASCII", identity: "réplica", prefix: "g-r--plica-"},
		{name: "too long", identity: long, prefix: "g-xxxx"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LeaseName("g", tt.identity)
			if errs := validation.IsDNS1123Subdomain(got); len(errs) > 0 {
				t.Errorf("LeaseName = %q, not a valid name: %v", got, errs)
			}
			if tt.want != "" && got != tt.want {
				t.Errorf("LeaseName = %q, want %q", got, tt.want)
			}
			if !strings.HasPrefix(got, tt.prefix) {
				t.Errorf("LeaseName = %q, want prefix %q", got, tt.prefix)
			}
		})
	}
	if a, b := LeaseName("g", "Pod_A"), LeaseName("g", "pod-a"); a == b {
		t.Errorf("identities that sanitize alike share the lease name %q", a)
	}
	if a, b := LeaseName("g", long), LeaseName("g", long+"y"); a == b {
		t.Errorf("long identities that cut alike share the lease name %q", a)
	}
}

// harness is one Membership on the fake client with a fake clock.
type harness struct {
	t     *testing.T
	ctx   func() context.Context
	kube  client.Client
	cut   *cutClient
	clock *fakeClock
	m     *Membership
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	kube := fake.NewClientBuilder().Build()
	cut := &cutClient{Client: kube}
	clock := &fakeClock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	m, err := New(Config{
		Client: cut, Namespace: testNS, Group: testGroup, Identity: "a",
		LeaseDuration: 2 * time.Second, RenewInterval: 500 * time.Millisecond, Clock: clock.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	// A function rather than a field: a context belongs to a call, not a struct.
	ctx := func() context.Context { return logf.IntoContext(t.Context(), testr.New(t)) }
	return &harness{t: t, ctx: ctx, kube: kube, cut: cut, clock: clock, m: m}
}

// lease reads the Lease named name, or returns nil when there is none.
func (h *harness) lease(name string) *coordinationv1.Lease {
	h.t.Helper()
	l := &coordinationv1.Lease{}
	err := h.kube.Get(h.ctx(), types.NamespacedName{Namespace: testNS, Name: name}, l)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		h.t.Fatal(err)
	}
	return l
}

// putLease creates a Lease as another replica would, renewed at renewed.
func (h *harness) putLease(name, group, holder string, renewed time.Time) {
	h.t.Helper()
	l := &coordinationv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Namespace: testNS, Name: name, Labels: map[string]string{GroupLabel: group}},
		Spec: coordinationv1.LeaseSpec{
			LeaseDurationSeconds: new(int32(2)),
			RenewTime:            new(metav1.NewMicroTime(renewed)),
		},
	}
	if holder != "" {
		l.Spec.HolderIdentity = new(holder)
	}
	if err := h.kube.Create(h.ctx(), l); err != nil {
		h.t.Fatal(err)
	}
}

// ownsAll reports whether Owns says yes to every key, and ownsNone whether to none.
func ownsAll(m *Membership, keys []string) bool {
	return !slices.ContainsFunc(keys, func(k string) bool { return !m.Owns(k) })
}

func ownsNone(m *Membership, keys []string) bool {
	return !slices.ContainsFunc(keys, m.Owns)
}

func TestClaimsNothingBeforeFirstList(t *testing.T) {
	h := newHarness(t)
	keys := uuids(50, 10)
	if h.m.Ready() || !ownsNone(h.m, keys) || h.m.MemberCount() != 0 {
		t.Fatal("a Membership that never ticked is ready, owns sagas or has members")
	}
	h.cut.cut.Store(true)
	h.m.tick(h.ctx())
	if h.m.Ready() || !ownsNone(h.m, keys) || fired(h.m.Changes()) {
		t.Fatal("a Membership whose first renewal and list failed is ready, owns sagas or notified")
	}
}

func TestTickRenewsAndLists(t *testing.T) {
	h := newHarness(t)
	start := h.clock.Now()
	h.m.tick(h.ctx())
	if !h.m.Ready() || !slices.Equal(h.m.Members(), []string{"a"}) || !ownsAll(h.m, uuids(50, 11)) {
		t.Fatalf("after one tick: Ready %v, Members %q; want ready, [a], owning every saga", h.m.Ready(), h.m.Members())
	}
	if !fired(h.m.Changes()) {
		t.Error("no notification after joining")
	}
	l := h.lease(LeaseName(testGroup, "a"))
	if l == nil {
		t.Fatal("no lease after the first tick")
	}
	if l.Labels[GroupLabel] != testGroup || *l.Spec.HolderIdentity != "a" || *l.Spec.LeaseDurationSeconds != 2 ||
		!l.Spec.RenewTime.Time.Equal(start) || !l.Spec.AcquireTime.Time.Equal(start) {
		t.Errorf("lease = %+v %+v", l.Labels, l.Spec)
	}

	h.clock.Step(time.Second)
	h.m.tick(h.ctx())
	l = h.lease(LeaseName(testGroup, "a"))
	if !l.Spec.RenewTime.Time.Equal(start.Add(time.Second)) || !l.Spec.AcquireTime.Time.Equal(start) {
		t.Errorf("after a renewal: renewTime %v, acquireTime %v; want %v and %v", l.Spec.RenewTime, l.Spec.AcquireTime, start.Add(time.Second), start)
	}
	if fired(h.m.Changes()) {
		t.Error("a notification without a change")
	}
}

func TestClaimsNothingWithoutRenewal(t *testing.T) {
	h := newHarness(t)
	keys := uuids(50, 12)
	h.m.tick(h.ctx())
	fired(h.m.Changes())

	h.cut.cut.Store(true)
	h.clock.Step(2*time.Second - time.Millisecond)
	h.m.tick(h.ctx())
	if !ownsAll(h.m, keys) || fired(h.m.Changes()) {
		t.Fatal("within a lease duration of the last renewal, a replica stopped claiming or notified")
	}
	// No tick: Owns itself must notice that the lease has run out.
	h.clock.Step(time.Millisecond)
	if !ownsNone(h.m, keys) {
		t.Fatal("a lease duration after the last renewal, a replica still claims sagas")
	}
	h.m.tick(h.ctx())
	if !fired(h.m.Changes()) {
		t.Error("no notification on ceasing to serve")
	}

	h.cut.cut.Store(false)
	h.m.tick(h.ctx())
	if !ownsAll(h.m, keys) || !fired(h.m.Changes()) {
		t.Error("after renewing again, a replica claims nothing or did not notify")
	}
}

func TestListsOtherLeases(t *testing.T) {
	h := newHarness(t)
	now := h.clock.Now()
	h.putLease("b", testGroup, "b", now)
	h.putLease("expired", testGroup, "expired", now.Add(-3*time.Second))
	h.putLease("abandoned", testGroup, "abandoned", now.Add(-time.Hour))
	h.putLease("other-group", "other", "x", now)
	h.putLease("no-holder", testGroup, "", now)

	h.m.tick(h.ctx())
	if got := h.m.Members(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("Members() = %q, want [a b]", got)
	}
	if h.lease("abandoned") != nil || h.lease("expired") == nil {
		t.Error("want the abandoned lease deleted and the merely expired one kept")
	}
	ring := NewRing([]string{"a", "b"})
	for _, k := range uuids(200, 13) {
		if got, want := h.m.Owns(k), ring.Owner(k) == "a"; got != want {
			t.Fatalf("Owns(%q) = %v, want %v", k, got, want)
		}
	}
	fired(h.m.Changes())

	// b stops renewing; a lists again after b's lease ran out.
	h.clock.Step(2 * time.Second)
	h.m.tick(h.ctx())
	got, notified := h.m.Members(), fired(h.m.Changes())
	if !slices.Equal(got, []string{"a"}) || !notified {
		t.Errorf("after b's lease ran out: Members() = %q, notified %v; want [a], true", got, notified)
	}
}

func TestRenewRepairsLease(t *testing.T) {
	h := newHarness(t)
	name := LeaseName(testGroup, "a")
	h.m.tick(h.ctx())

	// Deleted behind its back: the next renewal creates it again.
	if err := h.kube.Delete(h.ctx(), h.lease(name)); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(time.Second)
	h.m.tick(h.ctx())
	if l := h.lease(name); l == nil || !l.Spec.RenewTime.Time.Equal(h.clock.Now()) {
		t.Fatalf("lease after deletion and a tick: %+v", l)
	}

	// Changed behind its back: the renewal conflicts, reads it and renews.
	l := h.lease(name)
	l.Spec.HolderIdentity = new("intruder")
	if err := h.kube.Update(h.ctx(), l); err != nil {
		t.Fatal(err)
	}
	h.clock.Step(time.Second)
	h.m.tick(h.ctx())
	l = h.lease(name)
	if *l.Spec.HolderIdentity != "a" || !l.Spec.RenewTime.Time.Equal(h.clock.Now()) || !l.Spec.AcquireTime.Time.Equal(h.clock.Now()) {
		t.Errorf("lease after a conflicting change and a tick: %+v", l.Spec)
	}
	if !h.m.Owns("any") {
		t.Error("a replica whose renewal recovered from a conflict claims nothing")
	}
}

func TestStartAndStop(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(h.ctx())
	done := make(chan error, 1)
	go func() { done <- h.m.Start(ctx) }()
	waitFor(t, 5*time.Second, func() error {
		if !h.m.Ready() {
			return errors.New("not ready")
		}
		return nil
	})
	if err := h.m.Start(ctx); err == nil {
		t.Error("a second Start did not fail")
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Start() = %v, want nil on cancel", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Start did not return after cancel")
	}
	if h.lease(LeaseName(testGroup, "a")) != nil {
		t.Error("lease still there after a graceful stop")
	}
	if h.m.Owns("any") || h.m.MemberCount() != 0 {
		t.Error("a stopped Membership still claims sagas or reports members")
	}
}

// waitFor polls cond until it returns nil, failing t with its last error after timeout,
// and returns how long it took.
func waitFor(t *testing.T, timeout time.Duration, cond func() error) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		err := cond()
		if err == nil {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("not within %s: %v", timeout, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
