// Package ordersaga is the order saga: its plan of six steps over the order, inventory,
// payment, shipping and notification services, the request of every call, what it keeps
// of each answer, and the conversion of an OrderSaga's status to the engine's and back.
// The engine (internal/saga) knows none of this.
package ordersaga

import (
	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// NotifyCancellation names the order-cancelled notice sent after a rollback: the plan's
// after-rollback call. Its record is status.cancellationNotice.
const NotifyCancellation v1.StepName = "NotifyCancellation"

// Pivot is the step after which the order saga never rolls back.
const Pivot = v1.StepConfirmOrder

// codeOrderConfirmed is the order service's refusal to cancel a confirmed order
// (services/order, CodeOrderConfirmed; the contract suite holds the two equal).
const codeOrderConfirmed = "ORDER_CONFIRMED"

// Names of the outputs the order saga keeps, each also a field of OrderSaga's status.
const (
	outputOrderID        = "orderId"
	outputTotal          = "total"
	outputReservationID  = "reservationId"
	outputPaymentID      = "paymentId"
	outputShipmentID     = "shipmentId"
	outputTrackingNumber = "trackingNumber"
)

// reasons maps the services' business error codes to the reasons OrderSaga's conditions
// and Events give.
func reasons() map[string]string {
	return map[string]string{
		"OUT_OF_STOCK":            v1.ReasonOutOfStock,
		"UNKNOWN_PRODUCT":         v1.ReasonProductUnavailable,
		"PRODUCT_DISCONTINUED":    v1.ReasonProductUnavailable,
		"PAYMENT_DECLINED":        v1.ReasonPaymentDeclined,
		"UNSUPPORTED_DESTINATION": v1.ReasonUnsupportedDestination,
	}
}

// Plan returns the order saga's plan for spec: CreateOrder, ReserveInventory,
// ProcessPayment and ScheduleShipment, each undone on rollback; ConfirmOrder, the pivot;
// SendNotification, forward-only; and the cancellation notice after a rollback, sent only
// to a customer whose order was created.
func Plan(spec *v1.OrderSagaSpec) *saga.Plan {
	policy := saga.PolicyOf(spec.RetryPolicy)
	timeout := saga.DurationOr(spec.StepTimeout, saga.DefaultStepTimeout)
	step := func(name v1.StepName, resource string) saga.Step {
		return saga.Step{Name: name, Compensable: resource != "", ResourceOutput: resource, Policy: policy, Timeout: timeout}
	}
	confirm, notify := step(v1.StepConfirmOrder, ""), step(v1.StepSendNotification, "")
	confirm.Pivot = true
	notify.ForwardOnly = true
	notify.FailedReason, notify.FailedMessage = v1.ReasonNotificationFailed, "order confirmed; the confirmation notice failed"
	return &saga.Plan{
		Steps: []saga.Step{
			step(v1.StepCreateOrder, outputOrderID),
			step(v1.StepReserveInventory, outputReservationID),
			step(v1.StepProcessPayment, outputPaymentID),
			step(v1.StepScheduleShipment, outputShipmentID),
			confirm,
			notify,
		},
		AfterRollback: &saga.AfterRollback{
			Name:           NotifyCancellation,
			RequiresOutput: saga.OutputRef{Step: v1.StepCreateOrder, Key: outputOrderID},
			Policy:         policy,
			Timeout:        timeout,
		},
		Reasons:          reasons(),
		CompletedMessage: "order confirmed, paid and scheduled for shipment",
		// The cancel of the order fences ConfirmOrder (ADR 0011): the order service moves
		// a PENDING order to CANCELLED, after which it refuses to confirm it, and refuses
		// the cancel of a CONFIRMED order. Its request is the order ID, which the saga's
		// UID gives (ADR 0002), so a lost write cannot take it away.
		Fence: &saga.Fence{Step: v1.StepCreateOrder, PivotRan: []string{codeOrderConfirmed}},
	}
}

// Steps lists the order saga's steps, in the order they run.
func Steps() []v1.StepName {
	plan := Plan(&v1.OrderSagaSpec{})
	names := make([]v1.StepName, 0, len(plan.Steps))
	for _, s := range plan.Steps {
		names = append(names, s.Name)
	}
	return names
}

// Compensable reports whether an order saga step is undone on rollback: every step
// before the pivot.
func Compensable(step v1.StepName) bool {
	s, ok := Plan(&v1.OrderSagaSpec{}).Step(step)
	return ok && s.Compensable
}
