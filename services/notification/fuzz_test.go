package notification

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// FuzzSend drives PUT /v1/notifications/{notificationId} through the real decoder,
// validation and templates with a stub store: no panic, no 5xx.
func FuzzSend(f *testing.F) {
	for _, s := range []string{`{"orderId":"ord-1","customerId":"c-1","type":"ORDER_CONFIRMED","data":{"total":"1.00","trackingNumber":"1Z"}}`,
		`{"orderId":"o","customerId":"c","type":"ORDER_CANCELLED","data":{"reason":"{{.}}"}}`, `{"data":{"x":"y"}}`,
		`{"type":"order_confirmation"}`, `{"data":[]}`, `{}`} {
		f.Add(s)
	}
	render := NewRenderer()
	h := platformtest.FuzzServer(f, func(srv *platform.Server) {
		srv.Route("PUT /v1/notifications/{notificationId}", platform.Create(srv, "notificationId", Normalize,
			func(_ context.Context, _ string, spec CreateRequest, _ string) (platform.StoredResponse, bool, error) {
				for k := range spec.Data {
					if !slices.Contains(DataKeys(), k) {
						return platform.StoredResponse{}, false, platformtest.Broken("unknown data key %q let through", k)
					}
				}
				if _, _, err := render.Render(spec); err != nil {
					return platform.StoredResponse{}, false, platformtest.Broken("render: %v", err)
				}
				return platformtest.Created(), false, nil
			}))
	})
	f.Fuzz(func(t *testing.T, body string) {
		platformtest.Serve(t, h, http.MethodPut, "/v1/notifications/ntf-1", []byte(body))
	})
}
