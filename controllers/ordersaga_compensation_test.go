package controllers

import (
	"bytes"
	"net/http"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/notification"
)

// The business failures below are not injected: each saga's spec asks the service models
// for something their real rules refuse (see fakeservices.Config).
var _ = Describe("A saga whose step is refused by a service", func() {
	DescribeTable("rolls back every step that ran, in reverse order, and ends Compensated",
		func(spec testgen.OrderSagaOption, step, code, reason string, wantCalls []string) {
			fake := startFake()
			isolated := startIsolated(fake)

			obj := create("order-refused", isolated, fastRetries(3), spec)
			got := waitForPhase(obj, v1.PhaseCompensated)

			Expect(calls(fake, got)).To(Equal(wantCalls))
			expectRefused(got, step, code, reason)
			expectNothingHeld(fake, got)
			expectCancellationNotice(fake, got, notification.Sent)
		},
		Entry("ReserveInventory: more than the stock", testgen.WithItems(
			testgen.Item(fakeservices.ScarceProduct, fakeservices.ScarceStock+1, fakeservices.ScarcePrice)),
			"ReserveInventory", "OUT_OF_STOCK", v1.ReasonOutOfStock, []string{
				"CreateOrder/action", "ReserveInventory/action",
				"CreateOrder/compensate", "ReserveInventory/compensate", "NotifyCancellation/action"}),
		Entry("ReserveInventory: a discontinued product", testgen.WithItems(
			testgen.Item(fakeservices.DiscontinuedProduct, 1, "99.99")),
			"ReserveInventory", "PRODUCT_DISCONTINUED", v1.ReasonProductUnavailable, []string{
				"CreateOrder/action", "ReserveInventory/action",
				"CreateOrder/compensate", "ReserveInventory/compensate", "NotifyCancellation/action"}),
		Entry("ReserveInventory: a product not in the catalog", testgen.WithItems(
			testgen.Item(fakeservices.UnknownProduct, 1, "10.00")),
			"ReserveInventory", "UNKNOWN_PRODUCT", v1.ReasonProductUnavailable, []string{
				"CreateOrder/action", "ReserveInventory/action",
				"CreateOrder/compensate", "ReserveInventory/compensate", "NotifyCancellation/action"}),
		Entry("ProcessPayment: a total above the limit", declined(),
			"ProcessPayment", "PAYMENT_DECLINED", v1.ReasonPaymentDeclined, []string{
				"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
				"CreateOrder/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate", "NotifyCancellation/action"}),
		Entry("ProcessPayment: a declined method", testgen.WithPaymentMethod(fakeservices.DeclinedMethod),
			"ProcessPayment", "PAYMENT_DECLINED", v1.ReasonPaymentDeclined, []string{
				"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
				"CreateOrder/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate", "NotifyCancellation/action"}),
		Entry("ScheduleShipment: an unsupported destination", testgen.WithCountry(fakeservices.UnsupportedCountry),
			"ScheduleShipment", "UNSUPPORTED_DESTINATION", v1.ReasonUnsupportedDestination, []string{
				"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action", "ScheduleShipment/action",
				"CreateOrder/compensate", "ScheduleShipment/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate",
				"NotifyCancellation/action"}),
	)

	It("rolls back a refused CreateOrder and tells no customer of an order that never was", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		obj := create("order-refused", isolated, fastRetries(3), testgen.WithSuspend(true))

		By("cancelling the saga's order in the order service before the saga creates it: the service keeps a tombstone")
		cancelInModel(fake, ordersaga.OrderID(string(obj.UID)))
		resume(obj)
		got := waitForPhase(obj, v1.PhaseCompensated)

		Expect(calls(fake, got)).To(Equal([]string{"CreateOrder/action", "CreateOrder/compensate"}))
		expectRefused(got, "CreateOrder", "ALREADY_COMPENSATED", v1.ReasonStepRejected)
		expectNothingHeld(fake, got)
		Expect(got.Status.OrderID).To(BeEmpty())
		Expect(got.Status.CancellationNotice).To(BeNil())
		Expect(fake.Model().Notifications(ordersaga.OrderID(string(got.UID)))).To(BeEmpty())
	})
})

// expectRefused checks the status and Events of a saga rolled back because step was
// refused with code.
func expectRefused(got *v1.OrderSaga, step, code, reason string) {
	GinkgoHelper()
	cond := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded)
	Expect(cond.Status).To(Equal(metav1.ConditionFalse))
	Expect(cond.Reason).To(Equal(reason))
	Expect(got.Status.Failure.Step).To(Equal(v1.StepName(step)))
	Expect(got.Status.Message).To(ContainSubstring(code))
	Expect(got.Status.CurrentStep).To(Equal(v1.StepName(step)))
	Expect(stepOf(got, v1.StepName(step)).LastError).To(HavePrefix(code + ":"))
	Expect(stepOf(got, v1.StepConfirmOrder).State).To(Equal(v1.StepSkipped))
	Expect(stepOf(got, v1.StepSendNotification).State).To(Equal(v1.StepSkipped))
	Eventually(func() []string { return eventReasons(got) }).Should(ContainElements(v1.ReasonCompensating, reason))
}

// cancelInModel cancels an order in the order model directly, past the fake's front.
func cancelInModel(fake *fakeservices.Services, orderID string) {
	GinkgoHelper()
	w := fake.Model()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL(servicemodel.Order)+"/v1/orders/"+orderID+"/cancel",
		bytes.NewReader([]byte(`{"reason":"cancelled elsewhere"}`)))
	Expect(err).NotTo(HaveOccurred())
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Client().Do(req)
	Expect(err).NotTo(HaveOccurred())
	Expect(resp.Body.Close()).To(Succeed())
	Expect(resp.StatusCode).To(Equal(http.StatusOK))
}

// resume sets spec.suspend to false.
func resume(obj *v1.OrderSaga) {
	GinkgoHelper()
	latest := get(obj)
	patch := client.MergeFrom(latest.DeepCopy())
	latest.Spec.Suspend = false
	Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
}

var _ = Describe("Transient failures", func() {
	It("are retried with backoff until the step succeeds", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable, Times: 2})
		obj := create("order-flaky", isolated, fastRetries(5))
		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(stepOf(got, v1.StepProcessPayment).Attempts).To(Equal(int32(3)))
		Expect(stepOf(got, v1.StepProcessPayment).LastError).To(HavePrefix("FAULT_INJECTED"))
		Expect(fake.Effects(string(got.UID) + "/ProcessPayment/action")).To(Equal(1))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElements(EventStepRetrying, EventStepSucceeded, v1.ReasonCompleted))
	})

	It("roll back when they outlive the retry policy, compensating every step before the pivot", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable})
		obj := create("order-outage", isolated, fastRetries(3))
		got := waitForPhase(obj, v1.PhaseCompensated)
		uid := string(got.UID)
		Expect(distinct(calls(fake, got))).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"CreateOrder/compensate", "ScheduleShipment/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate",
			"NotifyCancellation/action"}))
		Expect(stepOf(got, v1.StepProcessPayment).Attempts).To(Equal(int32(3)))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded).Reason).To(Equal(v1.ReasonRetriesExhausted))

		By("leaving tombstones where nothing had run, so that a late action is refused")
		Expect(stepOf(got, v1.StepScheduleShipment).State).To(Equal(v1.StepCompensated))
		Expect(fake.Effects(saga.Key(uid, v1.StepProcessPayment, saga.Action))).To(BeZero())
		Expect(fake.EffectsOf(uid)).To(ContainElements(
			"shipping/shp-<uid>: tombstoned", "payment/pay-<uid>: tombstoned"))
		expectNothingHeld(fake, got)
		expectCancellationNotice(fake, got, notification.Sent)
	})

	It("include timeouts: a step that hangs past stepTimeout is compensated too", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "ScheduleShipment", Direction: "action", Mode: fakeservices.Hang})
		obj := create("order-timeout", isolated, fastRetries(2), testgen.WithStepTimeout(200*time.Millisecond))
		got := waitForPhase(obj, v1.PhaseCompensated)
		Expect(stepOf(got, v1.StepScheduleShipment).LastError).To(HavePrefix("TIMEOUT"))
		Expect(calls(fake, got)).To(ContainElement("ScheduleShipment/compensate"))
		Expect(stepOf(got, v1.StepScheduleShipment).State).To(Equal(v1.StepCompensated))
		s, _ := fake.Model().Shipment(ordersaga.ShipmentID(string(got.UID)))
		Expect(s.Tombstone).To(BeTrue(), "the hung calls had no effect; the compensation left a tombstone")
		expectNothingHeld(fake, got)
	})
})

var _ = Describe("A failing notification", func() {
	It("never rolls back the saga: it ends Completed with the failure visible", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		obj := create("order-quiet", isolated, fastRetries(2), testgen.WithCustomerID(fakeservices.UndeliverableCustomer))
		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(stepOf(got, v1.StepSendNotification).State).To(Equal(v1.StepFailed))
		Expect(stepOf(got, v1.StepSendNotification).LastError).To(HavePrefix("NOTIFICATION_FAILED"))
		cond := meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded)
		Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		Expect(cond.Reason).To(Equal(v1.ReasonNotificationFailed))
		Expect(got.Status.Message).To(ContainSubstring("confirmation notice failed"))
		for _, c := range calls(fake, got) {
			Expect(c).NotTo(HaveSuffix("/compensate"))
		}
		n, _ := fake.Model().Notification(ordersaga.ConfirmationNotificationID(string(got.UID)))
		Expect(n.Status).To(Equal(notification.Failed))
	})
})

var _ = Describe("An order-cancelled notice that cannot be sent", func() {
	It("gets 2 x maxAttempts attempts, then the saga ends Compensated with a Warning Event", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		fake.Fail(fakeservices.Rule{Step: "NotifyCancellation", Direction: "action", Mode: fakeservices.Unavailable})
		got := waitForPhase(create("order-unheard", isolated, fastRetries(2), declined()), v1.PhaseCompensated)

		notice := got.Status.CancellationNotice
		Expect(notice.State).To(Equal(v1.CallFailed))
		Expect(notice.Attempts).To(Equal(int32(2 * saga.CompensationAttemptsFactor)))
		Expect(notice.LastError).To(HavePrefix("FAULT_INJECTED"))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded).Reason).To(Equal(v1.ReasonPaymentDeclined))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(EventCancellationNoticeFailed))
		expectNothingHeld(fake, got)
	})

	It("fails at once when the notification service cannot deliver it", func() {
		fake := startFake()
		isolated := startIsolated(fake)
		obj := create("order-unheard", isolated, fastRetries(2), declined(), testgen.WithCustomerID(fakeservices.UndeliverableCustomer))
		got := waitForPhase(obj, v1.PhaseCompensated)

		notice := got.Status.CancellationNotice
		Expect(notice.State).To(Equal(v1.CallFailed))
		Expect(notice.Attempts).To(Equal(int32(1)))
		Expect(notice.LastError).To(HavePrefix("NOTIFICATION_FAILED"))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(EventCancellationNoticeFailed))
		expectCancellationNotice(fake, got, notification.Failed)
		expectNothingHeld(fake, got)
	})
})
