package controllers

import (
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testgen"
)

var _ = Describe("A saga whose step is refused by a service", func() {
	DescribeTable("rolls back every step that ran, in reverse order, and ends Compensated",
		func(step, code, reason string, wantCalls []string) {
			fake := fakeservices.Start()
			DeferCleanup(fake.Close)
			_, isolated := startIsolated(fake, nil)
			fake.Fail(fakeservices.Rule{Step: step, Direction: "action", Mode: fakeservices.Business, Code: code, HTTP: 409})

			obj := create("order-refused", isolated, fastRetries(3))
			got := waitForPhase(obj, v1.PhaseCompensated)

			Expect(calls(fake, got)).To(Equal(wantCalls))
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
		},
		Entry("CreateOrder", "CreateOrder", "INVALID_ORDER", v1.ReasonStepRejected, []string{
			"CreateOrder/action", "CreateOrder/compensate"}),
		Entry("ReserveInventory: out of stock", "ReserveInventory", "OUT_OF_STOCK", v1.ReasonOutOfStock, []string{
			"CreateOrder/action", "ReserveInventory/action",
			"ReserveInventory/compensate", "CreateOrder/compensate", "NotifyCancellation/action"}),
		Entry("ProcessPayment: declined", "ProcessPayment", "PAYMENT_DECLINED", v1.ReasonPaymentDeclined, []string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"ProcessPayment/compensate", "ReserveInventory/compensate", "CreateOrder/compensate", "NotifyCancellation/action"}),
		Entry("ScheduleShipment: unsupported destination", "ScheduleShipment", "UNSUPPORTED_DESTINATION", v1.ReasonUnsupportedDestination, []string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action", "ScheduleShipment/action",
			"ScheduleShipment/compensate", "ProcessPayment/compensate", "ReserveInventory/compensate", "CreateOrder/compensate",
			"NotifyCancellation/action"}),
	)
})

var _ = Describe("Transient failures", func() {
	It("are retried with backoff until the step succeeds", func() {
		fake := fakeservices.Start()
		DeferCleanup(fake.Close)
		_, isolated := startIsolated(fake, nil)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable, Times: 2})
		obj := create("order-flaky", isolated, fastRetries(5))
		got := waitForPhase(obj, v1.PhaseCompleted)
		Expect(stepOf(got, v1.StepProcessPayment).Attempts).To(Equal(int32(3)))
		Expect(stepOf(got, v1.StepProcessPayment).LastError).To(HavePrefix("UNAVAILABLE"))
		Expect(fake.Effects(string(got.UID) + "/ProcessPayment/action")).To(Equal(1))
		Eventually(func() []string { return eventReasons(got) }).Should(ContainElement(EventStepRetrying))
	})

	It("roll back when they outlive the retry policy, compensating the step whose outcome is unknown", func() {
		fake := fakeservices.Start()
		DeferCleanup(fake.Close)
		_, isolated := startIsolated(fake, nil)
		fake.Fail(fakeservices.Rule{Step: "ProcessPayment", Direction: "action", Mode: fakeservices.Unavailable})
		obj := create("order-outage", isolated, fastRetries(3))
		got := waitForPhase(obj, v1.PhaseCompensated)
		Expect(distinct(calls(fake, got))).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"ProcessPayment/compensate", "ReserveInventory/compensate", "CreateOrder/compensate", "NotifyCancellation/action"}))
		Expect(stepOf(got, v1.StepProcessPayment).Attempts).To(Equal(int32(3)))
		Expect(meta.FindStatusCondition(got.Status.Conditions, v1.ConditionSucceeded).Reason).To(Equal(v1.ReasonRetriesExhausted))
	})

	It("include timeouts: a step that hangs past stepTimeout is compensated too", func() {
		fake := fakeservices.Start()
		DeferCleanup(fake.Close)
		_, isolated := startIsolated(fake, nil)
		fake.Fail(fakeservices.Rule{Step: "ScheduleShipment", Direction: "action", Mode: fakeservices.Hang})
		obj := create("order-timeout", isolated, fastRetries(2), testgen.WithStepTimeout(200*time.Millisecond))
		got := waitForPhase(obj, v1.PhaseCompensated)
		Expect(stepOf(got, v1.StepScheduleShipment).LastError).To(HavePrefix("TIMEOUT"))
		Expect(calls(fake, got)).To(ContainElement("ScheduleShipment/compensate"))
		Expect(stepOf(got, v1.StepScheduleShipment).State).To(Equal(v1.StepCompensated))
	})
})

var _ = Describe("A failing notification", func() {
	It("never rolls back the saga: it ends Completed with the failure visible", func() {
		fake := fakeservices.Start()
		DeferCleanup(fake.Close)
		_, isolated := startIsolated(fake, nil)
		fake.Fail(fakeservices.Rule{Step: "SendNotification", Direction: "action", Mode: fakeservices.DeliveryFailed})
		obj := create("order-quiet", isolated, fastRetries(2))
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
	})
})
