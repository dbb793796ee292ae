/*
Copyright 2026 The OrderSaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// RetryAnnotation re-drives a Failed saga: setting it to any value the saga has not yet
// handled (for example a timestamp) retries the compensation that gave up.
const RetryAnnotation = "saga.ordersaga.io/retry"

// AbandonAnnotation releases a Failed saga that is being deleted without undoing what its
// compensations could not: setting it to any value the saga has not yet handled records
// what may be left undone (status.abandoned, and a Warning Event), then removes the
// finalizer. On any other saga it does nothing, and an Event says so.
const AbandonAnnotation = "saga.ordersaga.io/abandon"

// PaymentMethod is how the customer pays.
// +kubebuilder:validation:Enum=CREDIT_CARD;DEBIT_CARD;PAYPAL;BANK_TRANSFER
type PaymentMethod string

// Payment methods the payment service accepts.
const (
	PaymentMethodCreditCard   PaymentMethod = "CREDIT_CARD"
	PaymentMethodDebitCard    PaymentMethod = "DEBIT_CARD"
	PaymentMethodPayPal       PaymentMethod = "PAYPAL"
	PaymentMethodBankTransfer PaymentMethod = "BANK_TRANSFER"
)

// ShippingMethod is the delivery speed the customer chose.
// +kubebuilder:validation:Enum=STANDARD;EXPRESS;OVERNIGHT;TWO_DAY;INTERNATIONAL
type ShippingMethod string

// Shipping methods the shipping service offers.
const (
	ShippingMethodStandard      ShippingMethod = "STANDARD"
	ShippingMethodExpress       ShippingMethod = "EXPRESS"
	ShippingMethodOvernight     ShippingMethod = "OVERNIGHT"
	ShippingMethodTwoDay        ShippingMethod = "TWO_DAY"
	ShippingMethodInternational ShippingMethod = "INTERNATIONAL"
)

// OrderSagaSpec is the order to place. Everything except suspend and
// ttlSecondsAfterFinished is fixed at creation: a saga is a record of one order.
// Durations are compared as durations, not strings, because Go clients re-serialise
// "1m" as "1m0s" on a read-modify-write.
// +kubebuilder:validation:XValidation:rule="self.customerId == oldSelf.customerId",message="customerId is immutable",fieldPath=".customerId"
// +kubebuilder:validation:XValidation:rule="self.items == oldSelf.items",message="items is immutable",fieldPath=".items"
// +kubebuilder:validation:XValidation:rule="self.currency == oldSelf.currency",message="currency is immutable",fieldPath=".currency"
// +kubebuilder:validation:XValidation:rule="self.paymentMethod == oldSelf.paymentMethod",message="paymentMethod is immutable",fieldPath=".paymentMethod"
// +kubebuilder:validation:XValidation:rule="self.shipping == oldSelf.shipping",message="shipping is immutable",fieldPath=".shipping"
// +kubebuilder:validation:XValidation:rule="self.retryPolicy.maxAttempts == oldSelf.retryPolicy.maxAttempts && duration(self.retryPolicy.initialBackoff) == duration(oldSelf.retryPolicy.initialBackoff) && duration(self.retryPolicy.maxBackoff) == duration(oldSelf.retryPolicy.maxBackoff)",message="retryPolicy is immutable",fieldPath=".retryPolicy"
// +kubebuilder:validation:XValidation:rule="duration(self.stepTimeout) == duration(oldSelf.stepTimeout)",message="stepTimeout is immutable",fieldPath=".stepTimeout"
type OrderSagaSpec struct {
	// customerId identifies the customer who places the order. Free text here and in the
	// address admits no control characters, which the services refuse.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	CustomerID string `json:"customerId"`

	// items are the order lines: 1 to 50 lines, each product at most once.
	// +required
	// +listType=map
	// +listMapKey=productId
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=50
	Items []OrderItem `json:"items"`

	// currency is the ISO 4217 code of every price in the order, for example USD.
	// +optional
	// +kubebuilder:default=USD
	// +kubebuilder:validation:Pattern=`^[A-Z]{3}$`
	Currency string `json:"currency,omitempty"`

	// paymentMethod is how the order is paid: CREDIT_CARD, DEBIT_CARD, PAYPAL or BANK_TRANSFER.
	// +required
	PaymentMethod PaymentMethod `json:"paymentMethod"`

	// shipping says how and where the order is delivered.
	// +required
	Shipping Shipping `json:"shipping"`

	// retryPolicy bounds the retries of transient failures (timeouts, connection errors,
	// 5xx, 429). Business failures such as out of stock are never retried.
	// +optional
	// +kubebuilder:default={maxAttempts:5,initialBackoff:"1s",maxBackoff:"1m"}
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`

	// stepTimeout bounds one HTTP call to a service, for example 10s. Between 100ms and 5m.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="stepTimeout must be between 100ms and 5m"
	StepTimeout *metav1.Duration `json:"stepTimeout,omitempty"`

	// suspend, when true, stops the saga from making new calls until it is set back to
	// false. Calls already made are not undone. Deleting a suspended saga still compensates.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ttlSecondsAfterFinished, when set, deletes the saga this many seconds after it
	// reaches Completed or Compensated. Failed sagas are kept for a person to act on.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// OrderItem is one order line.
type OrderItem struct {
	// productId is the catalog identifier of the product, for example LAP-001.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=64
	// +kubebuilder:validation:Pattern=`^[A-Za-z0-9][A-Za-z0-9._-]*$`
	ProductID string `json:"productId"`

	// quantity is the number of units, 1 to 1000.
	// +required
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=1000
	Quantity int32 `json:"quantity"`

	// unitPrice is the price of one unit as a decimal string greater than zero with at
	// most two decimals, for example "999.99". Prices are strings so that no float
	// rounding ever touches money.
	// +required
	// +kubebuilder:validation:MaxLength=13
	// +kubebuilder:validation:Pattern=`^[0-9]{1,9}(\.[0-9]{1,2})?$`
	// +kubebuilder:validation:XValidation:rule="!self.matches('^[0.]+$')",message="unitPrice must be greater than 0"
	UnitPrice string `json:"unitPrice"`
}

// Shipping is the delivery method and destination.
type Shipping struct {
	// method is the delivery speed: STANDARD, EXPRESS, OVERNIGHT, TWO_DAY or INTERNATIONAL.
	// +optional
	// +kubebuilder:default=STANDARD
	Method ShippingMethod `json:"method,omitempty"`

	// address is where the parcel goes.
	// +required
	Address Address `json:"address"`
}

// Address is a postal address.
type Address struct {
	// name is the recipient.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	Name string `json:"name"`

	// line1 is the street address.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	Line1 string `json:"line1"`

	// line2 is the optional second address line (flat, floor, building).
	// +optional
	// +kubebuilder:validation:MaxLength=200
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	Line2 string `json:"line2,omitempty"`

	// city is the city or town.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	City string `json:"city"`

	// region is the optional state, county or province.
	// +optional
	// +kubebuilder:validation:MaxLength=100
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	Region string `json:"region,omitempty"`

	// postalCode is the postal or ZIP code.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=20
	// +kubebuilder:validation:Pattern=`^[^\x00-\x1F\x7F]*$`
	PostalCode string `json:"postalCode"`

	// country is the ISO 3166-1 alpha-2 code, for example GB.
	// +required
	// +kubebuilder:validation:Pattern=`^[A-Z]{2}$`
	Country string `json:"country"`
}

// RetryPolicy bounds the retries of transient failures with capped exponential backoff.
// +kubebuilder:validation:XValidation:rule="duration(self.initialBackoff) <= duration(self.maxBackoff)",message="initialBackoff must not exceed maxBackoff",fieldPath=".initialBackoff"
type RetryPolicy struct {
	// maxAttempts is the number of calls a forward step gets for transient failures,
	// the first included. Compensations get twice as many before the saga goes Failed.
	// +optional
	// +kubebuilder:default=5
	// +kubebuilder:validation:Minimum=1
	// +kubebuilder:validation:Maximum=100
	MaxAttempts int32 `json:"maxAttempts,omitempty"`

	// initialBackoff is the wait after the first transient failure; it doubles with each
	// further failure, up to maxBackoff. At least 1ms.
	// +optional
	// +kubebuilder:default="1s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1ms')",message="initialBackoff must be at least 1ms"
	InitialBackoff *metav1.Duration `json:"initialBackoff,omitempty"`

	// maxBackoff caps the wait between two attempts. At most 1h.
	// +optional
	// +kubebuilder:default="1m"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:Pattern=`^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$`
	// +kubebuilder:validation:XValidation:rule="duration(self) >= duration('1ms') && duration(self) <= duration('1h')",message="maxBackoff must be between 1ms and 1h"
	MaxBackoff *metav1.Duration `json:"maxBackoff,omitempty"`
}
