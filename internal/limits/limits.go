// Package limits holds the field limits of an order in one place: what the OrderSaga CRD
// admits and what the services accept. It imports nothing, so that the services, the API
// tests and the step client's tests can all share it.
//
// The CRD's limits are kubebuilder markers, literals that cannot name these constants:
// api/v1alpha1's limits test reads the generated CRD and fails when a marker and a
// constant differ. The step client's contract test sends every request the client can
// build for specs at these limits through the services' own validation.
//
// Lengths count characters (Unicode code points), as the API server's maxLength and
// platform.Validator.String both do, not bytes. Money is in minor units (cents).
package limits

// Limits of spec.customerId and spec.items, which the order, inventory, payment, shipping
// and notification services all receive in some form.
const (
	// MaxCustomerIDLen bounds spec.customerId; it is at least one character.
	MaxCustomerIDLen = 64
	// MinItems and MaxItems bound the number of order lines.
	MinItems = 1
	MaxItems = 50
	// MaxProductIDLen bounds items[].productId; it is at least one character.
	MaxProductIDLen = 64
	// MinQuantity and MaxQuantity bound items[].quantity.
	MinQuantity = 1
	MaxQuantity = 1000
)

// Limits of money. The CRD bounds a unit price by its pattern; the services bound every
// amount by MaxMoney.
const (
	// UnitPricePattern is the CRD's pattern of items[].unitPrice: up to nine integer
	// digits and at most two decimals. The CRD also refuses zero.
	UnitPricePattern = `^[0-9]{1,9}(\.[0-9]{1,2})?$`
	// MaxUnitPrice is the largest unit price UnitPricePattern admits (999,999,999.99).
	MaxUnitPrice int64 = 999_999_999_99
	// MaxOrderTotal is the largest order total the CRD admits: every line at MaxQuantity
	// and MaxUnitPrice (49,999,999,999,500.00).
	MaxOrderTotal = MaxItems * MaxQuantity * MaxUnitPrice
	// MaxMoney is the largest amount the services accept: a unit price, a payment
	// amount, a notice's total. It is MaxOrderTotal, so that every valid saga's payment
	// and notices are accepted; platform.MaxMoney is this value.
	MaxMoney int64 = MaxOrderTotal
)

// Patterns of codes and text.
const (
	// PrintablePattern admits text without control characters (U+0000-U+001F, U+007F),
	// which every service refuses in free text: customerId and the address fields.
	PrintablePattern = `^[^\x00-\x1F\x7F]*$`
	// CurrencyPattern is an ISO 4217 currency code (spec.currency).
	CurrencyPattern = `^[A-Z]{3}$`
	// CountryPattern is an ISO 3166-1 alpha-2 country code (spec.shipping.address.country).
	CountryPattern = `^[A-Z]{2}$`
)

// Limits of spec.shipping.address. Name, line1, city and postalCode are at least one
// character; line2 and region may be empty.
//
// Caveats: the shipping service accepts longer fields than these (see its api.go).
const (
	MaxAddressNameLen       = 100
	MaxAddressLine1Len      = 200
	MaxAddressLine2Len      = 200
	MaxAddressCityLen       = 100
	MaxAddressRegionLen     = 100
	MaxAddressPostalCodeLen = 20
)

// Limits the services set on what the step client derives from a saga rather than copies
// from its spec.
const (
	// MaxIDLen bounds a client-assigned resource ID in a path ("ord-<uid>").
	MaxIDLen = 128
	// MaxReasonLen bounds the optional reason of a state transition (cancel, release,
	// refund).
	MaxReasonLen = 256
	// MaxNotificationDataLen bounds each value of a notification's template data (the
	// total, the tracking number); a value is at least one character.
	MaxNotificationDataLen = 256
)
