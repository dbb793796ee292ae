package servicemodel_test

import (
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/platform"
)

// reserveBody is a reservation of the product/quantity pairs in pq for order.
func reserveBody(order string, pq ...any) map[string]any {
	items := []any{}
	for i := 0; i+1 < len(pq); i += 2 {
		items = append(items, obj("productId", pq[i], "quantity", pq[i+1]))
	}
	return obj("orderId", order, "items", items)
}

func reserve(id string, body any, w want) step { return put("/v1/reservations/"+id, body, w) }
func release(id string, body any, w want) step {
	return post("/v1/reservations/"+id+"/release", body, w)
}
func stock(product string, n int) step {
	return get("/v1/products/"+product, is(http.StatusOK, "stock", n))
}
func reservationIs(status inventory.Status) want { return is(http.StatusOK, "status", string(status)) }

var (
	reserved         = is(http.StatusCreated, "status", string(inventory.Reserved))
	outOfStock       = fails(http.StatusConflict, inventory.CodeOutOfStock, "")
	productNotFound  = fails(http.StatusNotFound, inventory.CodeProductNotFound, "productId")
	reservationGone  = fails(http.StatusNotFound, inventory.CodeReservationNotFound, "reservationId")
	unknownField     = func(f string) want { return fails(http.StatusBadRequest, platform.CodeUnknownField, f) }
	unknownProductAt = func(i int) want {
		return fails(http.StatusUnprocessableEntity, inventory.CodeUnknownProduct, "items["+itoa(i)+"].productId")
	}
)

func inventoryCases() []contractCase {
	return slices.Concat(reserveCases(), reserveFailureCases(), releaseCases(), inventoryInputCases(), catalogCases())
}

// reserveCases take stock, replay and refuse other payloads.
func reserveCases() []contractCase {
	return []contractCase{
		{name: "ReserveTakesStock", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "PHN-001", 1), reserved),
			stock("LAP-001", 48), stock("PHN-001", 99), stock("TAB-001", 30),
			get("/v1/reservations/r-1", reservationIs(inventory.Reserved)),
		}},
		{name: "ReplayTakesOnce", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved).withKey("uid/ReserveInventory/action"),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved).withKey("uid/ReserveInventory/action").sameAs(1).after(time.Minute),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved).withKey("another").sameAs(1),
			stock("LAP-001", 48),
		}},
		{name: "OtherPayloadIsKeyReuse", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved),
			reserve("r-1", reserveBody("o-1", "LAP-001", 3), keyReused),
			reserve("r-1", reserveBody("o-2", "LAP-001", 2), keyReused),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "PHN-001", 1), keyReused),
			stock("LAP-001", 48), stock("PHN-001", 100),
		}},
		{name: "LastUnitsAndBack", steps: []step{
			reserve("r-1", reserveBody("o-1", "TAB-001", 30), reserved),
			stock("TAB-001", 0),
			reserve("r-2", reserveBody("o-2", "TAB-001", 1), outOfStock),
			release("r-1", nil, reservationIs(inventory.Released)).after(time.Minute),
			stock("TAB-001", 30),
			reserve("r-3", reserveBody("o-3", "TAB-001", 1), reserved).after(time.Minute),
			reserve("r-2", reserveBody("o-2", "TAB-001", 1), outOfStock).sameAs(3),
			stock("TAB-001", 29),
		}},
	}
}

// reserveFailureCases are the business failures: all or nothing, stored and replayed.
func reserveFailureCases() []contractCase {
	return []contractCase{
		{name: "OneShortItemTakesNothing", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "TAB-001", 31), outOfStock),
			stock("LAP-001", 50), stock("TAB-001", 30),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "TAB-001", 31), outOfStock).sameAs(1).after(time.Hour),
			get("/v1/reservations/r-1", is(http.StatusOK, "status", "FAILED", "failure", "OUT_OF_STOCK")),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "TAB-001", 30), keyReused),
			stock("TAB-001", 30),
		}},
		{name: "EveryShortItemIsReported", steps: []step{
			reserve("r-1", reserveBody("o-1", "TAB-001", 31, "LAP-001", 1, "MON-001", 26), outOfStock),
			stock("MON-001", 25), stock("LAP-001", 50),
		}},
		{name: "UnknownProduct", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 1, "NOPE-1", 1), unknownProductAt(1)),
			stock("LAP-001", 50),
			reserve("r-1", reserveBody("o-1", "LAP-001", 1, "NOPE-1", 1), unknownProductAt(1)).sameAs(1),
			get("/v1/reservations/r-1", is(http.StatusOK, "status", "FAILED", "failure", "UNKNOWN_PRODUCT")),
		}},
		{name: "UnknownBeatsShortage", steps: []step{
			reserve("r-1", reserveBody("o-1", "TAB-001", 999, "NOPE-1", 1), unknownProductAt(1)),
			reserve("r-2", reserveBody("o-2", "OLD-001", 1, "NOPE-1", 1),
				fails(http.StatusUnprocessableEntity, inventory.CodeProductDiscontinued, "items[0].productId")),
		}},
		{name: "DiscontinuedProduct", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 1, "OLD-001", 1),
				fails(http.StatusUnprocessableEntity, inventory.CodeProductDiscontinued, "items[1].productId")),
			stock("LAP-001", 50), stock("OLD-001", 10),
		}},
	}
}

// releaseCases give stock back once and leave tombstones.
func releaseCases() []contractCase {
	return []contractCase{
		{name: "ReleaseRestoresOnce", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2, "PHN-001", 3), reserved),
			release("r-1", `{"reason":"payment declined"}`, reservationIs(inventory.Released).plus("reason", "payment declined")).after(time.Hour),
			stock("LAP-001", 50), stock("PHN-001", 100),
			release("r-1", `{"reason":"again"}`, reservationIs(inventory.Released)).sameAs(2).after(time.Hour),
			release("r-1", nil, reservationIs(inventory.Released)).sameAs(2),
			stock("LAP-001", 50), stock("PHN-001", 100),
		}},
		{name: "ReleaseBeforeReserveLeavesTombstone", steps: []step{
			release("r-9", `{"reason":"timed out"}`, is(http.StatusOK, "status", "RELEASED", "tombstone", true)),
			release("r-9", "", is(http.StatusOK, "tombstone", true)).sameAs(1).after(time.Minute),
			reserve("r-9", reserveBody("o-1", "LAP-001", 2), alreadyCompensated).after(time.Minute),
			stock("LAP-001", 50),
			get("/v1/reservations/r-9", is(http.StatusOK, "tombstone", true)),
			get("/v1/reservations", is(http.StatusOK, "items", list())),
		}},
		{name: "ReserveReleaseReserve", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved),
			release("r-1", nil, reservationIs(inventory.Released)).after(time.Second),
			reserve("r-1", reserveBody("o-1", "LAP-001", 2), reserved).sameAs(1).after(time.Second),
			stock("LAP-001", 50),
			reserve("r-1", reserveBody("o-1", "LAP-001", 1), keyReused),
			get("/v1/reservations/r-1", reservationIs(inventory.Released)),
		}},
		{name: "ReleaseOfFailedChangesNothing", steps: []step{
			reserve("r-1", reserveBody("o-1", "TAB-001", 31), outOfStock),
			release("r-1", `{"reason":"x"}`, is(http.StatusOK, "status", "FAILED", "failure", "OUT_OF_STOCK")).after(time.Minute),
			stock("TAB-001", 30),
			reserve("r-1", reserveBody("o-1", "TAB-001", 31), outOfStock).sameAs(1),
		}},
	}
}

// inventoryInputCases are invalid reservations and products.
func inventoryInputCases() []contractCase {
	return []contractCase{
		{name: "InvalidReserve", steps: []step{
			reserve("r-1", obj("items", list(obj("productId", "A", "quantity", 1))), invalid("orderId")),
			reserve("r-1", reserveBody("o 1", "A", 1), invalid("orderId")),
			reserve("r-1", reserveBody("o-1"), invalid("items")),
			reserve("r-1", obj("orderId", "o-1"), invalid("items")),
			reserve("r-1", reserveBody("o-1", "", 1), invalid("items[0].productId")),
			reserve("r-1", reserveBody("o-1", "A", 1, "A", 1), invalid("items[1].productId")),
			reserve("r-1", reserveBody("o-1", "A", 0), invalid("items[0].quantity")),
			reserve("r-1", reserveBody("o-1", "A", 1001), invalid("items[0].quantity")),
			reserve("r-1", pairs(reserveBody("o-1", "A", 1), []any{"note", "x"}), unknownField("note")),
			reserve("r-1", reserveBody("o-1", "A", "1"), fails(http.StatusBadRequest, platform.CodeInvalidType, "items[0].quantity")),
			reserve("-r", reserveBody("o-1", "A", 1), invalid("reservationId")),
			release("-r", nil, invalid("reservationId")),
			release("r-1", obj("reason", runes(257, "x")), invalid("reason")),
			get("/v1/reservations", is(http.StatusOK, "items", list())),
		}},
		{name: "TooManyItems", steps: []step{
			reserve("r-1", obj("orderId", "o-1", "items", manyItems(51)), invalid("items")),
			reserve("r-2", obj("orderId", "o-1", "items", manyItems(50)), unknownProductAt(0)),
		}},
		{name: "InvalidProduct", steps: []step{
			put("/v1/products/P-1", obj("price", "1", "stock", 1), invalid("name")),
			put("/v1/products/P-1", obj("name", runes(129, "n"), "price", "1", "stock", 1), invalid("name")),
			put("/v1/products/P-1", obj("name", "n", "price", "0", "stock", 1), invalid("price")),
			put("/v1/products/P-1", obj("name", "n", "price", "1.001", "stock", 1), invalid("price")),
			put("/v1/products/P-1", obj("name", "n", "price", "1"), invalid("stock")),
			put("/v1/products/P-1", obj("name", "n", "price", "1", "stock", -1), invalid("stock")),
			put("/v1/products/P-1", obj("name", "n", "price", "1", "stock", 1_000_000_001), invalid("stock")),
			put("/v1/products/P-1", obj("name", "n", "price", "1", "stock", 1, "color", "red"), unknownField("color")),
			put("/v1/products/P-1", "", fails(http.StatusBadRequest, platform.CodeInvalidJSON, "")),
			put("/v1/products/-P", obj("name", "n", "price", "1", "stock", 1), invalid("productId")),
			get("/v1/products/P-1", productNotFound),
		}},
	}
}

// catalogCases change the catalog and read it.
func catalogCases() []contractCase {
	return []contractCase{
		{name: "ProductUpsert", steps: []step{
			put("/v1/products/NEW-1", obj("name", "Widget", "price", "12.5", "stock", 3), is(http.StatusCreated, "price", "12.50", "stock", 3)),
			reserve("r-1", reserveBody("o-1", "NEW-1", 2), reserved).after(time.Minute),
			put("/v1/products/NEW-1", obj("name", "Widget 2", "price", "13", "stock", 10), is(http.StatusOK, "stock", 10)).after(time.Minute),
			release("r-1", nil, reservationIs(inventory.Released)),
			stock("NEW-1", 12),
			put("/v1/products/NEW-1", obj("name", "Widget 2", "price", "13", "stock", 0, "discontinued", true), is(http.StatusOK, "discontinued", true)),
			reserve("r-2", reserveBody("o-2", "NEW-1", 1), fails(http.StatusUnprocessableEntity, inventory.CodeProductDiscontinued, "items[0].productId")),
		}},
		{name: "DiscontinueWhileReserved", steps: []step{
			reserve("r-1", reserveBody("o-1", "PHN-001", 5), reserved),
			put("/v1/products/PHN-001", obj("name", "Smartphone", "price", "699.99", "stock", 95, "discontinued", true), is(http.StatusOK)),
			release("r-1", nil, reservationIs(inventory.Released)).after(time.Minute),
			stock("PHN-001", 100),
		}},
		{name: "CustomCatalog", config: func(c *servicemodel.Config) {
			c.Catalog = []inventory.SeedProduct{{ID: "ONLY-1", Name: "Only", Price: 100, Stock: 1}}
		}, steps: []step{
			get("/v1/products", is(http.StatusOK)),
			reserve("r-1", reserveBody("o-1", "ONLY-1", 1), reserved),
			reserve("r-2", reserveBody("o-2", "LAP-001", 1), unknownProductAt(0)),
		}},
		{name: "NotFound", steps: []step{
			get("/v1/products/NOPE", productNotFound),
			get("/v1/reservations/nope", reservationGone),
		}},
		{name: "ListFiltersAndPages", steps: []step{
			reserve("r-1", reserveBody("o-1", "LAP-001", 1), reserved),
			reserve("r-2", reserveBody("o-2", "LAP-001", 1), reserved),
			reserve("r-3", reserveBody("o-1", "TAB-001", 99), outOfStock),
			reserve("r-4", reserveBody("o-1", "HDP-001", 1), reserved),
			release("r-5", nil, is(http.StatusOK, "tombstone", true)),
			get("/v1/reservations?orderId=o-1&limit=2", is(http.StatusOK, "nextPageToken", token("r-3"))),
			get("/v1/reservations?orderId=o-1&limit=2&pageToken="+token("r-3"), is(http.StatusOK)),
			get("/v1/products?limit=4", is(http.StatusOK, "nextPageToken", token("OLD-001"))),
			get("/v1/products?pageToken="+token("OLD-001"), is(http.StatusOK)),
			get("/v1/reservations?orderId=o%201", invalid("orderId")),
			get("/v1/reservations?status=RESERVED", invalid("status")),
			get("/v1/products?orderId=o-1", invalid("orderId")),
		}},
		{name: "UnknownRoutes", steps: []step{
			call(http.MethodDelete, "/v1/reservations/r-1", fails(http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")),
			call(http.MethodPost, "/v1/products", fails(http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")),
			post("/v1/reservations/r-1/cancel", nil, fails(http.StatusNotFound, platform.CodeNotFound, "")),
		}},
	}
}

// manyItems returns n distinct unknown products, one unit each.
func manyItems(n int) []any {
	items := make([]any, n)
	for i := range items {
		items[i] = obj("productId", "X-"+itoa(i), "quantity", 1)
	}
	return items
}
