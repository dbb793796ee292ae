package shipping

import (
	"testing"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// newFixture serves the shipping service to the default countries.
func newFixture(t testing.TB) platformtest.Fixture[*Service] {
	t.Helper()
	return platformtest.NewFixture(t, "shipping", Register, Config{Now: platformtest.T0})
}

func shipmentBody(method, country string) map[string]any {
	return map[string]any{
		"orderId": "ord-1",
		"method":  method,
		"address": map[string]any{"name": "Ada Lovelace", "line1": "12 Example Street", "city": "London",
			"postalCode": "N1 9GU", "country": country},
		"items": []any{map[string]any{"productId": "LAP-001", "quantity": 1}},
	}
}
