package graph

import (
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
	"github.com/ordersaga/ordersaga/internal/limits"
)

// The CRD's own patterns (api/v1alpha1 markers), checked here so that a bad order is
// refused with its field named before the API server is asked.
var (
	printable  = regexp.MustCompile(limits.PrintablePattern)
	currency   = regexp.MustCompile(limits.CurrencyPattern)
	country    = regexp.MustCompile(limits.CountryPattern)
	unitPrice  = regexp.MustCompile(limits.UnitPricePattern)
	productID  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
	zeroAmount = regexp.MustCompile(`^[0.]+$`)
)

// maxIdempotencyKeyLen bounds the key, which is kept in an annotation.
const maxIdempotencyKeyLen = 128

// validator collects the first error of each field, in the order the fields are checked.
type validator struct{ errs []error }

func (v *validator) failf(field, format string, args ...any) {
	v.errs = append(v.errs, fieldError(field, format, args...))
}

func (v *validator) text(field, value string, minLen, maxLen int) {
	n := utf8.RuneCountInString(value)
	switch {
	case n < minLen:
		v.failf(field, "is required")
	case n > maxLen:
		v.failf(field, "is %d characters long; at most %d are allowed", n, maxLen)
	case !printable.MatchString(value):
		v.failf(field, "must not contain control characters")
	}
}

func (v *validator) optionalText(field string, value *string, maxLen int) {
	if value != nil && *value != "" {
		v.text(field, *value, 0, maxLen)
	}
}

func validatePlaceOrder(in model.PlaceOrderInput, idempotencyKey string) []error {
	var v validator
	v.text("idempotencyKey", idempotencyKey, 1, maxIdempotencyKeyLen)
	v.text("input.customerId", in.CustomerID, 1, limits.MaxCustomerIDLen)
	switch n := len(in.Items); {
	case n < limits.MinItems:
		v.failf("input.items", "must have at least %d line", limits.MinItems)
	case n > limits.MaxItems:
		v.failf("input.items", "has %d lines; at most %d are allowed", n, limits.MaxItems)
	}
	seen := map[string]int{}
	for i, item := range in.Items {
		at := fmt.Sprintf("input.items[%d]", i)
		validateItem(&v, at, item)
		if first, dup := seen[item.ProductID]; dup {
			v.failf(at+".productId", "%q is already ordered in input.items[%d]; order each product once", item.ProductID, first)
		} else {
			seen[item.ProductID] = i
		}
	}
	if in.Currency != nil && !currency.MatchString(*in.Currency) {
		v.failf("input.currency", "must be three capital letters (ISO 4217), e.g. USD")
	}
	if !in.PaymentMethod.IsValid() {
		v.failf("input.paymentMethod", "is not one of %s", strings.Join(enumNames(model.AllPaymentMethod), ", "))
	}
	if in.Shipping == nil || in.Shipping.Address == nil {
		v.failf("input.shipping.address", "is required")
		return v.errs
	}
	a := in.Shipping.Address
	v.text("input.shipping.address.name", a.Name, 1, limits.MaxAddressNameLen)
	v.text("input.shipping.address.line1", a.Line1, 1, limits.MaxAddressLine1Len)
	v.optionalText("input.shipping.address.line2", a.Line2, limits.MaxAddressLine2Len)
	v.text("input.shipping.address.city", a.City, 1, limits.MaxAddressCityLen)
	v.optionalText("input.shipping.address.region", a.Region, limits.MaxAddressRegionLen)
	v.text("input.shipping.address.postalCode", a.PostalCode, 1, limits.MaxAddressPostalCodeLen)
	if !country.MatchString(a.Country) {
		v.failf("input.shipping.address.country", "must be two capital letters (ISO 3166-1 alpha-2), e.g. DE")
	}
	return v.errs
}

func validateItem(v *validator, at string, item *model.OrderItemInput) {
	switch {
	case item.ProductID == "":
		v.failf(at+".productId", "is required")
	case len(item.ProductID) > limits.MaxProductIDLen:
		v.failf(at+".productId", "is %d characters long; at most %d are allowed", len(item.ProductID), limits.MaxProductIDLen)
	case !productID.MatchString(item.ProductID):
		v.failf(at+".productId", "must start with a letter or digit and hold only letters, digits, '.', '_' and '-'")
	}
	if item.Quantity < limits.MinQuantity || item.Quantity > limits.MaxQuantity {
		v.failf(at+".quantity", "is %d; it must be between %d and %d", item.Quantity, limits.MinQuantity, limits.MaxQuantity)
	}
	switch {
	case !unitPrice.MatchString(item.UnitPrice):
		v.failf(at+".unitPrice", "%q is not a decimal amount with at most 9 digits before and 2 after the point, e.g. \"19.99\"", item.UnitPrice)
	case zeroAmount.MatchString(item.UnitPrice):
		v.failf(at+".unitPrice", "must be greater than 0")
	}
}

func enumNames[T ~string](all []T) []string {
	out := make([]string, len(all))
	for i, e := range all {
		out[i] = string(e)
	}
	return out
}
