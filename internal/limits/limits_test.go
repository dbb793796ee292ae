package limits_test

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/ordersaga/ordersaga/internal/limits"
)

func decimal(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// TestMaxUnitPriceIsLargestOfPattern holds MaxUnitPrice to UnitPricePattern: the pattern
// admits it and nothing larger.
func TestMaxUnitPriceIsLargestOfPattern(t *testing.T) {
	pattern := regexp.MustCompile(limits.UnitPricePattern)
	largest := decimal(limits.MaxUnitPrice)
	if !pattern.MatchString(largest) {
		t.Errorf("UnitPricePattern %s refuses MaxUnitPrice %s", limits.UnitPricePattern, largest)
	}
	for _, above := range []string{decimal(limits.MaxUnitPrice + 1), largest + "9", "1" + largest} {
		if pattern.MatchString(above) {
			t.Errorf("UnitPricePattern %s admits %s, above MaxUnitPrice %s", limits.UnitPricePattern, above, largest)
		}
	}
}

// TestMaxOrderTotal checks the derived total against its documented value.
func TestMaxOrderTotal(t *testing.T) {
	if got, want := decimal(limits.MaxOrderTotal), "49999999999500.00"; got != want {
		t.Errorf("MaxOrderTotal = %s, want %s", got, want)
	}
}

// TestPatternsCompile checks every pattern constant.
func TestPatternsCompile(t *testing.T) {
	for _, p := range []string{limits.UnitPricePattern, limits.CurrencyPattern, limits.CountryPattern} {
		if _, err := regexp.Compile(p); err != nil {
			t.Errorf("pattern %s: %v", p, err)
		}
	}
}
