package servicemodel_test

import (
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// address is a valid address in country with the overrides in kv.
func address(country string, kv ...any) map[string]any {
	return pairs(obj("name", "Ada Lovelace", "line1", "1 Main St", "city", "Springfield", "postalCode", "12345", "country", country), kv)
}

// shipmentBody ships one item of LAP-001 for o-1 by method to addr, with top-level overrides.
func shipmentBody(method string, addr map[string]any, kv ...any) map[string]any {
	return pairs(obj("orderId", "o-1", "method", method, "address", addr, "items", list(obj("productId", "LAP-001", "quantity", 1))), kv)
}

func schedule(id string, body any, w want) step { return put("/v1/shipments/"+id, body, w) }
func cancelShipment(id string, body any, w want) step {
	return post("/v1/shipments/"+id+"/cancel", body, w)
}
func shipmentIs(status shipping.Status) want { return is(http.StatusOK, "status", string(status)) }

var (
	scheduled   = is(http.StatusCreated, "status", string(shipping.Scheduled))
	unsupported = fails(http.StatusUnprocessableEntity, shipping.CodeUnsupportedDestination, "address.country")
)

func shippingCases() []contractCase {
	return slices.Concat(scheduleCases(), cancelShipmentCases(), shipmentInputCases(), shipmentBatchCases())
}

// scheduleCases schedule, replay, refuse other payloads and reject destinations.
func scheduleCases() []contractCase {
	c, _ := shipping.CarrierFor("EXPRESS")
	return []contractCase{
		{name: "ScheduleDerivesTrackingAndETA", steps: []step{
			schedule("s-1", shipmentBody("EXPRESS", address("US", "line2", "Apt 4", "region", "IL")),
				scheduled.plus("carrier", "UPS", "trackingNumber", shipping.TrackingNumber(c, "s-1"), "estimatedDelivery", "2026-12-01")),
			get("/v1/shipments/s-1", shipmentIs(shipping.Scheduled)),
		}},
		{name: "EveryMethod", steps: []step{
			schedule("s-1", shipmentBody("", address("US")), scheduled.plus("method", "STANDARD", "carrier", "USPS")),
			schedule("s-2", shipmentBody("EXPRESS", address("CA"), "orderId", "o-2"), scheduled),
			schedule("s-3", shipmentBody("TWO_DAY", address("GB"), "orderId", "o-3"), scheduled),
			schedule("s-4", shipmentBody("OVERNIGHT", address("DE"), "orderId", "o-4"), scheduled.plus("carrier", "FedEx")),
			schedule("s-5", shipmentBody("INTERNATIONAL", address("JP"), "orderId", "o-5"), scheduled.plus("carrier", "DHL")),
		}},
		{name: "ETAFollowsTheClock", steps: []step{
			schedule("s-1", shipmentBody("OVERNIGHT", address("US")), scheduled.plus("estimatedDelivery", "2026-11-29")),
			schedule("s-2", shipmentBody("OVERNIGHT", address("US")), scheduled.plus("estimatedDelivery", "2026-12-01")).after(36 * time.Hour),
			schedule("s-1", shipmentBody("OVERNIGHT", address("US")), scheduled).sameAs(1),
		}},
		{name: "ReplayIsIdentical", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled).withKey("uid/ScheduleShipping/action"),
			schedule("s-1", shipmentBody("", address("US")), scheduled).sameAs(1).after(time.Hour),
			schedule("s-1", shipmentBody("STANDARD", address("US", "line2", "")), scheduled).withKey("k2").sameAs(1),
		}},
		{name: "OtherPayloadIsKeyReuse", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled),
			schedule("s-1", shipmentBody("EXPRESS", address("US")), keyReused),
			schedule("s-1", shipmentBody("STANDARD", address("US", "city", "Shelbyville")), keyReused),
		}},
		{name: "UnsupportedCountrySticks", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("BR")), unsupported),
			schedule("s-1", shipmentBody("STANDARD", address("BR")), unsupported).sameAs(1).after(time.Hour),
			get("/v1/shipments/s-1", shipmentIs(shipping.Rejected)),
			cancelShipment("s-1", `{"reason":"x"}`, shipmentIs(shipping.Rejected)),
			schedule("s-1", shipmentBody("STANDARD", address("US")), keyReused),
		}},
		{name: "CustomCountries", config: func(c *servicemodel.Config) { c.Countries = []string{"BR"} }, steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("BR")), scheduled),
			schedule("s-2", shipmentBody("STANDARD", address("US")), unsupported),
		}},
		{name: "NoCountries", config: func(c *servicemodel.Config) { c.Countries = []string{} }, steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), unsupported),
		}},
	}
}

// cancelShipmentCases cancel once and leave tombstones.
func cancelShipmentCases() []contractCase {
	return []contractCase{
		{name: "CancelTwice", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled),
			cancelShipment("s-1", `{"reason":"payment declined"}`, shipmentIs(shipping.Cancelled).plus("reason", "payment declined")).after(time.Hour),
			cancelShipment("s-1", nil, shipmentIs(shipping.Cancelled)).sameAs(2).after(time.Hour),
		}},
		{name: "CancelBeforeScheduleLeavesTombstone", steps: []step{
			cancelShipment("s-9", "", is(http.StatusOK, "status", "CANCELLED", "tombstone", true)),
			cancelShipment("s-9", `{"reason":"late"}`, is(http.StatusOK, "tombstone", true)).sameAs(1),
			schedule("s-9", shipmentBody("STANDARD", address("US")), alreadyCompensated),
			schedule("s-9", shipmentBody("STANDARD", address("BR")), alreadyCompensated),
			get("/v1/shipments", is(http.StatusOK, "items", list())),
		}},
		{name: "ScheduleCancelSchedule", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled),
			cancelShipment("s-1", nil, shipmentIs(shipping.Cancelled)).after(time.Second),
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled).sameAs(1),
			get("/v1/shipments/s-1", shipmentIs(shipping.Cancelled)),
		}},
	}
}

// shipmentInputCases are invalid requests and reads.
func shipmentInputCases() []contractCase {
	return []contractCase{
		{name: "InvalidAddress", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US", "name", "")), invalid("address.name")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "name", runes(129, "n"))), invalid("address.name")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "line1", runes(257, "l"))), invalid("address.line1")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "line2", runes(257, "l"))), invalid("address.line2")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "city", "")), invalid("address.city")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "region", runes(129, "r"))), invalid("address.region")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "postalCode", runes(33, "1"))), invalid("address.postalCode")),
			schedule("s-1", shipmentBody("STANDARD", address("usa")), invalid("address.country")),
			schedule("s-1", shipmentBody("STANDARD", address("")), invalid("address.country")),
			schedule("s-1", shipmentBody("STANDARD", address("US", "zip", "1")), fails(http.StatusBadRequest, platform.CodeUnknownField, "address.zip")),
			schedule("s-1", shipmentBody("STANDARD", nil), invalid("address.name")),
		}},
		{name: "InvalidShipment", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US"), "orderId", ""), invalid("orderId")),
			schedule("s-1", shipmentBody("BY_SEA", address("US")), invalid("method")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", list()), invalid("items")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", list(obj("productId", "", "quantity", 1))), invalid("items[0].productId")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", list(obj("productId", "A", "quantity", 1), obj("productId", "A", "quantity", 1))), invalid("items[1].productId")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", list(obj("productId", "A", "quantity", 1001))), invalid("items[0].quantity")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", manyItems(51)), invalid("items")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "address", "x"), fails(http.StatusBadRequest, platform.CodeInvalidType, "address")),
			schedule("s-1", shipmentBody("STANDARD", address("US"), "items", obj()), fails(http.StatusBadRequest, platform.CodeInvalidType, "items")),
			cancelShipment("s-1", obj("reason", 1), fails(http.StatusBadRequest, platform.CodeInvalidType, "reason")),
			get("/v1/shipments/s-1", fails(http.StatusNotFound, shipping.CodeShipmentNotFound, "shipmentId")),
		}},
		{name: "ListFiltersAndPages", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled),
			schedule("s-2", shipmentBody("STANDARD", address("BR")), unsupported),
			schedule("s-3", shipmentBody("STANDARD", address("US"), "orderId", "o-2"), scheduled),
			schedule("s-4", shipmentBody("EXPRESS", address("US")), scheduled),
			cancelShipment("s-4", nil, shipmentIs(shipping.Cancelled)),
			cancelShipment("s-0", nil, is(http.StatusOK, "tombstone", true)),
			get("/v1/shipments?orderId=o-1&limit=1", is(http.StatusOK, "nextPageToken", token("s-1"))),
			get("/v1/shipments?orderId=o-1&limit=1&pageToken="+token("s-1"), is(http.StatusOK, "nextPageToken", token("s-2"))),
			get("/v1/shipments?orderId=o-1&pageToken="+token("s-2"), is(http.StatusOK)),
			get("/v1/shipments?orderId=-x", invalid("orderId")),
			get("/v1/shipments?pageToken="+token("bad id"), invalid("pageToken")),
		}},
	}
}

// shipmentBatchCases read the shipments of many orders in one call (orderIds), across pages.
func shipmentBatchCases() []contractCase {
	byID := func(ids ...string) want { return listed("shipmentId", ids...) }
	return []contractCase{
		{name: "ListByOrderIDs", steps: []step{
			schedule("s-1", shipmentBody("STANDARD", address("US")), scheduled),
			schedule("s-2", shipmentBody("STANDARD", address("BR")), unsupported),
			schedule("s-3", shipmentBody("STANDARD", address("US"), "orderId", "o-2"), scheduled),
			schedule("s-4", shipmentBody("EXPRESS", address("US"), "orderId", "o-3"), scheduled),
			cancelShipment("s-4", nil, shipmentIs(shipping.Cancelled)),
			cancelShipment("s-0", nil, is(http.StatusOK, "tombstone", true)),
			get("/v1/shipments?orderIds=o-3,nope,o-1,o-3", byID("s-1", "s-2", "s-4")),
			get("/v1/shipments?orderIds=o-2", byID("s-3")),
			get("/v1/shipments?orderIds=nope,o-0", byID()),
			get("/v1/shipments?orderIds=o-1,o-2,o-3&limit=3", byID("s-1", "s-2", "s-3").plus("nextPageToken", token("s-3"))),
			get("/v1/shipments?orderIds=o-1,o-2,o-3&limit=3&pageToken="+token("s-3"), byID("s-4")),
			get("/v1/shipments?orderIds=o-2,o-3&limit=1", byID("s-3").plus("nextPageToken", token("s-3"))),
			get("/v1/shipments?orderIds=o-1&pageToken="+token("s-2"), byID()),
		}},
		orderIDsRefusals("/v1/shipments"),
	}
}
