// Package consistency checks that the OrderSagas and the five services' data agree. Check
// is pure: it reads a Snapshot (plain structs, gathered by the collect sub-package or built
// by a test) and returns Findings; it makes no calls and reads no clock.
//
// The rules are the original system's seven consistency checks made correct for this
// model (client-assigned IDs, a rollback that cancels the order first and then undoes the
// other steps in reverse order, stock = units available), plus cross-checks of every
// terminal OrderSaga against the services: see Rules.
package consistency

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Snapshot is what the checker reads: the sagas and the documents the services list. The
// JSON names of the service types are the services' own, so that their list pages decode
// straight into them.
//
// Caveats: the parts are read one after the other, not at one instant, while sagas go on.
// A rule may expect of a document only what happened before the state of another document
// that vouches for it, and that other document must be read first: then everything it
// vouches for happened before the later read, and no saga takes it back afterwards. Read
// them as the collector does:
//
//   - Sagas first. A Completed or Compensated phase is written after every effect it
//     vouches for, and nothing changes them after it. A saga read in flight may move on,
//     or end, before the services are read; Check judges it in flight.
//   - Orders next. CONFIRMED is written after the reservation, payment and shipment it
//     vouches for, and nothing undoes them past that pivot. Were orders read after
//     shipments, a saga that scheduled its shipment and confirmed its order between the
//     two reads would show a CONFIRMED order without a shipment.
//     CANCELLED vouches for nothing: a rollback cancels the order first (the fence, ADR
//     0011) and undoes the other steps after it, so under no read order does a CANCELLED
//     order prove the rest undone. Check judges an undone order only once its rollback ended:
//     its saga was read Compensated, or, without a known saga, the order has not changed
//     for Options.Settle.
//   - Products, reservations, payments, shipments. No rule expects of one of them what
//     another vouches for, so their order among themselves does not matter.
//   - Notifications last: they are sent after every other step, in either direction, and
//     expected only of an ended saga (or a settled order).
type Snapshot struct {
	Sagas         []Saga         `json:"sagas"`
	Orders        []Order        `json:"orders"`
	Products      []Product      `json:"products"`
	Reservations  []Reservation  `json:"reservations"`
	Payments      []Payment      `json:"payments"`
	Shipments     []Shipment     `json:"shipments"`
	Notifications []Notification `json:"notifications"`
}

// Saga is what the checker needs of one OrderSaga.
type Saga struct {
	// Namespace and Name identify the OrderSaga.
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	// Phase is status.phase; empty before the controller first saw the saga.
	Phase v1.Phase `json:"phase"`
	// OrderID is the ID of the saga's order, derived from its UID (ord-<uid>), whether or not
	// the order was created: every effect of the saga carries it.
	OrderID string `json:"orderId"`
	// OrderCreated is true once CreateOrder succeeded (status.orderId is set): the order
	// must exist from then on, whatever happens later.
	OrderCreated bool `json:"orderCreated"`
	// Total is status.total, the amount the saga charges ("1999.98"); empty before start.
	Total string `json:"total,omitempty"`
	// Currency is spec.currency.
	Currency string `json:"currency,omitempty"`
	// Suspended is spec.suspend.
	Suspended bool `json:"suspended,omitempty"`
	// CreatedAt is metadata.creationTimestamp; StartedAt is status.startedAt (zero before).
	CreatedAt time.Time `json:"createdAt"`
	StartedAt time.Time `json:"startedAt,omitzero"`
	// Message is status.message.
	Message string `json:"message,omitempty"`
}

// Order is an order as the order service lists it.
type Order struct {
	OrderID    string    `json:"orderId"`
	CustomerID string    `json:"customerId"`
	Status     string    `json:"status"` // PENDING, CONFIRMED or CANCELLED
	Currency   string    `json:"currency"`
	Total      Money     `json:"total"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Product is a catalog entry as the inventory service lists it; Stock is the number of
// units available now (units held by reservations are already taken off).
type Product struct {
	ProductID string `json:"productId"`
	Name      string `json:"name"`
	Stock     int64  `json:"stock"`
}

// Reservation is a stock reservation as the inventory service lists it.
type Reservation struct {
	ReservationID string `json:"reservationId"`
	OrderID       string `json:"orderId"`
	Status        string `json:"status"` // PENDING, RESERVED, FAILING, FAILED, RELEASING, RELEASED
}

// Payment is a payment as the payment service lists it.
type Payment struct {
	PaymentID      string `json:"paymentId"`
	OrderID        string `json:"orderId"`
	Status         string `json:"status"` // CAPTURED, REFUNDED or DECLINED
	Amount         Money  `json:"amount"`
	RefundedAmount Money  `json:"refundedAmount"`
	Currency       string `json:"currency"`
}

// Shipment is a shipment as the shipping service lists it.
type Shipment struct {
	ShipmentID string `json:"shipmentId"`
	OrderID    string `json:"orderId"`
	Status     string `json:"status"` // SCHEDULED, CANCELLED or REJECTED
}

// Notification is a message as the notification service lists it.
type Notification struct {
	NotificationID string `json:"notificationId"`
	OrderID        string `json:"orderId"`
	Type           string `json:"type"`   // ORDER_CONFIRMED or ORDER_CANCELLED
	Status         string `json:"status"` // SENT or FAILED
	FailureReason  string `json:"failureReason,omitempty"`
}

// Service statuses the rules compare with.
const (
	OrderPending   = "PENDING"
	OrderConfirmed = "CONFIRMED"
	OrderCancelled = "CANCELLED"

	ReservationReserved = "RESERVED"
	ReservationFailed   = "FAILED"
	ReservationReleased = "RELEASED"

	PaymentCaptured = "CAPTURED"
	PaymentRefunded = "REFUNDED"

	ShipmentScheduled = "SCHEDULED"
	ShipmentCancelled = "CANCELLED"

	NotificationConfirmed = "ORDER_CONFIRMED"
	NotificationCancelled = "ORDER_CANCELLED"
	NotificationSent      = "SENT"
)

// Money is an amount in minor units (cents). On the wire it is a decimal string with at
// most two decimals ("1999.98"), as every service writes it; it never passes a float.
type Money int64

// ParseMoney parses a decimal string with at most two decimals and an optional minus
// sign (a planted or corrupt value must still be readable, to be reported).
func ParseMoney(s string) (Money, error) {
	body, neg := strings.CutPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(body, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") || strings.ContainsAny(whole+frac, "+-") {
		return 0, fmt.Errorf("parse amount %q: want digits with at most two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	units, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse amount %q: %w", s, err)
	}
	if neg {
		units = -units
	}
	return Money(units), nil
}

// String formats m with two decimals.
func (m Money) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(m)/100, int64(m)%100)
}

// MarshalJSON writes m as a decimal string. String() spells it with ASCII digits, a point
// and maybe a minus, which Go and JSON quote alike.
func (m Money) MarshalJSON() ([]byte, error) { return strconv.AppendQuote(nil, m.String()), nil }

// UnmarshalJSON reads a decimal string.
func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("money: %w", err)
	}
	v, err := ParseMoney(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}
