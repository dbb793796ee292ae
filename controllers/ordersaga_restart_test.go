package controllers

import (
	"context"
	"fmt"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/labels"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

var _ = Describe("A manager that stops in the middle of a saga", func() {
	It("leaves a saga that a new manager completes, with every effect exactly once", func() {
		fake := startFake()
		id := fmt.Sprintf("restart-%d", time.Now().UnixNano())
		selector := labels.SelectorFromSet(labels.Set{isolatedLabel: id})

		By("crashing the first manager right after ReserveInventory took effect, before any status write")
		crashed, frozen := make(chan struct{}), make(chan struct{})
		var once sync.Once
		crashAfterStep2 := func(next StepCaller) StepCaller {
			return StepCallerFn(func(ctx context.Context, obj *v1.OrderSaga, c saga.Call) saga.Outcome {
				out := next.Call(ctx, obj, c)
				if c.Step == v1.StepReserveInventory && c.Direction == saga.Action {
					once.Do(func() { close(crashed) })
					<-frozen // the process is dead: this reconcile never gets to its status write
				}
				return out
			})
		}
		// Released after the test: the stale reconcile's write then meets a newer
		// resourceVersion and is dropped, as a write from a dead process would never arrive.
		DeferCleanup(func() { close(frozen) })
		first := startManagerWith(fake, selector, crashAfterStep2, 500*time.Millisecond)
		obj := create("order-restart", testgen.WithLabels(map[string]string{isolatedLabel: id}))
		Eventually(crashed, 30*time.Second).Should(BeClosed())
		first.Stop()
		Expect(get(obj).Status.Steps).To(BeEmpty(), "the crash happened before the status write")
		uid := string(get(obj).UID)

		By("starting a new manager")
		second := startManager(fake, selector)
		DeferCleanup(second.Stop)
		waitForPhase(obj, v1.PhaseCompleted)

		for _, step := range ordersaga.Steps() {
			Expect(fake.Effects(saga.Key(uid, step, saga.Action))).To(Equal(1), "effects of %s", step)
		}
		Expect(fake.EffectsOf(uid)).To(Equal([]string{
			"order/ord-<uid>: created",
			"inventory/res-<uid>: took LAP-001 1", "inventory/res-<uid>: reserved",
			"payment/pay-<uid>: captured 999.99",
			"shipping/shp-<uid>: scheduled",
			"order/ord-<uid>: confirmed",
			"notification/ntf-<uid>-confirmed: sent ORDER_CONFIRMED",
		}), "the replayed calls changed nothing")
		Expect(calls(fake, obj)[:4]).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", // first manager
			"CreateOrder/action", "ReserveInventory/action", // replayed by the second: same keys, first results
		}))
	})
})

var _ = Describe("Fifty sagas at once", func() {
	It("all complete, and no effect is duplicated", func() {
		fake := shared().fake
		ns := newNamespace()
		objs := make([]*v1.OrderSaga, 50)
		var wg sync.WaitGroup
		for i := range objs {
			objs[i] = testgen.OrderSaga(fmt.Sprintf("order-%03d", i), testgen.WithNamespace(ns))
			wg.Go(func() {
				defer GinkgoRecover()
				Expect(k8sClient.Create(ctx, objs[i])).To(Succeed())
			})
		}
		wg.Wait()
		for _, obj := range objs {
			got := waitForPhase(obj, v1.PhaseCompleted)
			uid := string(got.UID)
			Expect(calls(fake, got)).To(HaveLen(len(ordersaga.Steps())), "every action called once")
			for _, step := range ordersaga.Steps() {
				Expect(fake.Effects(saga.Key(uid, step, saga.Action))).To(Equal(1))
			}
		}
	})
})
