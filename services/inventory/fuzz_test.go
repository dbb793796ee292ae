package inventory

import (
	"context"
	"net/http"
	"testing"

	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// FuzzReserve drives PUT /v1/reservations/{reservationId} through the real decoder and
// validation with a stub store: no panic, no 5xx, nothing invalid let through.
func FuzzReserve(f *testing.F) {
	for _, s := range []string{`{"orderId":"ord-1","items":[{"productId":"LAP-001","quantity":2}]}`, `{}`,
		`{"orderId":"o","items":[{"productId":"a","quantity":1},{"productId":"a","quantity":1}]}`,
		`{"orderId":"o","items":[{"productId":"a","quantity":-1}]}`, `{"orderId":"o b","items":[]}`,
		`{"orderId":"o","items":[{"productId":"a","quantity":"1"}]}`, `{"orderId":"o","items":[{"productId":"a","quantity":1,"x":1}]}`} {
		f.Add(s)
	}
	h := platformtest.FuzzServer(f, func(srv *platform.Server) {
		srv.Route("PUT /v1/reservations/{reservationId}", platform.Create(srv, "reservationId", NormalizeReserve,
			func(_ context.Context, _ string, spec ReserveSpec, _ string) (platform.StoredResponse, bool, error) {
				if !platform.ValidID(spec.OrderID) || len(spec.Items) < 1 || len(spec.Items) > limits.MaxItems {
					return platform.StoredResponse{}, false, platformtest.Broken("validation let through %+v", spec)
				}
				seen := map[string]bool{}
				for _, it := range spec.Items {
					if it.Quantity < 1 || it.Quantity > limits.MaxQuantity || it.ProductID == "" || seen[it.ProductID] {
						return platform.StoredResponse{}, false, platformtest.Broken("validation let through %+v", it)
					}
					seen[it.ProductID] = true
				}
				return platformtest.Created(), false, nil
			}))
	})
	f.Fuzz(func(t *testing.T, body string) {
		platformtest.Serve(t, h, http.MethodPut, "/v1/reservations/res-1", []byte(body))
	})
}

// FuzzPutProduct covers the catalog upsert decoder and validation.
func FuzzPutProduct(f *testing.F) {
	for _, s := range []string{`{"name":"Laptop","price":"999.99","stock":50}`, `{"name":"x","price":"1","stock":0,"discontinued":true}`,
		`{"name":"","price":"0","stock":-1}`, `{"stock":1e99}`, `{"price":1}`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req ProductRequest
		e := platform.DecodeBytes(body, &req)
		if e == nil {
			var spec ProductSpec
			if spec, e = NormalizeProduct(req); e == nil && (spec.Stock < 0 || spec.Stock > maxStock || spec.Price <= 0 || spec.Name == "") {
				t.Fatalf("validation let through %+v", spec)
			}
		}
		if e != nil && (e.Status != http.StatusBadRequest || (e.Field == "" && e.Code == platform.CodeInvalidArgument)) {
			t.Fatalf("%q: %+v, want a 400 naming the field", body, e)
		}
	})
}
