package controllers

import (
	"strconv"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/payment"
)

// kstatusOf computes the status that kstatus (and with it Flux, Argo CD's health checks
// and `kpt live status`) gives the saga as the API server holds it.
func kstatusOf(obj *v1.OrderSaga) status.Status {
	GinkgoHelper()
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(get(obj))
	Expect(err).NotTo(HaveOccurred())
	res, err := status.Compute(&unstructured.Unstructured{Object: raw})
	Expect(err).NotTo(HaveOccurred())
	return res.Status
}

// expectObservedGeneration checks that every condition was computed for the current spec.
func expectObservedGeneration(obj *v1.OrderSaga) {
	GinkgoHelper()
	Expect(obj.Status.ObservedGeneration).To(Equal(obj.Generation))
	for _, c := range obj.Status.Conditions {
		Expect(c.ObservedGeneration).To(Equal(obj.Generation), "observedGeneration of condition %s", c.Type)
	}
}

var _ = Describe("kstatus", func() {
	It("reads a Completed saga as Current", func() {
		got := waitForPhase(create("order-current"), v1.PhaseCompleted)
		Expect(kstatusOf(got)).To(Equal(status.CurrentStatus))
		expectObservedGeneration(got)
	})

	It("reads a Compensated saga as Current: it ended as designed", func() {
		got := waitForPhase(create("order-declined-current", declined()), v1.PhaseCompensated)
		Expect(kstatusOf(got)).To(Equal(status.CurrentStatus))
	})

	It("reads a saga in flight as InProgress, also once its spec changed", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable})
		obj := create("order-inprogress", isolated, testgen.WithRetryPolicy(100, time.Second, time.Second))
		Eventually(func() int32 { return stepOf(get(obj), v1.StepProcessPayment).Attempts }).Should(BeNumerically(">=", 1))
		Expect(kstatusOf(obj)).To(Equal(status.InProgressStatus))
		expectObservedGeneration(get(obj))

		By("suspending it: a new generation, observed")
		latest := get(obj)
		patch := client.MergeFrom(latest.DeepCopy())
		latest.Spec.Suspend = true
		Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
		Eventually(func() int64 { return get(obj).Status.ObservedGeneration }).Should(Equal(latest.Generation))
		Expect(kstatusOf(obj)).To(Equal(status.InProgressStatus))
		expectObservedGeneration(get(obj))
	})

	It("reads a Failed saga as Failed", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ReserveInventory", Direction: "compensate", Mode: fakeservices.Unavailable})
		got := waitForPhase(create("order-kfailed", isolated, fastRetries(2), declined()), v1.PhaseFailed)
		Expect(kstatusOf(got)).To(Equal(status.FailedStatus))
		expectObservedGeneration(got)
	})
})

var _ = Describe("The abandon annotation", func() {
	It("releases a Failed saga being deleted, and its last status and a Warning list what is left undone", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "compensate", Mode: fakeservices.Unavailable})
		obj := create("order-abandoned", isolated, fastRetries(2), testgen.WithCountry(fakeservices.UnsupportedCountry))
		failed := waitForPhase(obj, v1.PhaseFailed)
		uid := string(failed.UID)

		By("keeping the finalizer when the Failed saga is deleted")
		Expect(k8sClient.Delete(ctx, failed)).To(Succeed())
		Consistently(func() error { return k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}) },
			300*time.Millisecond).Should(Succeed())

		By("watching for the saga's last state, then abandoning it")
		wc, err := client.NewWithWatch(cfg, client.Options{Scheme: testScheme})
		Expect(err).NotTo(HaveOccurred())
		w, err := wc.Watch(ctx, &v1.OrderSagaList{}, client.InNamespace(obj.Namespace))
		Expect(err).NotTo(HaveOccurred())
		defer w.Stop()
		setAnnotation(obj, v1.AbandonAnnotation, "yes")

		var last *v1.OrderSaga
		Eventually(func() watch.EventType {
			e := <-w.ResultChan()
			last = e.Object.(*v1.OrderSaga)
			return e.Type
		}, 30*time.Second).Should(Equal(watch.Deleted))

		By("listing, in the last status, the refund that gave up and the undo that waited behind it")
		Expect(last.Status.LastHandledAbandon).To(Equal("yes"))
		Expect(last.Status.Abandoned).NotTo(BeNil())
		undone := last.Status.Abandoned.LeftUndone
		Expect(undone).To(HaveLen(2), "the order (the fence, first) and the shipment were cancelled; the stock and the payment were not")
		Expect([]v1.StepName{undone[0].Name, undone[1].Name}).To(Equal(
			[]v1.StepName{v1.StepReserveInventory, v1.StepProcessPayment}))
		Expect(undone[1]).To(Equal(v1.UndoneStep{
			Name: v1.StepProcessPayment, State: v1.StepCompensating, ResourceID: failed.Status.PaymentID,
			IdempotencyKey:    saga.Key(uid, v1.StepProcessPayment, saga.Action),
			CompensationError: stepOf(failed, v1.StepProcessPayment).Compensation.LastError,
		}))
		Expect(failed.Status.PaymentID).To(Equal(ordersaga.PaymentID(uid)))
		Expect(last.Status.Message).To(ContainSubstring(ordersaga.PaymentID(uid)))

		By("saying so in a Warning Event, and leaving the money where it is")
		Eventually(func() []eventsv1.Event { return eventsOf(obj, v1.ReasonAbandoned) }, 10*time.Second).Should(HaveLen(1))
		e := eventsOf(obj, v1.ReasonAbandoned)[0]
		Expect(e.Type).To(Equal(corev1.EventTypeWarning))
		Expect(e.Note).To(ContainSubstring("ProcessPayment (" + ordersaga.PaymentID(uid)))
		p, ok := fake.Model().Payment(ordersaga.PaymentID(uid))
		Expect(ok).To(BeTrue())
		Expect(p.Status).To(Equal(payment.Captured), "abandoning undoes nothing")
	})

	It("does nothing on a saga that is not Failed, and says so in an Event", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable, Times: 3})
		obj := create("order-not-abandoned", isolated, fastRetries(5))
		Eventually(func() int32 { return stepOf(get(obj), v1.StepProcessPayment).Attempts }).Should(BeNumerically(">=", 1))

		setAnnotation(obj, v1.AbandonAnnotation, "please")
		Eventually(func() []eventsv1.Event { return eventsOf(obj, v1.ReasonAbandonIgnored) }, 10*time.Second).Should(HaveLen(1))
		Expect(eventsOf(obj, v1.ReasonAbandonIgnored)[0].Note).To(ContainSubstring("Nothing was done"))

		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(got.Status.LastHandledAbandon).To(Equal("please"))
		Expect(got.Status.Abandoned).To(BeNil())
		Expect(got.Finalizers).To(ContainElement(Finalizer))
	})
})

var _ = Describe("Shutdown", func() {
	It("lets the batch in flight write its status, and the next manager finishes the saga exactly once", func() {
		fake := startFake()
		id := "shutdown" + strconv.FormatInt(time.Now().UnixNano(), 36)
		selector := labels.SelectorFromSet(labels.Set{isolatedLabel: id})
		first := startManager(fake, selector)
		DeferCleanup(first.Stop)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Hang})
		obj := create("order-sigterm", testgen.WithLabels(map[string]string{isolatedLabel: id}))

		By("stopping the manager, as SIGTERM does, while ProcessPayment hangs in the first batch")
		Eventually(func() []string { return calls(fake, obj) }).Should(ContainElement("ProcessPayment/action"))
		Expect(get(obj).Status.Steps).To(BeEmpty(), "the batch has not been written yet")
		first.Stop()

		By("finding the batch's calls recorded, and the call that shutdown cut short unrecorded")
		got := get(obj)
		Expect(stepOf(got, v1.StepCreateOrder).State).To(Equal(v1.StepSucceeded), describe(got))
		Expect(stepOf(got, v1.StepReserveInventory).State).To(Equal(v1.StepSucceeded), describe(got))
		Expect(stepOf(got, v1.StepProcessPayment).Attempts).To(BeZero(), describe(got))

		By("finishing the saga under the next manager, every step once")
		fake.Heal()
		second := startManager(fake, selector)
		DeferCleanup(second.Stop)
		got = waitForPhase(obj, v1.PhaseCompleted)
		for _, step := range ordersaga.Steps() {
			Expect(fake.Effects(saga.Key(string(got.UID), step, saga.Action))).To(Equal(1), "effects of %s", step)
		}
	})
})

var _ = Describe("Deleting the saga", func() {
	It("is not found afterwards", func() {
		obj := waitForPhase(create("order-gone"), v1.PhaseCompleted)
		Expect(k8sClient.Delete(ctx, obj)).To(Succeed())
		Eventually(func() bool {
			return apierrors.IsNotFound(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), &v1.OrderSaga{}))
		}).Should(BeTrue())
	})
})
