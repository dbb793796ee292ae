package servicemodel_test

import (
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/platform"
)

// notificationBody is a notification of type for order o-1 to customer c-1, with
// top-level overrides.
func notificationBody(typ string, kv ...any) map[string]any {
	return pairs(obj("orderId", "o-1", "customerId", "c-1", "type", typ), kv)
}

func notify(id string, body any, w want) step { return put("/v1/notifications/"+id, body, w) }

var (
	sent         = is(http.StatusCreated, "status", string(notification.Sent))
	deliveryFail = is(http.StatusCreated, "status", string(notification.Failed))
	exists       = fails(http.StatusConflict, notification.CodeNotificationExists, "type")
)

func notificationCases() []contractCase {
	return slices.Concat(sendCases(), notificationInputCases(), notificationBatchCases())
}

// sendCases send, fail delivery, replay and refuse duplicates.
func sendCases() []contractCase {
	return []contractCase{
		{name: "ConfirmedWithData", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", "2699.88", "trackingNumber", "1ZABC")),
				sent.plus("subject", "Your order o-1 is confirmed")),
			get("/v1/notifications/n-1", is(http.StatusOK, "status", "SENT")),
		}},
		{name: "CancelledWithReason", steps: []step{
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", "payment declined")), sent),
			notify("n-2", notificationBody(notification.OrderCancelled, "orderId", "o-2"), sent),
		}},
		{name: "FailedDeliveryIs201", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed, "customerId", "c-unlucky"),
				deliveryFail.plus("failureReason", "delivery failed (simulated by configuration)")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "customerId", "c-unlucky"), deliveryFail).sameAs(1).after(time.Hour),
			notify("n-2", notificationBody(notification.OrderConfirmed, "customerId", "c-unlucky"), exists),
			notify("n-3", notificationBody(notification.OrderCancelled, "customerId", "c-unlucky"), deliveryFail),
		}},
		{name: "CustomFailCustomers", config: func(c *servicemodel.Config) { c.FailCustomers = []string{"c-1"} }, steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), deliveryFail),
			notify("n-2", notificationBody(notification.OrderConfirmed, "orderId", "o-2", "customerId", "c-unlucky"), sent),
		}},
		{name: "ReplayIsIdentical", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), sent).withKey("uid/NotifyCustomer/action"),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj()), sent).sameAs(1).after(time.Hour),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", nil), sent).withKey("k2").sameAs(1),
		}},
		{name: "OtherPayloadIsKeyReuse", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", "1.5")), sent),
			// data is template text, not normalized: "1.50" is another payload than "1.5".
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", "1.50")), keyReused),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", "1.51")), keyReused),
			notify("n-1", notificationBody(notification.OrderCancelled), keyReused),
		}},
		{name: "OnePerOrderAndType", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), sent),
			notify("n-2", notificationBody(notification.OrderConfirmed), exists),
			notify("n-2", notificationBody(notification.OrderCancelled), sent),
			notify("n-3", notificationBody(notification.OrderConfirmed, "orderId", "o-2"), sent),
			notify("n-4", notificationBody(notification.OrderCancelled), exists),
		}},
	}
}

// notificationInputCases are data limits, invalid requests and reads.
func notificationInputCases() []contractCase {
	return []contractCase{
		{name: "DataLimits", steps: []step{
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", runes(257, "é"))), invalid("data.reason")),
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", "")), invalid("data.reason")),
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", "a\tb")), invalid("data.reason")),
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", nil)), invalid("data.reason")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", "1.234")), invalid("data.total")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("trackingNumber", runes(257, "1"))), invalid("data.trackingNumber")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("color", "red")),
				fails(http.StatusBadRequest, platform.CodeUnknownField, "data.color")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", obj("total", 1)),
				fails(http.StatusBadRequest, platform.CodeInvalidType, "data.total")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "data", list()), fails(http.StatusBadRequest, platform.CodeInvalidType, "data")),
			notify("n-1", notificationBody(notification.OrderCancelled, "data", obj("reason", runes(256, "é"))), sent),
		}},
		{name: "InvalidNotification", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed, "orderId", ""), invalid("orderId")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "orderId", runes(129, "o")), invalid("orderId")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "customerId", ""), invalid("customerId")),
			notify("n-1", notificationBody("ORDER_SHIPPED"), invalid("type")),
			notify("n-1", notificationBody(""), invalid("type")),
			notify("n-1", notificationBody(notification.OrderConfirmed, "channel", "sms"), fails(http.StatusBadRequest, platform.CodeUnknownField, "channel")),
			notify("n 1", notificationBody(notification.OrderConfirmed), invalid("notificationId")),
			get("/v1/notifications/n-1", fails(http.StatusNotFound, notification.CodeNotificationNotFound, "notificationId")),
		}},
		{name: "ListFiltersAndPages", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), sent),
			notify("n-2", notificationBody(notification.OrderCancelled, "orderId", "o-2"), sent),
			notify("n-3", notificationBody(notification.OrderCancelled), sent),
			get("/v1/notifications?orderId=o-1&limit=1", is(http.StatusOK, "nextPageToken", token("n-1"))),
			get("/v1/notifications?orderId=o-1&limit=1&pageToken="+token("n-1"), is(http.StatusOK)),
			get("/v1/notifications?type=ORDER_CONFIRMED", invalid("type")),
		}},
		{name: "NoCompensationRoute", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), sent),
			post("/v1/notifications/n-1/cancel", nil, fails(http.StatusNotFound, platform.CodeNotFound, "")),
			post("/v1/notifications/n-1", nil, fails(http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")),
		}},
	}
}

// notificationBatchCases read the notifications of many orders in one call (orderIds),
// across pages.
func notificationBatchCases() []contractCase {
	byID := func(ids ...string) want { return listed("notificationId", ids...) }
	return []contractCase{
		{name: "ListByOrderIDs", steps: []step{
			notify("n-1", notificationBody(notification.OrderConfirmed), sent),
			notify("n-2", notificationBody(notification.OrderCancelled, "orderId", "o-2"), sent),
			notify("n-3", notificationBody(notification.OrderCancelled), sent),
			notify("n-4", notificationBody(notification.OrderConfirmed, "orderId", "o-3", "customerId", "c-unlucky"), deliveryFail),
			get("/v1/notifications?orderIds=o-3,nope,o-1,o-3", byID("n-1", "n-3", "n-4")),
			get("/v1/notifications?orderIds=o-2", byID("n-2")),
			get("/v1/notifications?orderIds=nope,o-0", byID()),
			get("/v1/notifications?orderIds=o-1,o-2,o-3&limit=2", byID("n-1", "n-2").plus("nextPageToken", token("n-2"))),
			get("/v1/notifications?orderIds=o-1,o-2,o-3&limit=2&pageToken="+token("n-2"), byID("n-3", "n-4")),
			get("/v1/notifications?orderIds=o-2,o-3&limit=1&pageToken="+token("n-2"), byID("n-4")),
			get("/v1/notifications?orderIds=o-2&pageToken="+token("n-2"), byID()),
		}},
		orderIDsRefusals("/v1/notifications"),
	}
}
