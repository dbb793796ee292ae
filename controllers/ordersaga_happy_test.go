package controllers

import (
	"encoding/json"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/shipping"
)

var _ = Describe("A saga whose steps all succeed", func() {
	It("completes, calls each action exactly once and records everything in status", func() {
		fake := shared().fake
		obj := create("order-happy", testgen.WithItems(testgen.Item("LAP-001", 2, "999.99"), testgen.Item("PHN-001", 1, "699.99")))
		got := waitForPhase(obj, v1.PhaseCompleted)
		uid := string(got.UID)

		By("calling every action once, in plan order, with its idempotency key")
		Expect(calls(fake, got)).To(Equal([]string{
			"CreateOrder/action", "ReserveInventory/action", "ProcessPayment/action",
			"ScheduleShipment/action", "ConfirmOrder/action", "SendNotification/action",
		}))
		for _, step := range ordersaga.Steps() {
			Expect(fake.Effects(saga.Key(uid, step, saga.Action))).To(Equal(1), string(step))
		}

		By("recording identifiers, total and timestamps")
		st := got.Status
		Expect(st.OrderID).To(Equal("ord-" + uid))
		Expect(st.ReservationID).To(Equal("res-" + uid))
		Expect(st.PaymentID).To(Equal("pay-" + uid))
		Expect(st.ShipmentID).To(Equal("shp-" + uid))
		Expect(st.Total).To(Equal("2699.97"))
		shipment, _ := fake.Model().Shipment(st.ShipmentID)
		Expect(shipment.TrackingNumber).NotTo(BeEmpty())
		Expect(st.TrackingNumber).To(Equal(shipment.TrackingNumber))

		By("leaving the services in the state of a confirmed, paid and shipped order")
		w := fake.Model()
		o, _ := w.Order(st.OrderID)
		Expect(o.Status).To(Equal(order.Confirmed))
		Expect(o.Total.String()).To(Equal(st.Total))
		r, _ := w.Reservation(st.ReservationID)
		Expect(r.Status).To(Equal(inventory.Reserved))
		p, _ := w.Payment(st.PaymentID)
		Expect(p.Status).To(Equal(payment.Captured))
		Expect(p.Amount.String()).To(Equal(st.Total))
		Expect(shipment.Status).To(Equal(shipping.Scheduled))
		n, _ := w.Notification(ordersaga.ConfirmationNotificationID(uid))
		Expect(n.Status).To(Equal(notification.Sent))
		Expect(n.Data).To(Equal(map[string]string{"total": st.Total, "trackingNumber": st.TrackingNumber}))
		Expect(st.CurrentStep).To(BeEmpty())
		Expect(st.ObservedGeneration).To(Equal(got.Generation))
		Expect(st.StartedAt).NotTo(BeNil())
		Expect(st.FinishedAt).NotTo(BeNil())
		Expect(st.FinishedAt.Before(st.StartedAt)).To(BeFalse())
		Expect(st.Failure).To(BeNil())
		Expect(st.CancellationNotice).To(BeNil())
		Expect(st.Steps).To(HaveLen(6))
		for i, s := range st.Steps {
			Expect(s.Name).To(Equal(ordersaga.Steps()[i]))
			Expect(s.State).To(Equal(v1.StepSucceeded), string(s.Name))
			Expect(s.Attempts).To(Equal(int32(1)), string(s.Name))
			Expect(s.LastError).To(BeEmpty())
			Expect(s.Compensation).To(BeNil())
		}

		By("setting Succeeded=True for kubectl wait")
		cond := meta.FindStatusCondition(st.Conditions, v1.ConditionSucceeded)
		Expect(cond).NotTo(BeNil())
		Expect(cond.Status).To(Equal(metav1.ConditionTrue))
		Expect(cond.Reason).To(Equal(v1.ReasonCompleted))
		Expect(cond.ObservedGeneration).To(Equal(got.Generation))
		Expect(meta.FindStatusCondition(st.Conditions, v1.ConditionSuspended)).To(BeNil())

		By("keeping the finalizer on a finished saga until it is deleted")
		Expect(got.Finalizers).To(ContainElement(Finalizer))

		By("emitting no Event: a saga that goes straight through is no news to a person")
		// The recorder sends Events after the status write, so their absence is watched for
		// a while; the compensation specs see a retried saga's Completed Event in this time.
		Consistently(func() []string { return eventReasons(got) }).WithTimeout(2 * time.Second).Should(BeEmpty())

		By("counting it in the metrics")
		Expect(testutil.ToFloat64(shared().metrics.finished.WithLabelValues(metricOrderSaga, "Completed"))).To(BeNumerically(">=", 1))
		Expect(testutil.ToFloat64(shared().metrics.attempts.WithLabelValues(metricOrderSaga, "CreateOrder", "Succeeded"))).To(BeNumerically(">=", 1))
		Expect(testutil.CollectAndCount(shared().metrics.sagaDuration)).To(BeNumerically(">=", 1))

		By("showing the contract's printer columns")
		Expect(printerRow(got)).To(Equal(map[string]any{
			"Name": got.Name, "Phase": "Completed", "Step": nil, "Order": "ord-" + uid, "Total": "2699.97",
			"Customer": testgen.DefaultCustomerID, "Attempts": nil, "Message": st.Message,
		}))
	})
})

// printerRow fetches the saga as a server-side Table, as kubectl get -o wide does, and
// returns its cells by column name (Age dropped: it changes).
func printerRow(obj *v1.OrderSaga) map[string]any {
	GinkgoHelper()
	clientset, err := kubernetes.NewForConfig(cfg)
	Expect(err).NotTo(HaveOccurred())
	body, err := clientset.CoreV1().RESTClient().Get().
		AbsPath("/apis/saga.ordersaga.io/v1alpha1/namespaces", obj.Namespace, "ordersagas", obj.Name).
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").
		Do(ctx).Raw()
	Expect(err).NotTo(HaveOccurred())
	var table metav1.Table
	Expect(json.Unmarshal(body, &table)).To(Succeed())
	Expect(table.Rows).To(HaveLen(1))
	row := map[string]any{}
	for i, col := range table.ColumnDefinitions {
		if col.Name != "Age" {
			row[col.Name] = table.Rows[0].Cells[i]
		}
	}
	return row
}
