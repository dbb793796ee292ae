package ordersaga

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func TestParseMinor(t *testing.T) {
	type want struct {
		minor int64
		err   error
	}
	cases := map[string]struct {
		reason string
		s      string
		want   want
	}{
		"Whole":             {reason: "No decimals.", s: "5", want: want{minor: 500}},
		"OneDecimal":        {reason: "One decimal is tenths.", s: "999.9", want: want{minor: 99990}},
		"TwoDecimals":       {reason: "Two decimals.", s: "999.99", want: want{minor: 99999}},
		"Cent":              {reason: "Smallest amount.", s: "0.01", want: want{minor: 1}},
		"Zero":              {reason: "Zero parses (the CRD refuses it, not the parser).", s: "0.00", want: want{minor: 0}},
		"LeadingZeros":      {reason: "Leading zeros are harmless.", s: "007.50", want: want{minor: 750}},
		"LargestCRDPrice":   {reason: "The largest price the CRD pattern allows.", s: "999999999.99", want: want{minor: 99999999999}},
		"ThreeDecimals":     {reason: "More than two decimals is refused, never rounded.", s: "1.999", want: want{err: cmpopts.AnyError}},
		"Empty":             {reason: "Empty is refused.", s: "", want: want{err: cmpopts.AnyError}},
		"Letters":           {reason: "Letters are refused.", s: "abc", want: want{err: cmpopts.AnyError}},
		"NoWholePart":       {reason: "A leading dot is refused.", s: ".5", want: want{err: cmpopts.AnyError}},
		"TrailingDot":       {reason: "A trailing dot is refused.", s: "5.", want: want{err: cmpopts.AnyError}},
		"Negative":          {reason: "A sign is refused.", s: "-5.00", want: want{err: cmpopts.AnyError}},
		"Plus":              {reason: "A sign is refused.", s: "+5", want: want{err: cmpopts.AnyError}},
		"Spaces":            {reason: "Spaces are refused.", s: " 5", want: want{err: cmpopts.AnyError}},
		"Exponent":          {reason: "Float syntax is refused.", s: "1e3", want: want{err: cmpopts.AnyError}},
		"Underscore":        {reason: "Go digit separators are refused.", s: "1_000", want: want{err: cmpopts.AnyError}},
		"TwoDots":           {reason: "Two dots are refused.", s: "1.2.3", want: want{err: cmpopts.AnyError}},
		"NegativeFraction":  {reason: "A sign after the dot is refused.", s: "1.-5", want: want{err: cmpopts.AnyError}},
		"Overflow":          {reason: "An amount past int64 minor units is refused.", s: "92233720368547758.08", want: want{err: cmpopts.AnyError}},
		"LargestRepresents": {reason: "The largest amount int64 minor units hold.", s: "92233720368547758.07", want: want{minor: 9223372036854775807}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			minor, err := ParseMinor(tc.s)
			if diff := cmp.Diff(tc.want.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("\nReason: %s\nParseMinor(%q): -want error, +got error:\n%s", tc.reason, tc.s, diff)
			}
			if diff := cmp.Diff(tc.want.minor, minor); diff != "" {
				t.Errorf("\nReason: %s\nParseMinor(%q): -want, +got:\n%s", tc.reason, tc.s, diff)
			}
		})
	}
}

func TestFormatMinor(t *testing.T) {
	cases := map[string]struct {
		reason string
		minor  int64
		want   string
	}{
		"Zero":        {reason: "Two decimals always.", minor: 0, want: "0.00"},
		"Cent":        {reason: "Pads the cents.", minor: 1, want: "0.01"},
		"Tenths":      {reason: "Keeps a trailing zero.", minor: 99990, want: "999.90"},
		"Whole":       {reason: "Whole amounts get .00.", minor: 500, want: "5.00"},
		"Large":       {reason: "Large amounts.", minor: 199998, want: "1999.98"},
		"RoundTrip":   {reason: "ParseMinor's largest value formats back.", minor: 9223372036854775807, want: "92233720368547758.07"},
		"NegativeCts": {reason: "A negative amount keeps one sign.", minor: -150, want: "-1.50"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			diff := cmp.Diff(tc.want, FormatMinor(tc.minor))
			if diff != "" {
				t.Errorf("\nReason: %s\nFormatMinor(%d): -want, +got:\n%s", tc.reason, tc.minor, diff)
			}
		})
	}
}

func TestTotal(t *testing.T) {
	type want struct {
		total string
		err   error
	}
	item := func(q int32, price string) v1.OrderItem {
		return v1.OrderItem{ProductID: "P-" + price, Quantity: q, UnitPrice: price}
	}
	cases := map[string]struct {
		reason string
		items  []v1.OrderItem
		want   want
	}{
		"OneItem":        {reason: "Price times quantity.", items: []v1.OrderItem{item(1, "999.99")}, want: want{total: "999.99"}},
		"NoFloatDrift":   {reason: "0.1 + 0.2 is exactly 0.30 in minor units.", items: []v1.OrderItem{item(1, "0.1"), item(1, "0.2")}, want: want{total: "0.30"}},
		"Quantities":     {reason: "Quantities multiply.", items: []v1.OrderItem{item(2, "999.99"), item(3, "0.01")}, want: want{total: "2000.01"}},
		"ManyCents":      {reason: "1000 × 0.01 = 10.00.", items: []v1.OrderItem{item(1000, "0.01")}, want: want{total: "10.00"}},
		"LargestOrder":   {reason: "50 lines × 1000 × 999999999.99 fits.", items: largestOrder(), want: want{total: "49999999999500.00"}},
		"NoItems":        {reason: "No lines total zero.", items: nil, want: want{total: "0.00"}},
		"BadPrice":       {reason: "A bad price names its line.", items: []v1.OrderItem{item(1, "1.00"), item(1, "1.999")}, want: want{err: cmpopts.AnyError}},
		"EmptyPrice":     {reason: "An empty price is refused.", items: []v1.OrderItem{item(1, "")}, want: want{err: cmpopts.AnyError}},
		"LeadingDot":     {reason: "'.5' is refused.", items: []v1.OrderItem{item(1, ".5")}, want: want{err: cmpopts.AnyError}},
		"TrailingDot":    {reason: "'5.' is refused.", items: []v1.OrderItem{item(1, "5.")}, want: want{err: cmpopts.AnyError}},
		"LettersRefused": {reason: "'abc' is refused.", items: []v1.OrderItem{item(1, "abc")}, want: want{err: cmpopts.AnyError}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			total, err := Total(tc.items)
			if diff := cmp.Diff(tc.want.err, err, cmpopts.EquateErrors()); diff != "" {
				t.Errorf("\nReason: %s\nTotal(...): -want error, +got error:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want.total, total); diff != "" {
				t.Errorf("\nReason: %s\nTotal(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestTotalErrorNamesTheLine checks that the error names the item, as the CRD's would.
func TestTotalErrorNamesTheLine(t *testing.T) {
	_, err := Total([]v1.OrderItem{{ProductID: "A", Quantity: 1, UnitPrice: "1.00"}, {ProductID: "B", Quantity: 1, UnitPrice: "1.999"}})
	want := `items[1].unitPrice: parse amount "1.999": want digits with at most two decimals`
	if err == nil || err.Error() != want {
		t.Errorf("Total(...) error = %v, want %q", err, want)
	}
}

func largestOrder() []v1.OrderItem {
	items := make([]v1.OrderItem, 50)
	for i := range items {
		items[i] = v1.OrderItem{ProductID: string(rune('A' + i)), Quantity: 1000, UnitPrice: "999999999.99"}
	}
	return items
}
