// Package notification is the notification service: one ORDER_CONFIRMED and one
// ORDER_CANCELLED message per order, rendered from templates and recorded idempotently.
// A failed delivery is recorded as FAILED and answered as a success (201), never a 5xx
// that would make the saga roll back an order that is already confirmed.
package notification

import (
	"fmt"
	"maps"
	"net/http"
	"slices"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
)

// Notification types.
const (
	OrderConfirmed = "ORDER_CONFIRMED"
	OrderCancelled = "ORDER_CANCELLED"
)

// Status is a notification's delivery outcome.
type Status string

// Delivery outcomes.
const (
	Sent   Status = "SENT"
	Failed Status = "FAILED"
)

// Error codes of the notification service.
const (
	CodeNotificationNotFound = "NOTIFICATION_NOT_FOUND"
	CodeNotificationExists   = "NOTIFICATION_EXISTS"
)

// DataKeys returns the template variables a request may carry in data.
func DataKeys() []string { return []string{"total", "trackingNumber", "reason"} }

// CreateRequest is the body of PUT /v1/notifications/{notificationId}.
type CreateRequest struct {
	OrderID    string            `json:"orderId"`
	CustomerID string            `json:"customerId"`
	Type       string            `json:"type"`
	Data       map[string]string `json:"data"`
}

// Normalize validates r. Data keys outside DataKeys are unknown fields, like unknown keys
// anywhere else in a body.
func Normalize(r CreateRequest) (CreateRequest, *platform.APIError) {
	var v platform.Validator
	v.ID("orderId", r.OrderID)
	v.String("customerId", r.CustomerID, 1, limits.MaxCustomerIDLen)
	v.OneOf("type", r.Type, OrderConfirmed, OrderCancelled)
	for _, k := range slices.Sorted(maps.Keys(r.Data)) {
		if v.Err() == nil && !slices.Contains(DataKeys(), k) {
			return r, &platform.APIError{Status: http.StatusBadRequest, Code: platform.CodeUnknownField,
				Message: fmt.Sprintf("unknown data key %q; known: %v", k, DataKeys()), Field: "data." + k}
		}
		v.String("data."+k, r.Data[k], 1, limits.MaxNotificationDataLen)
	}
	if total, ok := r.Data["total"]; ok {
		v.Money("data.total", total)
	}
	if len(r.Data) == 0 {
		r.Data = nil // {} and no data are the same request
	}
	return r, v.Err()
}

// Notification is the JSON view of a notification.
type Notification struct {
	NotificationID string            `json:"notificationId"`
	OrderID        string            `json:"orderId"`
	CustomerID     string            `json:"customerId"`
	Type           string            `json:"type"`
	Status         Status            `json:"status"`
	Subject        string            `json:"subject"`
	Body           string            `json:"body"`
	Data           map[string]string `json:"data,omitempty"`
	FailureReason  string            `json:"failureReason,omitempty"`
	CreatedAt      string            `json:"createdAt"`
}

// notFound is the 404 of an unknown ID.
func notFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodeNotificationNotFound, "notification "+id+" does not exist").WithField("notificationId")
}
