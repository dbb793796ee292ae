package ordersaga

import (
	"context"
	"encoding/json"
	"fmt"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Caller makes the order saga's calls with a step client.
type Caller struct {
	Client *stepclient.Client
}

// Call makes one call of the saga and classifies its outcome. It never returns an error:
// every failure is an Outcome the engine knows how to handle.
func (c Caller) Call(ctx context.Context, obj *v1.OrderSaga, call saga.Call) saga.Outcome {
	r, err := requestFor(obj, call)
	var req stepclient.Request
	if err == nil {
		req, err = r.encode()
	}
	if err != nil {
		return saga.Outcome{Kind: saga.BusinessFailure, Code: "UNSUPPORTED_CALL", Message: err.Error()}
	}
	resp, failure, answered := c.Client.Exchange(ctx, req, call, Plan(&obj.Spec).CallTimeout(call.Step))
	if !answered {
		return failure
	}
	out := stepclient.Classify(resp)
	if out.Kind == saga.Succeeded {
		return decodeOutputs(obj, call, resp.Body)
	}
	return out
}

// outputsBody holds every identifier a service may return.
type outputsBody struct {
	OrderID        string `json:"orderId"`
	Tombstone      bool   `json:"tombstone"`
	Total          string `json:"total"`
	ReservationID  string `json:"reservationId"`
	PaymentID      string `json:"paymentId"`
	ShipmentID     string `json:"shipmentId"`
	TrackingNumber string `json:"trackingNumber"`
	Status         string `json:"status"`
}

// decodeOutputs reads a successful answer. A notification the service could not deliver
// comes back 2xx with status FAILED: it is a business failure of the notice.
func decodeOutputs(obj *v1.OrderSaga, call saga.Call, body []byte) saga.Outcome {
	var b outputsBody
	if err := json.Unmarshal(body, &b); err != nil {
		return saga.Outcome{Kind: saga.Transient, Code: "INVALID_RESPONSE", Message: "decode answer: " + err.Error()}
	}
	succeeded := func(outputs map[string]string) saga.Outcome {
		return saga.Outcome{Kind: saga.Succeeded, Outputs: outputs}
	}
	if call.Direction == saga.Compensate {
		// A cancel that found an order (not a tombstone) proves the order existed, even
		// when the status write that recorded its creation was lost: the customer must
		// then hear of the cancellation.
		if call.Step == v1.StepCreateOrder && !b.Tombstone && b.OrderID != "" {
			return succeeded(map[string]string{outputOrderID: b.OrderID})
		}
		return succeeded(nil)
	}
	switch call.Step {
	case v1.StepCreateOrder:
		if obj.Status.Total != "" && b.Total != obj.Status.Total {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: "TOTAL_MISMATCH",
				Message: fmt.Sprintf("the order service computed %s, the saga %s", b.Total, obj.Status.Total)}
		}
		return succeeded(map[string]string{outputOrderID: b.OrderID, outputTotal: b.Total})
	case v1.StepReserveInventory:
		return succeeded(map[string]string{outputReservationID: b.ReservationID})
	case v1.StepProcessPayment:
		return succeeded(map[string]string{outputPaymentID: b.PaymentID})
	case v1.StepScheduleShipment:
		return succeeded(map[string]string{outputShipmentID: b.ShipmentID, outputTrackingNumber: b.TrackingNumber})
	case v1.StepConfirmOrder:
		// The confirmation's answer carries nothing the saga keeps.
	case v1.StepSendNotification, NotifyCancellation:
		if b.Status == "FAILED" {
			return saga.Outcome{Kind: saga.BusinessFailure, Code: "NOTIFICATION_FAILED", Message: "the notification service could not deliver the notice"}
		}
	}
	return succeeded(nil)
}
