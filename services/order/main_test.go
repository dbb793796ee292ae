package order

import (
	"testing"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// newFixture serves the order service.
func newFixture(t testing.TB) platformtest.Fixture[*Service] {
	t.Helper()
	return platformtest.NewFixture(t, "order", Register, Config{Now: platformtest.T0})
}

func laptopOrder() map[string]any {
	return map[string]any{
		"customerId": "c-1",
		"currency":   "USD",
		"items": []any{
			map[string]any{"productId": "LAP-001", "quantity": 2, "unitPrice": "999.99"},
			map[string]any{"productId": "PHN-001", "quantity": 1, "unitPrice": "699.9"},
		},
	}
}
