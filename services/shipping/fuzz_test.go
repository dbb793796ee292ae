package shipping

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// FuzzSchedule drives PUT /v1/shipments/{shipmentId} through the real decoder and
// validation with a stub store: no panic, no 5xx, nothing invalid let through.
func FuzzSchedule(f *testing.F) {
	seed, err := json.Marshal(shipmentBody("EXPRESS", "GB"))
	if err != nil {
		f.Fatalf("encode the seed: %v", err)
	}
	for _, s := range []string{string(seed), `{}`, `{"address":"x"}`, `{"address":{"country":"gb"}}`,
		`{"orderId":"o","method":"PICKUP"}`, `{"items":[{"quantity":0}]}`} {
		f.Add(s)
	}
	h := platformtest.FuzzServer(f, func(srv *platform.Server) {
		srv.Route("PUT /v1/shipments/{shipmentId}", platform.Create(srv, "shipmentId", Normalize,
			func(_ context.Context, _ string, spec CreateRequest, _ string) (platform.StoredResponse, bool, error) {
				_, known := CarrierFor(spec.Method)
				if !known || !countryPattern.MatchString(spec.Address.Country) || spec.Address.City == "" || len(spec.Items) == 0 {
					return platform.StoredResponse{}, false, platformtest.Broken("validation let through %+v", spec)
				}
				return platformtest.Created(), false, nil
			}))
	})
	f.Fuzz(func(t *testing.T, body string) {
		platformtest.Serve(t, h, http.MethodPut, "/v1/shipments/shp-1", []byte(body))
	})
}
