package shipping

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestScheduleByMethod(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct{ carrier, delivery string }{
		"STANDARD":      {"USPS", "2026-12-03"},
		"EXPRESS":       {"UPS", "2026-12-01"},
		"TWO_DAY":       {"UPS", "2026-11-30"},
		"OVERNIGHT":     {"FedEx", "2026-11-29"},
		"INTERNATIONAL": {"DHL", "2026-12-08"},
	}
	for method, want := range cases {
		t.Run(method, func(t *testing.T) {
			id := "shp-" + method
			var got Shipment
			f.Do(http.MethodPut, "/v1/shipments/"+id, shipmentBody(method, "GB")).Want(t, http.StatusCreated, &got)
			if got.Status != Scheduled || got.Carrier != want.carrier || got.EstimatedDelivery != want.delivery ||
				got.TrackingNumber != TrackingNumber(mustCarrier(method), id) || len(got.TrackingNumber) != 18 {
				t.Errorf("shipment = %+v, want SCHEDULED by %s, delivery %s, tracking from the ID", got, want.carrier, want.delivery)
			}
		})
	}
}

func TestScheduleReplayAndReuse(t *testing.T) {
	f := newFixture(t)
	body := shipmentBody("", "GB") // method defaults to STANDARD
	first := f.Do(http.MethodPut, "/v1/shipments/shp-1", body)
	first.Want(t, http.StatusCreated, nil)
	explicit := shipmentBody("STANDARD", "GB")
	for _, b := range []any{body, explicit} {
		f.Do(http.MethodPut, "/v1/shipments/shp-1", b).WantSame(t, first)
	}
	f.Do(http.MethodPut, "/v1/shipments/shp-1", shipmentBody("EXPRESS", "GB")).WantError(t, http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	if n := f.Count(t, "shipments"); n != 1 {
		t.Errorf("shipments = %d, want 1", n)
	}
}

func TestUnsupportedDestinationSticks(t *testing.T) {
	f := newFixture(t)
	first := f.Do(http.MethodPut, "/v1/shipments/shp-aq", shipmentBody("INTERNATIONAL", "AQ"))
	first.WantError(t, http.StatusUnprocessableEntity, CodeUnsupportedDestination, "address.country")
	f.Do(http.MethodPut, "/v1/shipments/shp-aq", shipmentBody("INTERNATIONAL", "AQ")).WantSame(t, first)
	var s Shipment
	f.Do(http.MethodPost, "/v1/shipments/shp-aq/cancel", nil).Want(t, http.StatusOK, &s)
	if s.Status != Rejected || s.TrackingNumber != "" {
		t.Errorf("cancel of a rejected shipment = %+v, want REJECTED unchanged", s)
	}
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/shipments/shp-1", shipmentBody("EXPRESS", "US")).Want(t, http.StatusCreated, nil)
	var first, second Shipment
	f.Do(http.MethodPost, "/v1/shipments/shp-1/cancel", `{"reason":"payment declined"}`).Want(t, http.StatusOK, &first)
	f.Do(http.MethodPost, "/v1/shipments/shp-1/cancel", nil).Want(t, http.StatusOK, &second)
	if first.Status != Cancelled || first.Reason != "payment declined" {
		t.Errorf("cancel = %+v, want CANCELLED with the reason", first)
	}
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second cancel changed the shipment: -first +second:\n%s", diff)
	}
	var list platform.ListResponse[Shipment]
	f.Do(http.MethodGet, "/v1/shipments?orderId=ord-1", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != 1 || list.Items[0].Status != Cancelled {
		t.Errorf("shipments of ord-1 = %+v, want one CANCELLED", list.Items)
	}
}

func TestCancelBeforeScheduleLeavesTombstone(t *testing.T) {
	f := newFixture(t)
	want := map[string]any{"shipmentId": "shp-9", "status": "CANCELLED", "tombstone": true,
		"createdAt": "2026-11-28T12:00:00Z", "updatedAt": "2026-11-28T12:00:00Z"}
	if diff := cmp.Diff(want, f.Do(http.MethodPost, "/v1/shipments/shp-9/cancel", nil).Object(t)); diff != "" {
		t.Errorf("cancel of an unknown shipment: -want +got:\n%s", diff)
	}
	f.Do(http.MethodPut, "/v1/shipments/shp-9", shipmentBody("STANDARD", "GB")).WantError(t, http.StatusConflict, platform.CodeAlreadyCompensated, "")
	f.Do(http.MethodGet, "/v1/shipments/nope", nil).WantError(t, http.StatusNotFound, CodeShipmentNotFound, "shipmentId")
}

func TestScheduleRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	with := func(edit func(m map[string]any)) map[string]any {
		m := shipmentBody("STANDARD", "GB")
		edit(m)
		return m
	}
	addr := func(m map[string]any) map[string]any { return m["address"].(map[string]any) }
	cases := map[string]struct {
		body  any
		code  string
		field string
	}{
		"BadMethod":      {shipmentBody("PICKUP", "GB"), platform.CodeInvalidArgument, "method"},
		"LowerCountry":   {shipmentBody("STANDARD", "gb"), platform.CodeInvalidArgument, "address.country"},
		"NoAddress":      {with(func(m map[string]any) { delete(m, "address") }), platform.CodeInvalidArgument, "address.name"},
		"NoCity":         {with(func(m map[string]any) { delete(addr(m), "city") }), platform.CodeInvalidArgument, "address.city"},
		"NoPostalCode":   {with(func(m map[string]any) { addr(m)["postalCode"] = "" }), platform.CodeInvalidArgument, "address.postalCode"},
		"AddressUnknown": {with(func(m map[string]any) { addr(m)["street"] = "x" }), platform.CodeUnknownField, "address.street"},
		"AddressString":  {with(func(m map[string]any) { m["address"] = "London" }), platform.CodeInvalidType, "address"},
		"NoItems":        {with(func(m map[string]any) { delete(m, "items") }), platform.CodeInvalidArgument, "items"},
		"ZeroQuantity":   {with(func(m map[string]any) { m["items"] = []any{map[string]any{"productId": "A", "quantity": 0}} }), platform.CodeInvalidArgument, "items[0].quantity"},
		"NoOrder":        {with(func(m map[string]any) { delete(m, "orderId") }), platform.CodeInvalidArgument, "orderId"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f.Do(http.MethodPut, "/v1/shipments/shp-1", tc.body).WantError(t, http.StatusBadRequest, tc.code, tc.field)
		})
	}
	if n := f.Count(t, "shipments"); n != 0 {
		t.Errorf("documents after invalid requests = %d, want 0", n)
	}
}

func mustCarrier(method string) Carrier {
	c, ok := CarrierFor(method)
	if !ok {
		panic("no carrier for " + method)
	}
	return c
}
