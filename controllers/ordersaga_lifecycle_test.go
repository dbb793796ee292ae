package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
)

var _ = Describe("A failing compensation", func() {
	It("is retried until it succeeds", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ReserveInventory", Direction: "compensate", Mode: fakeservices.Unavailable, Times: 2})
		got := waitForPhase(create("order-sticky", isolated, fastRetries(3), declined()), v1.PhaseCompensated)
		comp := stepOf(got, v1.StepReserveInventory).Compensation
		Expect(comp.State).To(Equal(v1.CallSucceeded))
		Expect(comp.Attempts).To(Equal(int32(3)))
		Expect(comp.LastError).To(HavePrefix("FAULT_INJECTED"))
		Expect(fake.Effects(string(got.UID) + "/ReserveInventory/compensate")).To(Equal(1))
		expectNothingHeld(fake, got)
	})

	It("fails the saga past its cap, says so, and is re-driven by the retry annotation", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ReserveInventory", Direction: "compensate", Mode: fakeservices.Unavailable})
		obj := create("order-stuck", isolated, fastRetries(2), declined())
		got := waitForPhase(obj, v1.PhaseFailed)

		By("stopping after 2 x maxAttempts compensation attempts, with the reason and a Warning Event")
		comp := stepOf(got, v1.StepReserveInventory).Compensation
		Expect(comp.State).To(Equal(v1.CallFailed))
		Expect(comp.Attempts).To(Equal(int32(4)))
		cond := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded)
		Expect(string(cond.Status)).To(Equal("False"))
		Expect(cond.Reason).To(Equal(v1.ReasonCompensationExhausted))
		Expect(got.Status.Message).To(ContainSubstring(v1.RetryAnnotation))
		Expect(stepOf(got, v1.StepCreateOrder).Compensation.State).To(Equal(v1.CallSucceeded), "the order's cancel, the fence, went first")
		Expect(stepOf(got, v1.StepProcessPayment).Compensation.State).To(Equal(v1.CallSucceeded), "the refund came before the release")
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(v1.ReasonCompensationExhausted))
		Consistently(func() v1.Phase { return get(obj).Status.Phase }, 300*time.Millisecond).Should(Equal(v1.PhaseFailed))

		By("holding the stock meanwhile: that is why a person must look")
		r, _ := fake.Model().Reservation(ordersaga.ReservationID(string(got.UID)))
		Expect(r.Status).To(Equal(inventory.Reserved))
		stock, _ := fake.Model().Stock(testgen.DefaultProductID)
		Expect(stock).To(Equal(fakeservices.PlentifulStock - 6))

		By("re-driving once the cause is fixed")
		fake.Heal()
		setAnnotation(got, v1.RetryAnnotation, "2026-11-28T12:00:00Z")
		got = waitForPhase(obj, v1.PhaseCompensated)
		Expect(got.Status.LastHandledRetry).To(Equal("2026-11-28T12:00:00Z"))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded).Reason).To(Equal(v1.ReasonPaymentDeclined))
		Expect(stepOf(got, v1.StepCreateOrder).State).To(Equal(v1.StepCompensated))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(v1.ReasonRedriven))
		expectNothingHeld(fake, got)
		expectCancellationNotice(fake, got, notification.Sent)
	})
})

var _ = Describe("Suspend", func() {
	It("stops new calls until resumed", func() {
		fake := shared().fake
		obj := create("order-paused", testgen.WithSuspend(true))
		Eventually(func() bool {
			return meta.IsStatusConditionTrue(get(obj).Status.Conditions, v1.ConditionSuspended)
		}).Should(BeTrue())
		Consistently(func() int { return len(fake.Calls(string(get(obj).UID))) }, 300*time.Millisecond).Should(BeZero())
		Expect(get(obj).Status.Phase).To(Equal(v1.PhasePending))

		resume(obj)
		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSuspended).Reason).To(Equal(v1.ReasonResumed))
	})
})

var _ = Describe("Deleting a saga", func() {
	It("in flight compensates what may have run before the object goes", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		// Payment keeps failing with a long backoff: the saga sits mid-way.
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable})
		obj := create("order-abandoned", isolated, testgen.WithRetryPolicy(10, time.Minute, time.Hour))
		Eventually(func() int32 { return stepOf(get(obj), v1.StepProcessPayment).Attempts }).Should(Equal(int32(1)))
		uid := string(get(obj).UID)

		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}))
		}, 30*time.Second).Should(BeTrue())
		Expect(calls(fake, &v1.OrderSaga{ObjectMeta: obj.ObjectMeta})).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"CreateOrder/compensate", "ScheduleShipment/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate",
			"NotifyCancellation/action"}))
		Expect(fake.Effects(uid + "/ProcessPayment/action")).To(BeZero())
		Expect(fake.EffectsOf(uid)).To(Equal([]string{
			"order/ord-<uid>: created",
			"inventory/res-<uid>: took LAP-001 1", "inventory/res-<uid>: reserved",
			"order/ord-<uid>: cancelled", // the fence, first (ADR 0011)
			"shipping/shp-<uid>: tombstoned", "payment/pay-<uid>: tombstoned",
			"inventory/res-<uid>: returned LAP-001 1", "inventory/res-<uid>: released",
			"notification/ntf-<uid>-cancelled: sent ORDER_CANCELLED",
		}))
		expectNothingHeld(fake, &v1.OrderSaga{ObjectMeta: obj.ObjectMeta})
	})

	It("during the batch that would cross the pivot rolls back instead of confirming", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		// A slow shipment holds the batch short of the pivot, and well inside the progress
		// interval, so nothing but the deletion can stop it before ConfirmOrder.
		fake.Fail(fakeservices.Rule{Step: "ScheduleShipment", Direction: "action", Mode: fakeservices.Slow, Delay: time.Second})
		obj := create("order-cancelled-in-flight", isolated)
		Eventually(func() []string { return calls(fake, get(obj)) }).Should(ContainElement("ProcessPayment/action"))

		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}))
		}, 30*time.Second).Should(BeTrue())
		gone := &v1.OrderSaga{ObjectMeta: obj.ObjectMeta}
		Expect(calls(fake, gone)).NotTo(ContainElement("ConfirmOrder/action"), "the deletion came before the pivot")
		Expect(calls(fake, gone)).To(ContainElement("CreateOrder/compensate"))
		expectNothingHeld(fake, gone)
	})

	It("that finished releases it at once", func() {
		obj := create("order-done")
		waitForPhase(obj, v1.PhaseCompleted)
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}))
		}).Should(BeTrue())
		for _, c := range calls(shared().fake, obj) {
			Expect(c).NotTo(HaveSuffix("/compensate"))
		}
	})
})

var _ = Describe("ttlSecondsAfterFinished", func() {
	It("deletes a finished saga after the TTL", func() {
		obj := create("order-ephemeral", testgen.WithTTL(1))
		waitForPhase(obj, v1.PhaseCompleted)
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}))
		}, 10*time.Second, 100*time.Millisecond).Should(BeTrue())
	})
})

var _ = Describe("Slow services", func() {
	It("show the saga's progress in status while it runs, not only at the end", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		// Two slow steps in a row before the pivot: no checkpoint (the pivot's) writes
		// status between them, only the end of a batch past the progress interval does.
		fake.Fail(fakeservices.Rule{Step: "ReserveInventory", Direction: "action", Mode: fakeservices.Slow, Delay: 2500 * time.Millisecond})
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Slow, Delay: 2500 * time.Millisecond})
		obj := create("order-slow", isolated)
		var seen *v1.OrderSaga
		Eventually(func() v1.StepState {
			seen = get(obj)
			return stepOf(seen, v1.StepReserveInventory).State
		}, 10*time.Second, 20*time.Millisecond).Should(Equal(v1.StepSucceeded), "a batch that ran past the progress interval wrote status")
		Expect(stepOf(seen, v1.StepProcessPayment).State).To(Equal(v1.StepPending), "written before the next slow call ended")
		Expect(seen.Status.Phase).To(Equal(v1.PhaseRunning))
		waitForPhase(obj, v1.PhaseCompleted)
	})
})

var _ = Describe("A stepTimeout longer than the reconcile budget", func() {
	It("still lets the saga run: each reconcile makes its first call, whatever the budget", func() {
		fake := shared().fake // its reconcile budget is 30s
		obj := create("order-patient", testgen.WithStepTimeout(time.Minute))
		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(calls(fake, got)).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"ScheduleShipment/action", "ConfirmOrder/action", "SendNotification/action",
		}))
	})
})
