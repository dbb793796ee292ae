package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/ordersaga/ordersaga/internal/limits"
)

// Money is an amount in minor units (cents). It is stored as an integer and travels on the
// wire as a decimal string with exactly two decimals ("1999.98"), so that no float ever
// touches a price.
type Money int64

// MaxMoney bounds parsed amounts: the largest order total the CRD admits
// (49,999,999,999,500.00: 50 lines of 1,000 units at 999,999,999.99), far from int64
// overflow. A smaller bound would refuse the payment or the notices of a valid saga.
const MaxMoney = Money(limits.MaxMoney)

var moneyPattern = regexp.MustCompile(`^[0-9]{1,14}(\.[0-9]{1,2})?$`)

// ParseMoney parses a non-negative decimal string with at most two decimals.
func ParseMoney(s string) (Money, error) {
	if !moneyPattern.MatchString(s) {
		return 0, errors.New(`must be a decimal string with at most 2 decimals, such as "999.99"`)
	}
	whole, frac, _ := strings.Cut(s, ".")
	for len(frac) < 2 {
		frac += "0"
	}
	// The pattern bounds both parts, so neither conversion can fail or overflow.
	w, _ := strconv.ParseInt(whole, 10, 64)
	f, _ := strconv.ParseInt(frac, 10, 64)
	if m := Money(w*100 + f); m <= MaxMoney {
		return m, nil
	}
	return 0, fmt.Errorf("must be at most %s", MaxMoney)
}

// String formats m as a decimal string with two decimals.
func (m Money) String() string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(m)/100, int64(m)%100)
}

// MarshalJSON encodes m as a decimal string. String yields only digits, "-" and ".", which
// need no escaping, so quoting is the whole encoding.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(m.String())), nil
}

// UnmarshalJSON decodes a decimal string; it exists so that Money round-trips in tests and
// clients, request types use plain strings so that validation can name the field.
func (m *Money) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("money: %w", err)
	}
	v, err := ParseMoney(s)
	if err != nil {
		return fmt.Errorf("money %q: %w", s, err)
	}
	*m = v
	return nil
}
