// Package model holds the gateway's GraphQL types: generated from api/graphql/schema.graphqls
// (models_gen.go), and Order, written here because its service fields are resolved from the
// saga it carries.
package model

import (
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Order is the GraphQL view of an OrderSaga. Record, Payment, Shipment, Notices and Events
// have resolvers, which call the services and the API server only when a query asks.
type Order struct {
	ID             string          `json:"id"`
	Namespace      string          `json:"namespace"`
	CustomerID     string          `json:"customerId"`
	CreatedAt      time.Time       `json:"createdAt"`
	Items          []*OrderItem    `json:"items"`
	Currency       string          `json:"currency"`
	Total          *string         `json:"total,omitempty"`
	PaymentMethod  PaymentMethod   `json:"paymentMethod"`
	ShippingMethod *ShippingMethod `json:"shippingMethod,omitempty"`
	Saga           *SagaRun        `json:"saga"`
	Cancellable    bool            `json:"cancellable"`
	Retryable      bool            `json:"retryable"`

	// Source is the saga this view was made from; the field resolvers read its IDs.
	Source *v1.OrderSaga `json:"-"`
}
