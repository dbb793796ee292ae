package payment

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// FuzzCapture drives PUT /v1/payments/{paymentId} through the real decoder and validation
// with a stub store: no panic, no 5xx, nothing invalid let through.
func FuzzCapture(f *testing.F) {
	for _, s := range []string{`{"orderId":"ord-1","customerId":"c-1","amount":"1999.98","currency":"USD","method":"CREDIT_CARD"}`,
		`{"orderId":"o","customerId":"c","amount":"0","method":"PAYPAL"}`, `{"amount":1}`, `{"method":"CRYPTO"}`, `{}`,
		`{"orderId":"o","customerId":"c","amount":"99999999999","method":"PAYPAL"}`} {
		f.Add(s)
	}
	h := platformtest.FuzzServer(f, func(srv *platform.Server) {
		srv.Route("PUT /v1/payments/{paymentId}", platform.Create(srv, "paymentId", Normalize,
			func(_ context.Context, _ string, spec Spec, _ string) (platform.StoredResponse, bool, error) {
				if spec.Amount <= 0 || spec.Amount > platform.MaxMoney || !slices.Contains(Methods(), spec.Method) ||
					!platform.ValidCurrency(spec.Currency) || !platform.ValidID(spec.OrderID) || spec.CustomerID == "" {
					return platform.StoredResponse{}, false, platformtest.Broken("validation let through %+v", spec)
				}
				return platformtest.Created(), false, nil
			}))
	})
	f.Fuzz(func(t *testing.T, body string) {
		platformtest.Serve(t, h, http.MethodPut, "/v1/payments/pay-1", []byte(body))
	})
}
