// Package payment is the payment service: it captures a payment once per payment ID,
// declines by deterministic rules (amount above a limit, declined methods) and refunds
// exactly what was captured, exactly once.
package payment

import (
	"net/http"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
)

// Status is a payment's state: CAPTURED → REFUNDED, or DECLINED for good.
type Status string

// Payment states.
const (
	Captured Status = "CAPTURED"
	Declined Status = "DECLINED"
	Refunded Status = "REFUNDED"
)

// Methods returns the accepted payment methods.
func Methods() []string { return []string{"CREDIT_CARD", "DEBIT_CARD", "PAYPAL", "BANK_TRANSFER"} }

// Error codes of the payment service.
const (
	CodePaymentDeclined = "PAYMENT_DECLINED"
	CodePaymentNotFound = "PAYMENT_NOT_FOUND"
)

// CreateRequest is the body of PUT /v1/payments/{paymentId}.
type CreateRequest struct {
	OrderID    string `json:"orderId"`
	CustomerID string `json:"customerId"`
	Amount     string `json:"amount"`
	Currency   string `json:"currency"`
	Method     string `json:"method"`
}

// Spec is a validated CreateRequest; its hash identifies the payload.
type Spec struct {
	OrderID    string         `json:"orderId"`
	CustomerID string         `json:"customerId"`
	Amount     platform.Money `json:"amount"`
	Currency   string         `json:"currency"`
	Method     string         `json:"method"`
}

// Normalize validates r; currency defaults to USD as in the CRD.
func Normalize(r CreateRequest) (Spec, *platform.APIError) {
	var v platform.Validator
	v.ID("orderId", r.OrderID)
	v.String("customerId", r.CustomerID, 1, limits.MaxCustomerIDLen)
	amount := v.Money("amount", r.Amount)
	r.Currency = v.Currency("currency", r.Currency)
	v.OneOf("method", r.Method, Methods()...)
	return Spec{OrderID: r.OrderID, CustomerID: r.CustomerID, Amount: amount, Currency: r.Currency, Method: r.Method}, v.Err()
}

// Payment is the JSON view of a payment (or of a tombstone, which has only ID, status and
// timestamps).
type Payment struct {
	PaymentID      string          `json:"paymentId"`
	OrderID        string          `json:"orderId,omitempty"`
	CustomerID     string          `json:"customerId,omitempty"`
	Status         Status          `json:"status"`
	Amount         *platform.Money `json:"amount,omitempty"`
	Currency       string          `json:"currency,omitempty"`
	Method         string          `json:"method,omitempty"`
	RefundedAmount *platform.Money `json:"refundedAmount,omitempty"`
	DeclineReason  string          `json:"declineReason,omitempty"`
	Reason         string          `json:"reason,omitempty"`
	Tombstone      bool            `json:"tombstone,omitempty"`
	CreatedAt      string          `json:"createdAt"`
	UpdatedAt      string          `json:"updatedAt"`
}

// notFound is the 404 of an unknown ID.
func notFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, CodePaymentNotFound, "payment "+id+" does not exist").WithField("paymentId")
}
