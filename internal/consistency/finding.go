package consistency

import (
	"cmp"
	"slices"
	"time"
)

// Severity says how urgently a person must look at a finding.
type Severity string

// Severities, most urgent first. Any critical finding makes `sagactl check` exit 1.
const (
	// Critical: money, stock or an order is wrong now (or a saga needs a person).
	Critical Severity = "critical"
	// Warning: something is late or a customer was not told; nothing is lost yet.
	Warning Severity = "warning"
	// Info: worth knowing, nothing to repair.
	Info Severity = "info"
)

// rank orders severities for sorting, most urgent first.
func (s Severity) rank() int {
	switch s {
	case Critical:
		return 0
	case Warning:
		return 1
	default: // Info, and an unknown severity with it
		return 2
	}
}

// Finding is one inconsistency.
type Finding struct {
	// Rule is the stable, upper-case name of the rule (scripts may match on it).
	Rule string `json:"rule"`
	// Severity is critical, warning or info.
	Severity Severity `json:"severity"`
	// Object is the thing that is wrong: ordersaga/<namespace>/<name>, order/<id>,
	// product/<id>, reservation/<id>, payment/<id> or shipment/<id>.
	Object string `json:"object"`
	// Message is one sentence for people.
	Message string `json:"message"`
}

// Rule names. The first group are the original checker's seven checks made correct for
// this model; the second are the saga cross-checks and duplicate effects.
const (
	// MissingPayment: an order that must be paid (CONFIRMED, or its saga Completed) has no payment at all.
	MissingPayment = "MISSING_PAYMENT"
	// PaymentStatusMismatch: such an order has payments, but none is CAPTURED.
	PaymentStatusMismatch = "PAYMENT_STATUS_MISMATCH"
	// MissingShipment: such an order has no SCHEDULED shipment.
	MissingShipment = "MISSING_SHIPMENT"
	// NegativeStock: a product has fewer than zero units available.
	NegativeStock = "NEGATIVE_STOCK"
	// UnreleasedReservation: an undone order (CANCELLED, or its saga Compensated) still holds
	// stock after its rollback ended.
	UnreleasedReservation = "UNRELEASED_RESERVATION"
	// LongRunningSaga: a saga has not reached a terminal phase within Options.LongRunning.
	LongRunningSaga = "LONG_RUNNING_SAGA"
	// OrphanedSaga: the order of a saga is missing although CreateOrder succeeded.
	OrphanedSaga = "ORPHANED_SAGA"
	// ExcessiveRefund: a payment refunded more than it captured.
	ExcessiveRefund = "EXCESSIVE_REFUND"
	// MissingOrderConfirmation: a confirmed order has no delivered ORDER_CONFIRMED notification.
	MissingOrderConfirmation = "MISSING_ORDER_CONFIRMATION"
	// AmountMismatch: the one capture of a confirmed order differs from the order (or saga) total.
	AmountMismatch = "AMOUNT_MISMATCH"

	// MissingReservation: an order that must be fulfilled holds no RESERVED reservation.
	MissingReservation = "MISSING_RESERVATION"
	// UnrefundedPayment: an undone order still has a CAPTURED payment after its rollback ended.
	UnrefundedPayment = "UNREFUNDED_PAYMENT"
	// UncancelledShipment: an undone order still has a SCHEDULED shipment after its rollback
	// ended.
	UncancelledShipment = "UNCANCELLED_SHIPMENT"
	// SagaOrderMismatch: a Completed saga's order is not CONFIRMED, or a Compensated saga's
	// order is neither CANCELLED nor absent.
	SagaOrderMismatch = "SAGA_ORDER_MISMATCH"
	// SagaFailed: a compensation gave up; a person must act, then retry the saga.
	SagaFailed = "SAGA_FAILED"
	// MissingCancellationNotice: a cancelled order has no ORDER_CANCELLED notification
	// (best effort, so only info).
	MissingCancellationNotice = "MISSING_CANCELLATION_NOTICE"
	// DuplicatePayment, DuplicateReservation and DuplicateShipment: an order has more than
	// one live capture, reservation or shipment (an effect happened twice).
	DuplicatePayment     = "DUPLICATE_PAYMENT"
	DuplicateReservation = "DUPLICATE_RESERVATION"
	DuplicateShipment    = "DUPLICATE_SHIPMENT"
)

// Options tune the time-based rules. The zero value uses the defaults.
type Options struct {
	// LongRunning is how long a saga may stay non-terminal before LONG_RUNNING_SAGA; 0 means 10m.
	LongRunning time.Duration
	// Settle is how long an order without a known saga counts as in flight after its last
	// change (its saga may have been created after the sagas were read, or be in another
	// namespace); the notification rules skip it meanwhile, and so do the rules of an undone
	// order, since a rollback cancels the order before it undoes the rest. 0 means 1m.
	Settle time.Duration
}

// Defaults of Options.
const (
	DefaultLongRunning = 10 * time.Minute
	DefaultSettle      = time.Minute
)

func (o Options) withDefaults() Options {
	if o.LongRunning <= 0 {
		o.LongRunning = DefaultLongRunning
	}
	if o.Settle <= 0 {
		o.Settle = DefaultSettle
	}
	return o
}

// Counts is the number of findings per severity.
type Counts struct {
	Critical int `json:"critical"`
	Warning  int `json:"warning"`
	Info     int `json:"info"`
}

// Count returns the number of findings per severity.
func Count(findings []Finding) Counts {
	var c Counts
	for _, f := range findings {
		switch f.Severity {
		case Critical:
			c.Critical++
		case Warning:
			c.Warning++
		default:
			c.Info++
		}
	}
	return c
}

// sortFindings orders findings most urgent first, then by rule and object, so that
// equal snapshots give equal reports.
func sortFindings(fs []Finding) {
	slices.SortFunc(fs, func(a, b Finding) int {
		return cmp.Or(cmp.Compare(a.Severity.rank(), b.Severity.rank()), cmp.Compare(a.Rule, b.Rule),
			cmp.Compare(a.Object, b.Object), cmp.Compare(a.Message, b.Message))
	})
}
