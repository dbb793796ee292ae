package ordersaga

import (
	"encoding/json"
	"fmt"
	"net/http"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// The IDs below derive from the saga's UID. They are the services' idempotency keys: the
// same saga always addresses the same order, reservation, payment, shipment and notices,
// so that a compensation finds what its action did (or tombstones what it never did).

// OrderID is the ID of the saga's order.
func OrderID(uid string) string { return "ord-" + uid }

// ReservationID is the ID of the saga's stock reservation.
func ReservationID(uid string) string { return "res-" + uid }

// PaymentID is the ID of the saga's payment.
func PaymentID(uid string) string { return "pay-" + uid }

// ShipmentID is the ID of the saga's shipment.
func ShipmentID(uid string) string { return "shp-" + uid }

// ConfirmationNotificationID is the ID of the order-confirmed notice.
func ConfirmationNotificationID(uid string) string { return "ntf-" + uid + "-confirmed" }

// CancellationNotificationID is the ID of the order-cancelled notice.
func CancellationNotificationID(uid string) string { return "ntf-" + uid + "-cancelled" }

// request is one HTTP call to a service, with its body still to encode.
type request struct {
	service string
	method  string
	path    string
	body    any
}

// encode renders the request for the step client.
func (r request) encode() (stepclient.Request, error) {
	body, err := json.Marshal(r.body)
	if err != nil {
		return stepclient.Request{}, fmt.Errorf("encode the %s request %s %s: %w", r.service, r.method, r.path, err)
	}
	return stepclient.Request{Service: r.service, Method: r.method, Path: r.path, Body: body}, nil
}

type itemBody struct {
	ProductID string `json:"productId"`
	Quantity  int32  `json:"quantity"`
	UnitPrice string `json:"unitPrice,omitempty"`
}

type reasonBody struct {
	Reason string `json:"reason,omitempty"`
}

// requestFor builds the request of a call from the saga's spec and status.
func requestFor(obj *v1.OrderSaga, c saga.Call) (request, error) {
	uid := string(obj.UID)
	// A namespace and name may be 316 characters together; the services take 256.
	undo := reasonBody{Reason: saga.Truncate("saga "+obj.Namespace+"/"+obj.Name+" rolled back", limits.MaxReasonLen)}
	compensate := c.Direction == saga.Compensate
	switch {
	case c.Step == v1.StepCreateOrder && !compensate:
		return request{stepclient.ServiceOrder, http.MethodPut, "/v1/orders/" + OrderID(uid), map[string]any{
			"customerId": obj.Spec.CustomerID, "currency": currency(obj), "items": items(obj, true)}}, nil
	case c.Step == v1.StepCreateOrder:
		return request{stepclient.ServiceOrder, http.MethodPost, "/v1/orders/" + OrderID(uid) + "/cancel", undo}, nil
	case c.Step == v1.StepReserveInventory && !compensate:
		return request{stepclient.ServiceInventory, http.MethodPut, "/v1/reservations/" + ReservationID(uid), map[string]any{
			"orderId": OrderID(uid), "items": items(obj, false)}}, nil
	case c.Step == v1.StepReserveInventory:
		return request{stepclient.ServiceInventory, http.MethodPost, "/v1/reservations/" + ReservationID(uid) + "/release", undo}, nil
	case c.Step == v1.StepProcessPayment && !compensate:
		return request{stepclient.ServicePayment, http.MethodPut, "/v1/payments/" + PaymentID(uid), map[string]any{
			"orderId": OrderID(uid), "customerId": obj.Spec.CustomerID, "amount": obj.Status.Total,
			"currency": currency(obj), "method": obj.Spec.PaymentMethod}}, nil
	case c.Step == v1.StepProcessPayment:
		return request{stepclient.ServicePayment, http.MethodPost, "/v1/payments/" + PaymentID(uid) + "/refund", undo}, nil
	case c.Step == v1.StepScheduleShipment && !compensate:
		return request{stepclient.ServiceShipping, http.MethodPut, "/v1/shipments/" + ShipmentID(uid), map[string]any{
			"orderId": OrderID(uid), "method": shippingMethod(obj), "address": obj.Spec.Shipping.Address,
			"items": items(obj, false)}}, nil
	case c.Step == v1.StepScheduleShipment:
		return request{stepclient.ServiceShipping, http.MethodPost, "/v1/shipments/" + ShipmentID(uid) + "/cancel", undo}, nil
	case c.Step == v1.StepConfirmOrder && !compensate:
		return request{stepclient.ServiceOrder, http.MethodPost, "/v1/orders/" + OrderID(uid) + "/confirm", struct{}{}}, nil
	case c.Step == v1.StepSendNotification && !compensate:
		return request{stepclient.ServiceNotification, http.MethodPut, "/v1/notifications/" + ConfirmationNotificationID(uid), map[string]any{
			"orderId": OrderID(uid), "customerId": obj.Spec.CustomerID, "type": "ORDER_CONFIRMED",
			"data": nonEmpty(map[string]string{"total": obj.Status.Total, "trackingNumber": obj.Status.TrackingNumber})}}, nil
	case c.Step == NotifyCancellation:
		// Only what cannot change goes into the notice: the spec's total, not the failure's
		// message. A retry after a lost status write may meet another cause (a deletion
		// instead of a decline); a different body would then be refused as a reused key,
		// and the customer would never hear of the cancellation.
		return request{stepclient.ServiceNotification, http.MethodPut, "/v1/notifications/" + CancellationNotificationID(uid), map[string]any{
			"orderId": OrderID(uid), "customerId": obj.Spec.CustomerID, "type": "ORDER_CANCELLED",
			"data": nonEmpty(map[string]string{"total": obj.Status.Total})}}, nil
	}
	return request{}, fmt.Errorf("no %s request for step %s", c.Direction, c.Step)
}

// nonEmpty drops empty values: the notification service refuses empty template data.
func nonEmpty(data map[string]string) map[string]string {
	for k, v := range data {
		if v == "" {
			delete(data, k)
		}
	}
	return data
}

func items(obj *v1.OrderSaga, withPrice bool) []itemBody {
	out := make([]itemBody, 0, len(obj.Spec.Items))
	for _, it := range obj.Spec.Items {
		b := itemBody{ProductID: it.ProductID, Quantity: it.Quantity}
		if withPrice {
			b.UnitPrice = it.UnitPrice
		}
		out = append(out, b)
	}
	return out
}

func currency(obj *v1.OrderSaga) string {
	if obj.Spec.Currency == "" {
		return "USD"
	}
	return obj.Spec.Currency
}

func shippingMethod(obj *v1.OrderSaga) v1.ShippingMethod {
	if obj.Spec.Shipping.Method == "" {
		return v1.ShippingMethodStandard
	}
	return obj.Spec.Shipping.Method
}
