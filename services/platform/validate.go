package platform

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/ordersaga/ordersaga/internal/limits"
)

// idPattern admits IDs of 1 to limits.MaxIDLen characters.
var idPattern = regexp.MustCompile(fmt.Sprintf(`^[A-Za-z0-9][A-Za-z0-9._-]{0,%d}$`, limits.MaxIDLen-1))

// ValidID reports whether s is a valid client-assigned resource ID.
func ValidID(s string) bool { return idPattern.MatchString(s) }

// currencyPattern admits ISO 4217 codes, as the CRD does.
var currencyPattern = regexp.MustCompile(limits.CurrencyPattern)

// ValidCurrency reports whether s is an ISO 4217 currency code.
func ValidCurrency(s string) bool { return currencyPattern.MatchString(s) }

// PathID returns the path value name (for example "orderId") when it is a valid ID, else a
// 400 naming it.
func PathID(r *http.Request, name string) (string, *APIError) {
	id := r.PathValue(name)
	if !ValidID(id) {
		return "", Invalid(name, "must match %s", idPattern.String())
	}
	return id, nil
}

// Validator collects the first validation failure; later checks are skipped, so that each
// answer names one field, the first in request order.
type Validator struct {
	err *APIError
}

// Err returns the first failure, or nil.
func (v *Validator) Err() *APIError { return v.err }

// Checkf records a failure for field unless ok; format and args make its message.
func (v *Validator) Checkf(ok bool, field, format string, args ...any) {
	if v.err == nil && !ok {
		v.err = Invalid(field, format, args...)
	}
}

// String checks that s has between lo and hi characters and is valid UTF-8 without
// control characters.
func (v *Validator) String(field, s string, lo, hi int) {
	n := utf8.RuneCountInString(s)
	switch {
	case n == 0 && lo > 0:
		v.Checkf(false, field, "is required")
	case n < lo || n > hi:
		v.Checkf(false, field, "must be %d to %d characters long", lo, hi)
	default:
		v.Checkf(printable(s), field, "must be valid UTF-8 without control characters")
	}
}

// ID checks that s is a valid resource ID.
func (v *Validator) ID(field, s string) {
	if s == "" {
		v.Checkf(false, field, "is required")
		return
	}
	v.Checkf(ValidID(s), field, "must match %s", idPattern.String())
}

// OneOf checks that s is one of allowed.
func (v *Validator) OneOf(field, s string, allowed ...string) {
	if slices.Contains(allowed, s) {
		return
	}
	v.Checkf(false, field, "must be one of %v", allowed)
}

// Money parses s as an amount greater than zero and at most MaxMoney.
func (v *Validator) Money(field, s string) Money {
	if v.err != nil {
		return 0
	}
	m, err := ParseMoney(s)
	switch {
	case s == "":
		v.Checkf(false, field, "is required")
	case err != nil:
		v.Checkf(false, field, "%v", err)
	default:
		v.Checkf(m > 0 && m <= MaxMoney, field, "must be greater than 0 and at most %s", MaxMoney)
	}
	return m
}

// Currency checks the currency s of an order or a payment and returns it; an empty one is
// USD, the CRD's default.
func (v *Validator) Currency(field, s string) string {
	if s == "" {
		s = "USD"
	}
	v.Checkf(ValidCurrency(s), field, "must be three capital letters (ISO 4217)")
	return s
}

// ItemCount checks that a request's "items" holds limits.MinItems to limits.MaxItems items.
func (v *Validator) ItemCount(n int) {
	v.Checkf(n >= limits.MinItems && n <= limits.MaxItems, "items", "must hold %d to %d items", limits.MinItems, limits.MaxItems)
}

// Item checks items[i] of a request (orders, reservations and shipments list their items
// alike): a productId of 1 to limits.MaxProductIDLen characters that no earlier item named
// (seen collects them) and a quantity of limits.MinQuantity to limits.MaxQuantity.
func (v *Validator) Item(i int, productID string, quantity int, seen map[string]bool) {
	v.String(Field("items", i, "productId"), productID, 1, limits.MaxProductIDLen)
	v.Checkf(!seen[productID], Field("items", i, "productId"), "duplicates an earlier item's productId")
	seen[productID] = true
	v.Checkf(quantity >= limits.MinQuantity && quantity <= limits.MaxQuantity, Field("items", i, "quantity"),
		"must be %d to %d", limits.MinQuantity, limits.MaxQuantity)
}

// Field formats an indexed field path such as "items[2].quantity".
func Field(list string, i int, name string) string {
	return fmt.Sprintf("%s[%d].%s", list, i, name)
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// Timestamp formats t as UTC RFC 3339 with second precision, the wire format of every time.
func Timestamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// Now returns clock() in UTC truncated to whole seconds (Mongo stores milliseconds; the
// wire shows seconds), so that a stored document renders exactly like the first response.
func Now(clock func() time.Time) time.Time {
	if clock == nil {
		clock = time.Now
	}
	return clock().UTC().Truncate(time.Second)
}
