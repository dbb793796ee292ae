package servicemodel_test

import (
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
)

// paymentBody is a capture of amount by method for order o-1, with top-level overrides.
func paymentBody(amount, method string, kv ...any) map[string]any {
	return pairs(obj("orderId", "o-1", "customerId", "c-1", "amount", amount, "currency", "USD", "method", method), kv)
}

func capture(id string, body any, w want) step { return put("/v1/payments/"+id, body, w) }
func refund(id string, body any, w want) step  { return post("/v1/payments/"+id+"/refund", body, w) }

var (
	captured   = is(http.StatusCreated, "status", string(payment.Captured))
	declinedBy = func(field string) want { return fails(http.StatusPaymentRequired, payment.CodePaymentDeclined, field) }
)

func paymentIs(status payment.Status) want { return is(http.StatusOK, "status", string(status)) }

func paymentCases() []contractCase {
	return slices.Concat(captureCases(), refundCases(), paymentInputCases(), paymentBatchCases())
}

// captureCases capture, replay, refuse other payloads and decline by the rules.
func captureCases() []contractCase {
	return []contractCase{
		{name: "Capture", steps: []step{
			capture("p-1", paymentBody("1999.98", "CREDIT_CARD"), captured.plus("amount", "1999.98", "refundedAmount", "0.00")),
			get("/v1/payments/p-1", paymentIs(payment.Captured)),
		}},
		{name: "CaptureEveryMethodAndDefaultCurrency", steps: []step{
			capture("p-1", paymentBody("1", "CREDIT_CARD", "currency", ""), captured.plus("currency", "USD", "amount", "1.00")),
			capture("p-2", paymentBody("2", "DEBIT_CARD", "currency", "EUR"), captured),
			capture("p-3", paymentBody("3", "BANK_TRANSFER"), captured),
		}},
		{name: "ReplayIsIdentical", steps: []step{
			capture("p-1", paymentBody("120.5", "DEBIT_CARD"), captured).withKey("uid/ProcessPayment/action"),
			capture("p-1", paymentBody("120.50", "DEBIT_CARD"), captured).sameAs(1).after(time.Minute),
			capture("p-1", paymentBody("120.5", "DEBIT_CARD", "currency", ""), captured).withKey("k2").sameAs(1),
		}},
		{name: "OtherPayloadIsKeyReuse", steps: []step{
			capture("p-1", paymentBody("120.50", "DEBIT_CARD"), captured),
			capture("p-1", paymentBody("120.51", "DEBIT_CARD"), keyReused),
			capture("p-1", paymentBody("120.50", "CREDIT_CARD"), keyReused),
			capture("p-1", paymentBody("120.50", "DEBIT_CARD", "orderId", "o-2"), keyReused),
		}},
		{name: "DeclineAboveLimitSticks", steps: []step{
			capture("p-1", paymentBody("5000.01", "CREDIT_CARD"), declinedBy("amount")),
			capture("p-1", paymentBody("5000.01", "CREDIT_CARD"), declinedBy("amount")).sameAs(1).after(time.Hour),
			get("/v1/payments/p-1", paymentIs(payment.Declined).plus("refundedAmount", "0.00")),
			capture("p-1", paymentBody("10.00", "CREDIT_CARD"), keyReused),
		}},
		{name: "AtTheLimitIsCaptured", steps: []step{
			capture("p-1", paymentBody("5000.00", "CREDIT_CARD"), captured),
		}},
		{name: "DeclinedMethod", steps: []step{
			capture("p-1", paymentBody("10.00", "PAYPAL"), declinedBy("method")),
			capture("p-1", paymentBody("10.00", "PAYPAL"), declinedBy("method")).sameAs(1),
		}},
		{name: "LimitBeatsMethod", steps: []step{
			capture("p-1", paymentBody("9000.00", "PAYPAL"), declinedBy("amount")),
		}},
		{name: "CustomRules", config: func(c *servicemodel.Config) {
			c.Payment = payment.Rules{DeclineAbove: 100_00, DeclinedMethods: []string{"BANK_TRANSFER", "DEBIT_CARD"}}
		}, steps: []step{
			capture("p-1", paymentBody("100.01", "CREDIT_CARD"), declinedBy("amount")),
			capture("p-2", paymentBody("100.00", "PAYPAL"), captured),
			capture("p-3", paymentBody("1", "DEBIT_CARD"), declinedBy("method")),
		}},
	}
}

// refundCases refund once and leave tombstones.
func refundCases() []contractCase {
	return []contractCase{
		{name: "RefundTwice", steps: []step{
			capture("p-1", paymentBody("120.50", "DEBIT_CARD"), captured),
			refund("p-1", `{"reason":"out of stock"}`, paymentIs(payment.Refunded).plus("refundedAmount", "120.50", "reason", "out of stock")).after(time.Hour),
			refund("p-1", nil, paymentIs(payment.Refunded)).sameAs(2).after(time.Hour),
			refund("p-1", `{"reason":"other"}`, paymentIs(payment.Refunded)).sameAs(2),
			get("/v1/payments?orderId=o-1", is(http.StatusOK)),
		}},
		{name: "RefundBeforeCaptureLeavesTombstone", steps: []step{
			refund("p-9", `{"reason":"saga gave up"}`, is(http.StatusOK, "status", "REFUNDED", "tombstone", true)),
			refund("p-9", "", is(http.StatusOK, "tombstone", true)).sameAs(1).after(time.Minute),
			capture("p-9", paymentBody("10.00", "CREDIT_CARD"), alreadyCompensated),
			capture("p-9", paymentBody("9000.00", "CREDIT_CARD"), alreadyCompensated),
			get("/v1/payments/p-9", is(http.StatusOK, "tombstone", true)),
			get("/v1/payments", is(http.StatusOK, "items", list())),
		}},
		{name: "CaptureRefundCapture", steps: []step{
			capture("p-1", paymentBody("10.00", "CREDIT_CARD"), captured),
			refund("p-1", nil, paymentIs(payment.Refunded)).after(time.Second),
			capture("p-1", paymentBody("10.00", "CREDIT_CARD"), captured).sameAs(1).after(time.Second),
			get("/v1/payments/p-1", paymentIs(payment.Refunded).plus("refundedAmount", "10.00")),
		}},
		{name: "RefundOfDeclinedChangesNothing", steps: []step{
			capture("p-1", paymentBody("6000.00", "CREDIT_CARD"), declinedBy("amount")),
			refund("p-1", `{"reason":"x"}`, paymentIs(payment.Declined).plus("refundedAmount", "0.00")).after(time.Minute),
		}},
	}
}

// paymentInputCases are invalid requests and reads.
func paymentInputCases() []contractCase {
	return []contractCase{
		{name: "InvalidCapture", steps: []step{
			capture("p-1", obj("customerId", "c", "amount", "1.00", "method", "CREDIT_CARD"), invalid("orderId")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "orderId", "a b"), invalid("orderId")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "customerId", ""), invalid("customerId")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "customerId", runes(65, "c")), invalid("customerId")),
			capture("p-1", paymentBody("0.00", "CREDIT_CARD"), invalid("amount")),
			capture("p-1", paymentBody("", "CREDIT_CARD"), invalid("amount")),
			capture("p-1", paymentBody("1,00", "CREDIT_CARD"), invalid("amount")),
			capture("p-1", paymentBody("-1", "CREDIT_CARD"), invalid("amount")),
			capture("p-1", paymentBody("49999999999500.01", "CREDIT_CARD"), invalid("amount")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "amount", 1.5), fails(http.StatusBadRequest, platform.CodeInvalidType, "amount")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "currency", "EURO"), invalid("currency")),
			capture("p-1", paymentBody("1.00", "CRYPTO"), invalid("method")),
			capture("p-1", paymentBody("1.00", ""), invalid("method")),
			capture("p-1", paymentBody("1.00", "CREDIT_CARD", "card", "4111"), fails(http.StatusBadRequest, platform.CodeUnknownField, "card")),
			capture("p-1", `{"orderId":"o"}x`, fails(http.StatusBadRequest, platform.CodeInvalidJSON, "")),
			capture(runes(129, "p"), paymentBody("1.00", "CREDIT_CARD"), invalid("paymentId")),
			refund("p 1", nil, invalid("paymentId")),
			get("/v1/payments", is(http.StatusOK, "items", list())),
		}},
		{name: "NotFound", steps: []step{
			get("/v1/payments/nope", fails(http.StatusNotFound, payment.CodePaymentNotFound, "paymentId")),
		}},
		{name: "ListFiltersAndPages", steps: []step{
			capture("p-1", paymentBody("1", "CREDIT_CARD"), captured),
			capture("p-2", paymentBody("2", "PAYPAL"), declinedBy("method")),
			capture("p-3", paymentBody("3", "CREDIT_CARD", "orderId", "o-2"), captured),
			capture("p-4", paymentBody("4", "CREDIT_CARD"), captured),
			refund("p-4", nil, paymentIs(payment.Refunded)),
			refund("p-0", nil, is(http.StatusOK, "tombstone", true)),
			get("/v1/payments?orderId=o-1&limit=2", is(http.StatusOK, "nextPageToken", token("p-2"))),
			get("/v1/payments?orderId=o-1&limit=2&pageToken="+token("p-2"), is(http.StatusOK)),
			get("/v1/payments?orderId=o-2", is(http.StatusOK)),
			get("/v1/payments?orderId=", invalid("orderId")),
			get("/v1/payments?customerId=c-1", invalid("customerId")),
			get("/v1/payments?limit=500", is(http.StatusOK)),
		}},
		{name: "UnknownRoutes", steps: []step{
			call(http.MethodPatch, "/v1/payments/p-1", fails(http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")),
			get("/v1/payments/p-1/refund", fails(http.StatusMethodNotAllowed, platform.CodeMethodNotAllowed, "")),
			post("/v1/payments/p-1/capture", nil, fails(http.StatusNotFound, platform.CodeNotFound, "")),
		}},
	}
}

// paymentBatchCases read the payments of many orders in one call (orderIds), across pages.
func paymentBatchCases() []contractCase {
	byID := func(ids ...string) want { return listed("paymentId", ids...) }
	return []contractCase{
		{name: "ListByOrderIDs", steps: []step{
			capture("p-1", paymentBody("1", "CREDIT_CARD"), captured),
			capture("p-2", paymentBody("2", "PAYPAL", "orderId", "o-2"), declinedBy("method")),
			capture("p-3", paymentBody("3", "CREDIT_CARD", "orderId", "o-3"), captured),
			capture("p-4", paymentBody("4", "CREDIT_CARD"), captured),
			refund("p-4", nil, paymentIs(payment.Refunded)),
			refund("p-0", nil, is(http.StatusOK, "tombstone", true)),
			get("/v1/payments?orderIds=o-3,nope,o-1,o-3", byID("p-1", "p-3", "p-4")),
			get("/v1/payments?orderIds=o-2", byID("p-2")),
			get("/v1/payments?orderIds=nope,o-0", byID()),
			get("/v1/payments?orderIds=o-1,o-2,o-3&limit=2", byID("p-1", "p-2").plus("nextPageToken", token("p-2"))),
			get("/v1/payments?orderIds=o-1,o-2,o-3&limit=2&pageToken="+token("p-2"), byID("p-3", "p-4")),
			get("/v1/payments?orderIds=o-2,o-3&limit=1&pageToken="+token("p-2"), byID("p-3")),
			get("/v1/payments?orderIds=o-1&pageToken="+token("p-4"), byID()),
		}},
		orderIDsRefusals("/v1/payments"),
	}
}
