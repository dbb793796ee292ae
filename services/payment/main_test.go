package payment

import (
	"testing"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// newFixture serves the payment service with the default limit and PAYPAL declined.
func newFixture(t testing.TB) platformtest.Fixture[*Service] {
	t.Helper()
	rules := Rules{DeclineAbove: DefaultDeclineAbove, DeclinedMethods: []string{"PAYPAL"}}
	return platformtest.NewFixture(t, "payment", Register, Config{Rules: rules, Now: platformtest.T0})
}

func paymentBody(amount, method string) map[string]any {
	return map[string]any{"orderId": "ord-1", "customerId": "c-1", "amount": amount, "currency": "USD", "method": method}
}
