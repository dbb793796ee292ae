// Package order is the order service: it creates orders (PENDING, total computed from the
// items), confirms them (the saga's pivot) and cancels them (the compensation), each
// idempotently by the client-assigned order ID.
package order

import (
	"net/http"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
)

// Status is an order's state. Transitions: PENDING → CONFIRMED, PENDING → CANCELLED.
type Status string

// Order states.
const (
	Pending   Status = "PENDING"
	Confirmed Status = "CONFIRMED"
	Cancelled Status = "CANCELLED"
)

// Error codes of the order service.
const (
	CodeOrderNotFound  = "ORDER_NOT_FOUND"
	CodeOrderCancelled = "ORDER_CANCELLED"
	CodeOrderConfirmed = "ORDER_CONFIRMED"
)

// CreateRequest is the body of PUT /v1/orders/{orderId}.
type CreateRequest struct {
	CustomerID string        `json:"customerId"`
	Currency   string        `json:"currency"`
	Items      []ItemRequest `json:"items"`
}

// ItemRequest is one order line as requested.
type ItemRequest struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
	UnitPrice string `json:"unitPrice"`
}

// Spec is a validated, normalized create request; its hash identifies the payload.
type Spec struct {
	CustomerID string `json:"customerId"`
	Currency   string `json:"currency"`
	Items      []Line `json:"items"`
}

// Line is an order line in minor units.
type Line struct {
	ProductID string         `json:"productId" bson:"productId"`
	Quantity  int            `json:"quantity" bson:"quantity"`
	UnitPrice platform.Money `json:"unitPrice" bson:"unitPrice"`
}

// Normalize validates r and returns its Spec; currency defaults to USD as in the CRD.
func Normalize(r CreateRequest) (Spec, *platform.APIError) {
	var v platform.Validator
	v.String("customerId", r.CustomerID, 1, limits.MaxCustomerIDLen)
	r.Currency = v.Currency("currency", r.Currency)
	v.ItemCount(len(r.Items))
	spec := Spec{CustomerID: r.CustomerID, Currency: r.Currency, Items: make([]Line, 0, len(r.Items))}
	seen := map[string]bool{}
	for i, it := range r.Items {
		v.Item(i, it.ProductID, it.Quantity, seen)
		price := v.Money(platform.Field("items", i, "unitPrice"), it.UnitPrice)
		spec.Items = append(spec.Items, Line{ProductID: it.ProductID, Quantity: it.Quantity, UnitPrice: price})
	}
	return spec, v.Err()
}

// Order is the JSON view of an order (or of a tombstone, which has only ID, status and
// timestamps).
type Order struct {
	OrderID    string          `json:"orderId"`
	CustomerID string          `json:"customerId,omitempty"`
	Status     Status          `json:"status"`
	Currency   string          `json:"currency,omitempty"`
	Items      []ItemView      `json:"items,omitempty"`
	Total      *platform.Money `json:"total,omitempty"`
	Reason     string          `json:"reason,omitempty"`
	Tombstone  bool            `json:"tombstone,omitempty"`
	CreatedAt  string          `json:"createdAt"`
	UpdatedAt  string          `json:"updatedAt"`
}

// ItemView is an order line with its line total.
type ItemView struct {
	ProductID string         `json:"productId"`
	Quantity  int            `json:"quantity"`
	UnitPrice platform.Money `json:"unitPrice"`
	LineTotal platform.Money `json:"lineTotal"`
}

func notFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodeOrderNotFound, "order "+id+" does not exist").WithField("orderId")
}
