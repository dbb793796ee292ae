package notification

import (
	"testing"

	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

func TestMain(m *testing.M) { platformtest.Main(m) }

// newFixture serves the notification service; deliveries to customer "c-bounce" fail.
func newFixture(t testing.TB) platformtest.Fixture[*Service] {
	t.Helper()
	cfg := Config{Delivery: Delivery{FailCustomers: []string{"c-bounce"}}, Now: platformtest.T0}
	return platformtest.NewFixture(t, "notification", Register, cfg)
}

func notificationBody(customer, typ string, data map[string]string) map[string]any {
	return map[string]any{"orderId": "ord-1", "customerId": customer, "type": typ, "data": data}
}
