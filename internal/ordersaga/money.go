package ordersaga

import (
	"fmt"
	"strconv"
	"strings"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// ParseMinor parses a decimal string with at most two decimals ("999.9") into minor
// units (99990). Money never passes through a float.
func ParseMinor(s string) (int64, error) {
	whole, frac, hasFrac := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || (hasFrac && frac == "") {
		return 0, fmt.Errorf("parse amount %q: want digits with at most two decimals", s)
	}
	frac += strings.Repeat("0", 2-len(frac))
	units, err := strconv.ParseUint(whole+frac, 10, 63)
	if err != nil {
		return 0, fmt.Errorf("parse amount %q: %w", s, err)
	}
	return int64(units), nil
}

// FormatMinor renders minor units as a decimal string with two decimals.
func FormatMinor(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}

// Total returns the order total of items as a decimal string.
func Total(items []v1.OrderItem) (string, error) {
	var sum int64
	for i, it := range items {
		price, err := ParseMinor(it.UnitPrice)
		if err != nil {
			return "", fmt.Errorf("items[%d].unitPrice: %w", i, err)
		}
		sum += price * int64(it.Quantity)
	}
	return FormatMinor(sum), nil
}
