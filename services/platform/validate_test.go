package platform

import (
	"testing"

	"github.com/ordersaga/ordersaga/internal/limits"
)

// TestItemsAnswerTheFirstFailureInRequestOrder checks the item rules the order, inventory
// and shipping services share, and that the answer names the first bad field.
func TestItemsAnswerTheFirstFailureInRequestOrder(t *testing.T) {
	type item struct {
		id  string
		qty int
	}
	for name, tc := range map[string]struct {
		items []item
		field string
	}{
		"Valid":            {[]item{{"A", 1}, {"B", limits.MaxQuantity}}, ""},
		"None":             {nil, "items"},
		"TooMany":          {make([]item, limits.MaxItems+1), "items"},
		"NoProduct":        {[]item{{"A", 1}, {"", 1}}, "items[1].productId"},
		"LongProduct":      {[]item{{string(make([]byte, limits.MaxProductIDLen+1)), 1}}, "items[0].productId"},
		"DuplicateProduct": {[]item{{"A", 1}, {"A", 1}}, "items[1].productId"},
		"ZeroQuantity":     {[]item{{"A", 0}, {"B", 1}}, "items[0].quantity"},
		"HugeQuantity":     {[]item{{"A", 1}, {"B", limits.MaxQuantity + 1}}, "items[1].quantity"},
		"EarlierItemFirst": {[]item{{"A", 0}, {"", 1}}, "items[0].quantity"},
		"ProductBeforeQty": {[]item{{"", 0}}, "items[0].productId"},
		"CountBeforeItems": {append(make([]item, limits.MaxItems), item{"", 0}), "items"},
	} {
		var v Validator
		v.ItemCount(len(tc.items))
		seen := map[string]bool{}
		for i, it := range tc.items {
			v.Item(i, it.id, it.qty, seen)
		}
		field := ""
		if e := v.Err(); e != nil {
			field = e.Field
		}
		if field != tc.field {
			t.Errorf("%s: failure names %q, want %q (%v)", name, field, tc.field, v.Err())
		}
	}
}

func TestCurrencyDefaultsToUSD(t *testing.T) {
	for in, want := range map[string]struct {
		currency string
		ok       bool
	}{"": {"USD", true}, "EUR": {"EUR", true}, "usd": {"usd", false}, "EURO": {"EURO", false}} {
		var v Validator
		if got := v.Currency("currency", in); got != want.currency || (v.Err() == nil) != want.ok {
			t.Errorf("Currency(%q) = %q, %v; want %q, ok %v", in, got, v.Err(), want.currency, want.ok)
		}
		if e := v.Err(); e != nil && e.Field != "currency" {
			t.Errorf("Currency(%q) names %q, want currency", in, e.Field)
		}
	}
}
