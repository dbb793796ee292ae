package controllers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/shard"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// Lease timing of the replicas in these specs: short, so that a lost replica's sagas move
// within seconds.
const (
	specLeaseDuration = 4 * time.Second
	specRenewInterval = 400 * time.Millisecond
)

// Several managers, each a member of one shard group, run the sagas of one label between
// them, as replicas of the chart with operator.replicas > 1 do.
var _ = Describe("Sharding across manager replicas", func() {
	It("splits the sagas evenly between three replicas, each saga run by one", func() {
		g := newShardGroup()
		replicas := []*replica{g.start("a"), g.start("b"), g.start("c")}
		g.waitForMembers(replicas, 3)

		objs := g.createSagas(900)
		g.waitAllCompleted(objs)
		total := 0
		for _, r := range replicas {
			Expect(float64(r.sagasCalled())).To(BeNumerically("~", 300, 45), "replica %s ran %d of 900 sagas, want 300 ± 15%%", r.id, r.sagasCalled())
			total += r.sagasCalled()
		}
		// A replica that misses a renewal on a loaded machine drops out for a moment, and a
		// saga may then be run by two: harmless, and logged rather than failed.
		GinkgoWriter.Printf("sagas run by more than one replica: %d of 900\n", total-900)
		g.expectEachEffectOnce(objs)
	})

	It("moves a killed replica's sagas to the others, and every saga completes exactly once", func() {
		g := newShardGroup()
		g.fake.Fail(fakeservices.Rule{Mode: fakeservices.Slow, Delay: 100 * time.Millisecond})
		replicas := []*replica{g.start("a"), g.start("b"), g.start("c")}
		g.waitForMembers(replicas, 3)

		objs := g.createSagas(240)
		Eventually(func() int { return g.completed() }, time.Minute).Should(BeNumerically(">=", 40))
		killed := replicas[1]
		killed.kill()
		atKill := g.unfinishedOwnedBy(killed, replicas)
		Expect(atKill).NotTo(BeEmpty(), "the killed replica had sagas in flight: the spec tests a move")

		g.waitAllCompleted(objs)
		g.expectEachEffectOnce(objs)
		movedTo := map[string]int{}
		for _, r := range []*replica{replicas[0], replicas[2]} {
			for _, uid := range atKill {
				if r.called(uid) {
					movedTo[r.id]++
				}
			}
		}
		Expect(movedTo["a"]+movedTo["c"]).To(BeNumerically(">=", len(atKill)), "the survivors finished every saga the killed replica left")
	})

	It("leaves nothing stranded when three replicas scale down to one", func() {
		g := newShardGroup()
		g.fake.Fail(fakeservices.Rule{Mode: fakeservices.Slow, Delay: 50 * time.Millisecond})
		replicas := []*replica{g.start("a"), g.start("b"), g.start("c")}
		g.waitForMembers(replicas, 3)

		objs := g.createSagas(150)
		Eventually(func() int { return g.completed() }, time.Minute).Should(BeNumerically(">=", 20))
		replicas[1].Stop() // a scale-down stops pods gracefully: their Leases go at once
		replicas[2].Stop()
		g.waitForMembers(replicas[:1], 1)

		g.waitAllCompleted(objs)
		g.expectEachEffectOnce(objs)
	})
})

// shardGroup is one spec's shard group: its fake services, the label that puts its sagas
// under its replicas only, and the namespace of its Leases and sagas.
type shardGroup struct {
	fake  *fakeservices.Services
	label string
	ns    string
}

func newShardGroup() *shardGroup {
	id := "s" + strconv.FormatInt(time.Now().UnixNano(), 36)
	return &shardGroup{fake: startFake(), label: id, ns: newNamespace()}
}

// replica is one manager of a shard group, which counts the sagas it called services for.
type replica struct {
	*testManager
	id     string
	member *shard.Membership
	leases *cuttableClient
	mu     sync.Mutex
	calls  map[string]int // saga UID → calls this replica made for it
}

// start starts a replica wired as cmd/manager wires one with --shards > 1.
func (g *shardGroup) start(id string) *replica {
	GinkgoHelper()
	mgr := newManager(cache.Options{ByObject: map[client.Object]cache.ByObject{
		&v1.OrderSaga{}: {Label: labels.SelectorFromSet(labels.Set{isolatedLabel: g.label})},
	}}, 0)
	own, err := client.New(rest.CopyConfig(mgr.GetConfig()), client.Options{Scheme: mgr.GetScheme()})
	Expect(err).NotTo(HaveOccurred())
	leases := &cuttableClient{Client: own} // its own client, as cmd/manager gives it
	member, err := shard.New(shard.Config{Client: leases, Reader: mgr.GetAPIReader(), Namespace: g.ns, Group: "managers",
		Identity: id, LeaseDuration: specLeaseDuration, RenewInterval: specRenewInterval})
	Expect(err).NotTo(HaveOccurred())
	rb := NewRebalancer(mgr.GetClient(), member, specLeaseDuration)
	Expect(mgr.Add(member)).To(Succeed())
	Expect(mgr.Add(rb)).To(Succeed())
	r := &replica{id: id, member: member, leases: leases, calls: map[string]int{}}
	opts := testOptions()
	opts.Rebalancer = rb
	steps := ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: g.fake.URLs()})}
	rec := NewOrderSagaReconciler(mgr, StepCallerFn(func(ctx context.Context, obj *v1.OrderSaga, c saga.Call) saga.Outcome {
		r.mu.Lock()
		r.calls[string(obj.UID)]++
		r.mu.Unlock()
		return steps.Call(ctx, obj, c)
	}), opts)
	Expect(rec.SetupWithManager(mgr)).To(Succeed())
	r.testManager = &testManager{fake: g.fake, metrics: rec.Metrics}
	r.run(mgr, false)
	DeferCleanup(func() {
		if r.done != nil {
			select {
			case <-r.done:
			default:
				r.Stop()
			}
		}
	})
	return r
}

// kill stops the replica as a crash would: its Lease stays behind until it expires.
func (r *replica) kill() {
	r.leases.cut.Store(true)
	r.Stop()
}

func (r *replica) sagasCalled() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

func (r *replica) called(uid string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[uid] > 0
}

// waitForMembers waits until every replica sees n live members.
func (g *shardGroup) waitForMembers(replicas []*replica, n int) {
	GinkgoHelper()
	for _, r := range replicas {
		Eventually(r.member.Members, 10*time.Second, 50*time.Millisecond).Should(HaveLen(n), "replica %s", r.id)
	}
}

// createSagas creates n sagas of the group, 20 at a time.
func (g *shardGroup) createSagas(n int) []*v1.OrderSaga {
	GinkgoHelper()
	objs := make([]*v1.OrderSaga, n)
	next := atomic.Int64{}
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			defer GinkgoRecover()
			for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
				objs[i] = testgen.OrderSaga(fmt.Sprintf("order-%04d", i), testgen.WithNamespace(g.ns),
					testgen.WithLabels(map[string]string{isolatedLabel: g.label}))
				Expect(k8sClient.Create(ctx, objs[i])).To(Succeed())
			}
		})
	}
	wg.Wait()
	return objs
}

// completed counts the group's sagas that are Completed now.
func (g *shardGroup) completed() int {
	var list v1.OrderSagaList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(g.ns))).To(Succeed())
	n := 0
	for _, s := range list.Items {
		if s.Status.Phase == v1.PhaseCompleted {
			n++
		}
	}
	return n
}

func (g *shardGroup) waitAllCompleted(objs []*v1.OrderSaga) {
	GinkgoHelper()
	Eventually(func() int { return g.completed() }, 2*time.Minute, 200*time.Millisecond).Should(Equal(len(objs)), g.unfinished)
}

// unfinished describes the sagas that are not Completed, for a spec that timed out: a
// stranded saga's phase, version and last condition say which replica dropped it, and how.
func (g *shardGroup) unfinished() string {
	var list v1.OrderSagaList
	if err := k8sClient.List(ctx, &list, client.InNamespace(g.ns)); err != nil {
		return "list the sagas: " + err.Error()
	}
	var b strings.Builder
	for _, s := range list.Items {
		if s.Status.Phase == v1.PhaseCompleted {
			continue
		}
		steps := make([]string, 0, len(s.Status.Steps))
		for _, st := range s.Status.Steps {
			steps = append(steps, fmt.Sprintf("%s:%s/%d", st.Name, st.State, st.Attempts))
		}
		fmt.Fprintf(&b, "%s uid %s rv %s phase %q finalizers %v steps [%s] message %q\n",
			s.Name, s.UID, s.ResourceVersion, s.Status.Phase, s.Finalizers, strings.Join(steps, " "), s.Status.Message)
	}
	return b.String()
}

// unfinishedOwnedBy returns the UIDs of the sagas that are not Completed and that the
// ring of all replicas gives to r.
func (g *shardGroup) unfinishedOwnedBy(r *replica, all []*replica) []string {
	names := make([]string, 0, len(all))
	for _, x := range all {
		names = append(names, x.member.Identity())
	}
	ring := shard.NewRing(names)
	var list v1.OrderSagaList
	Expect(k8sClient.List(ctx, &list, client.InNamespace(g.ns))).To(Succeed())
	var out []string
	for _, s := range list.Items {
		if s.Status.Phase != v1.PhaseCompleted && ring.Owner(string(s.UID)) == r.member.Identity() {
			out = append(out, string(s.UID))
		}
	}
	return out
}

// expectEachEffectOnce checks that every step of every saga took effect exactly once.
func (g *shardGroup) expectEachEffectOnce(objs []*v1.OrderSaga) {
	GinkgoHelper()
	for _, obj := range objs {
		uid := string(get(obj).UID)
		for _, step := range ordersaga.Steps() {
			Expect(g.fake.Effects(saga.Key(uid, step, saga.Action))).To(Equal(1), "%s %s", obj.Name, step)
		}
	}
}

// cuttableClient is a replica's client for its Lease; once cut, its writes fail, as a
// killed process's would, so that the Lease is left to expire.
type cuttableClient struct {
	client.Client
	cut atomic.Bool
}

var errCut = errors.New("the replica was killed")

func (c *cuttableClient) Update(ctx context.Context, obj client.Object, opts ...client.UpdateOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Update(ctx, obj, opts...) //nolint:wrapcheck // a pass-through client
}

func (c *cuttableClient) Delete(ctx context.Context, obj client.Object, opts ...client.DeleteOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Delete(ctx, obj, opts...) //nolint:wrapcheck // a pass-through client
}

func (c *cuttableClient) Create(ctx context.Context, obj client.Object, opts ...client.CreateOption) error {
	if c.cut.Load() {
		return errCut
	}
	return c.Client.Create(ctx, obj, opts...) //nolint:wrapcheck // a pass-through client
}
