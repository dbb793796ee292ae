package collect_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"go.mongodb.org/mongo-driver/v2/bson"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/consistency/collect"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// TestHealthyRunIsClean: sagas that completed, rolled back for three different reasons and
// one still in flight leave data the checker finds consistent, read over paginated lists.
func TestHealthyRunIsClean(t *testing.T) {
	w := newWorld(t)
	w.healthy()
	snap, findings := w.check()
	if diff := cmp.Diff([]consistency.Finding{}, findings); diff != "" {
		t.Errorf("findings of a healthy run: -want, +got:\n%s", diff)
	}
	got := map[string]int{"sagas": len(snap.Sagas), "orders": len(snap.Orders), "products": len(snap.Products),
		"reservations": len(snap.Reservations), "payments": len(snap.Payments), "shipments": len(snap.Shipments),
		"notifications": len(snap.Notifications)}
	want := map[string]int{"sagas": 5, "orders": 5, "products": 6, "reservations": 5, "payments": 4, "shipments": 3, "notifications": 4}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("documents read (every page of two): -want, +got:\n%s", diff)
	}
}

// planted is one inconsistency put straight into a service's database or a saga's status.
type planted struct {
	reason string
	plant  func(w *world)
	// want returns the one finding expected, as rule, severity and object.
	want func(w *world) consistency.Finding
}

func finding(rule string, sev consistency.Severity, object string) consistency.Finding {
	return consistency.Finding{Rule: rule, Severity: sev, Object: object}
}

func orderOf(w *world, name string) string { return "order/" + ordersaga.OrderID(w.uid(name)) }

func TestPlantedInconsistencies(t *testing.T) {
	cases := map[string]planted{
		consistency.MissingPayment: {
			reason: "The payment of a completed order is gone.",
			plant:  func(w *world) { w.remove("payment", "payments", ordersaga.PaymentID(w.uid("completed"))) },
			want: func(w *world) consistency.Finding {
				return finding(consistency.MissingPayment, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.PaymentStatusMismatch: {
			reason: "The payment of a completed order was refunded behind the saga's back.",
			plant: func(w *world) {
				w.set("payment", "payments", ordersaga.PaymentID(w.uid("completed")), bson.D{{Key: "status", Value: "REFUNDED"}, {Key: "refundedAmount", Value: int64(99999)}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.PaymentStatusMismatch, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.AmountMismatch: {
			reason: "The capture of a completed order is not its total.",
			plant: func(w *world) {
				w.set("payment", "payments", ordersaga.PaymentID(w.uid("completed")), bson.D{{Key: "amount", Value: int64(100)}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.AmountMismatch, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.MissingShipment: {
			reason: "The shipment of a completed order was cancelled.",
			plant: func(w *world) {
				w.set("shipping", "shipments", ordersaga.ShipmentID(w.uid("completed")), bson.D{{Key: "status", Value: "CANCELLED"}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.MissingShipment, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.MissingReservation: {
			reason: "The reservation of a completed order was released: its stock went back on sale.",
			plant: func(w *world) {
				w.set("inventory", "reservations", ordersaga.ReservationID(w.uid("completed")), bson.D{{Key: "status", Value: "RELEASED"}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.MissingReservation, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.NegativeStock: {
			reason: "A product has fewer than zero units.",
			plant:  func(w *world) { w.set("inventory", "products", "LAP-001", bson.D{{Key: "stock", Value: -3}}) },
			want: func(*world) consistency.Finding {
				return finding(consistency.NegativeStock, consistency.Critical, "product/LAP-001")
			},
		},
		consistency.UnreleasedReservation: {
			reason: "A rolled-back saga's reservation still holds stock.",
			plant: func(w *world) {
				w.set("inventory", "reservations", ordersaga.ReservationID(w.uid("undeliverable")), bson.D{{Key: "status", Value: "RESERVED"}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.UnreleasedReservation, consistency.Critical, "reservation/"+ordersaga.ReservationID(w.uid("undeliverable")))
			},
		},
		consistency.UnrefundedPayment: {
			reason: "A rolled-back saga's payment is still captured.",
			plant: func(w *world) {
				w.set("payment", "payments", ordersaga.PaymentID(w.uid("undeliverable")), bson.D{{Key: "status", Value: "CAPTURED"}, {Key: "refundedAmount", Value: int64(0)}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.UnrefundedPayment, consistency.Critical, "payment/"+ordersaga.PaymentID(w.uid("undeliverable")))
			},
		},
		consistency.UncancelledShipment: {
			reason: "A rolled-back saga's shipment is scheduled.",
			plant: func(w *world) {
				w.set("shipping", "shipments", ordersaga.ShipmentID(w.uid("undeliverable")), bson.D{{Key: "status", Value: "SCHEDULED"}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.UncancelledShipment, consistency.Critical, "shipment/"+ordersaga.ShipmentID(w.uid("undeliverable")))
			},
		},
		consistency.ExcessiveRefund: {
			reason: "A refund gave back more than the capture (449.99 captured).",
			plant: func(w *world) {
				w.set("payment", "payments", ordersaga.PaymentID(w.uid("undeliverable")), bson.D{{Key: "refundedAmount", Value: int64(100099)}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.ExcessiveRefund, consistency.Critical, "payment/"+ordersaga.PaymentID(w.uid("undeliverable")))
			},
		},
		consistency.MissingOrderConfirmation: {
			reason: "The customer of a completed order was never told.",
			plant: func(w *world) {
				w.remove("notification", "notifications", ordersaga.ConfirmationNotificationID(w.uid("completed")))
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.MissingOrderConfirmation, consistency.Warning, orderOf(w, "completed"))
			},
		},
		consistency.MissingCancellationNotice: {
			reason: "The customer of a cancelled order was never told.",
			plant: func(w *world) {
				w.remove("notification", "notifications", ordersaga.CancellationNotificationID(w.uid("declined")))
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.MissingCancellationNotice, consistency.Info, orderOf(w, "declined"))
			},
		},
		consistency.SagaOrderMismatch: {
			reason: "The order of a completed saga was cancelled.",
			plant: func(w *world) {
				w.set("order", "orders", ordersaga.OrderID(w.uid("completed")), bson.D{{Key: "status", Value: "CANCELLED"}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.SagaOrderMismatch, consistency.Critical, "ordersaga/"+w.ns+"/completed")
			},
		},
		consistency.OrphanedSaga: {
			reason: "The order a saga created is gone.",
			plant:  func(w *world) { w.remove("order", "orders", ordersaga.OrderID(w.uid("out-of-stock"))) },
			want: func(w *world) consistency.Finding {
				return finding(consistency.OrphanedSaga, consistency.Critical, "ordersaga/"+w.ns+"/out-of-stock")
			},
		},
		consistency.LongRunningSaga: {
			reason: "A saga in flight for an hour.",
			plant: func(w *world) {
				w.updateStatus("in-flight", func(st *v1.OrderSagaStatus) {
					started := metav1.NewMicroTime(time.Now().Add(-time.Hour))
					st.StartedAt = &started
				})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.LongRunningSaga, consistency.Warning, "ordersaga/"+w.ns+"/in-flight")
			},
		},
		consistency.SagaFailed: {
			reason: "A saga whose compensation gave up.",
			plant: func(w *world) {
				w.updateStatus("declined", func(st *v1.OrderSagaStatus) {
					st.Phase, st.Message = v1.PhaseFailed, "compensation of CreateOrder gave up"
				})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.SagaFailed, consistency.Critical, "ordersaga/"+w.ns+"/declined")
			},
		},
		consistency.DuplicatePayment: {
			reason: "A second capture for a completed order (a client that is not idempotent).",
			plant: func(w *world) {
				w.put("payment", "/v1/payments/pay-again", map[string]any{"orderId": ordersaga.OrderID(w.uid("completed")),
					"customerId": "cust-0001", "amount": "999.99", "currency": "USD", "method": "CREDIT_CARD"})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.DuplicatePayment, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.DuplicateReservation: {
			reason: "A second reservation for a completed order.",
			plant: func(w *world) {
				w.put("inventory", "/v1/reservations/res-again", map[string]any{"orderId": ordersaga.OrderID(w.uid("completed")),
					"items": []any{map[string]any{"productId": "LAP-001", "quantity": 1}}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.DuplicateReservation, consistency.Critical, orderOf(w, "completed"))
			},
		},
		consistency.DuplicateShipment: {
			reason: "A second shipment for a completed order.",
			plant: func(w *world) {
				w.put("shipping", "/v1/shipments/shp-again", map[string]any{"orderId": ordersaga.OrderID(w.uid("completed")),
					"address": map[string]any{"name": "Ada", "line1": "1 St", "city": "London", "postalCode": "N1", "country": "GB"},
					"items":   []any{map[string]any{"productId": "LAP-001", "quantity": 1}}})
			},
			want: func(w *world) consistency.Finding {
				return finding(consistency.DuplicateShipment, consistency.Critical, orderOf(w, "completed"))
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			w.healthy()
			tc.plant(w)
			_, got := w.check()
			want := []consistency.Finding{tc.want(w)}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(consistency.Finding{}, "Message")); diff != "" {
				t.Errorf("\nReason: %s\nfindings: -want, +got:\n%s", tc.reason, diff)
			}
			if len(got) == 1 && got[0].Message == "" {
				t.Errorf("finding %s has no message", got[0].Rule)
			}
		})
	}
}

// TestCollectErrorsNameServiceAndURL: a service that does not answer, or answers with an
// error, stops the collection with an error that says which service and which URL.
func TestCollectErrorsNameServiceAndURL(t *testing.T) {
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":{"code":"NOT_READY","message":"the service is starting"}}`))
	}))
	t.Cleanup(failing.Close)
	slow := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)
	ns := newNamespace(t)
	cases := map[string]struct {
		reason string
		urls   collect.ServiceURLs
		want   []string
	}{
		"Unreachable": {reason: "No answer at all.", urls: collect.ServiceURLs{Order: down.URL},
			want: []string{"order service: GET " + down.URL + "/v1/orders?limit=", "no answer", "connection refused"}},
		"ErrorAnswer": {reason: "An error answer carries its code and message.", urls: collect.ServiceURLs{Order: failing.URL},
			want: []string{"order service: GET " + failing.URL + "/v1/orders?limit=", "503 NOT_READY: the service is starting"}},
		"Timeout": {reason: "Each request has its own deadline.", urls: collect.ServiceURLs{Order: slow.URL},
			want: []string{"order service: GET " + slow.URL, "context deadline exceeded"}},
		"NoURL": {reason: "A service without a URL is named.", urls: collect.ServiceURLs{},
			want: []string{"order service: no URL"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := collect.Collector{Kube: kube, Namespace: ns, URLs: tc.urls, RequestTimeout: 200 * time.Millisecond}
			_, err := c.Collect(t.Context())
			if err == nil {
				t.Fatalf("\nReason: %s\nCollect succeeded, want an error", tc.reason)
			}
			for _, s := range tc.want {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("\nReason: %s\nerror %q does not contain %q", tc.reason, err, s)
				}
			}
		})
	}
}
