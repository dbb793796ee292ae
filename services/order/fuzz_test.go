package order

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// FuzzCreateOrder drives PUT /v1/orders/{orderId} through the real decoder and validation
// (the store is a stub that checks what validation let through): no panic, no 5xx.
func FuzzCreateOrder(f *testing.F) {
	seed, err := json.Marshal(laptopOrder())
	if err != nil {
		f.Fatalf("encode the seed: %v", err)
	}
	for _, s := range []string{string(seed), `{}`, `{"customerId":"c","items":[{"productId":"p","quantity":1,"unitPrice":"0.01"}]}`,
		`{"customerId":"c","items":[{"productId":"p","quantity":1001,"unitPrice":"1"}]}`, `{"items":[{"unitPrice":1.5}]}`,
		`{"customerId":"c","currency":"usd","items":[]}`, `[]`, `{"customerId":"c"}{}`, "{\"customerId\":\"\x00\"}"} {
		f.Add(s)
	}
	h := platformtest.FuzzServer(f, func(srv *platform.Server) {
		srv.Route("PUT /v1/orders/{orderId}", platform.Create(srv, "orderId", Normalize, checkSpec))
	})
	f.Fuzz(func(t *testing.T, body string) {
		platformtest.Serve(t, h, http.MethodPut, "/v1/orders/ord-1", []byte(body))
	})
}

func checkSpec(_ context.Context, _ string, spec Spec, _ string) (platform.StoredResponse, bool, error) {
	if len(spec.Items) < 1 || len(spec.Items) > limits.MaxItems || !platform.ValidCurrency(spec.Currency) || spec.CustomerID == "" {
		return platform.StoredResponse{}, false, platformtest.Broken("validation let through %+v", spec)
	}
	seen := map[string]bool{}
	for _, l := range spec.Items {
		if l.Quantity < 1 || l.Quantity > limits.MaxQuantity || l.UnitPrice <= 0 || l.UnitPrice > platform.MaxMoney || seen[l.ProductID] {
			return platform.StoredResponse{}, false, platformtest.Broken("validation let through line %+v", l)
		}
		seen[l.ProductID] = true
	}
	return platformtest.Created(), false, nil
}
