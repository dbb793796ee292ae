package payment

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestCaptureAndReplay(t *testing.T) {
	f := newFixture(t)
	first := f.Do(http.MethodPut, "/v1/payments/pay-1", paymentBody("1999.98", "CREDIT_CARD"))
	want := map[string]any{"paymentId": "pay-1", "orderId": "ord-1", "customerId": "c-1", "status": "CAPTURED",
		"amount": "1999.98", "currency": "USD", "method": "CREDIT_CARD", "refundedAmount": "0.00",
		"createdAt": "2026-11-28T12:00:00Z", "updatedAt": "2026-11-28T12:00:00Z"}
	first.Want(t, http.StatusCreated, nil)
	if diff := cmp.Diff(want, first.Object(t)); diff != "" {
		t.Errorf("capture: -want +got:\n%s", diff)
	}
	for range 2 {
		f.Do(http.MethodPut, "/v1/payments/pay-1", paymentBody("1999.98", "CREDIT_CARD")).WantSame(t, first)
	}
	f.Do(http.MethodPut, "/v1/payments/pay-1", paymentBody("1999.99", "CREDIT_CARD")).
		WantError(t, http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	if n := f.Count(t, "payments"); n != 1 {
		t.Errorf("payments stored = %d, want 1", n)
	}
}

func TestDeclineRulesStick(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		amount, method string
		declined       bool
		field          string
	}{
		"AtTheLimit":     {"5000.00", "CREDIT_CARD", false, ""},
		"AboveTheLimit":  {"5000.01", "CREDIT_CARD", true, "amount"},
		"DeclinedMethod": {"10.00", "PAYPAL", true, "method"},
		"AcceptedMethod": {"10.00", "BANK_TRANSFER", false, ""},
		"AboveAndPayPal": {"9000.00", "PAYPAL", true, "amount"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			path := "/v1/payments/pay-" + name
			first := f.Do(http.MethodPut, path, paymentBody(tc.amount, tc.method))
			if !tc.declined {
				first.Want(t, http.StatusCreated, nil)
				return
			}
			first.WantError(t, http.StatusPaymentRequired, CodePaymentDeclined, tc.field)
			f.Do(http.MethodPut, path, paymentBody(tc.amount, tc.method)).WantSame(t, first)
			var p Payment
			f.Do(http.MethodGet, path, nil).Want(t, http.StatusOK, &p)
			if p.Status != Declined || p.DeclineReason == "" {
				t.Errorf("stored payment = %+v, want DECLINED with a reason", p)
			}
		})
	}
}

func TestRefundOnce(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/payments/pay-1", paymentBody("120.50", "DEBIT_CARD")).Want(t, http.StatusCreated, nil)
	var first Payment
	f.Do(http.MethodPost, "/v1/payments/pay-1/refund", `{"reason":"out of stock"}`).Want(t, http.StatusOK, &first)
	if first.Status != Refunded || first.RefundedAmount.String() != "120.50" || first.Reason != "out of stock" {
		t.Errorf("refund = %+v, want REFUNDED 120.50 with the reason", first)
	}
	var second Payment
	f.Do(http.MethodPost, "/v1/payments/pay-1/refund", nil).Want(t, http.StatusOK, &second)
	if diff := cmp.Diff(first, second); diff != "" {
		t.Errorf("second refund changed the payment: -first +second:\n%s", diff)
	}
	var list platform.ListResponse[Payment]
	f.Do(http.MethodGet, "/v1/payments?orderId=ord-1", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != 1 || *list.Items[0].RefundedAmount != *list.Items[0].Amount {
		t.Errorf("payments of ord-1 = %+v, want one, refunded exactly its amount", list.Items)
	}
}

func TestRefundOfDeclinedChangesNothing(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/payments/pay-1", paymentBody("6000.00", "CREDIT_CARD")).WantError(t, http.StatusPaymentRequired, CodePaymentDeclined, "amount")
	var p Payment
	f.Do(http.MethodPost, "/v1/payments/pay-1/refund", nil).Want(t, http.StatusOK, &p)
	if p.Status != Declined || p.RefundedAmount.String() != "0.00" {
		t.Errorf("refund of a declined payment = %+v, want DECLINED, nothing refunded", p)
	}
}

func TestRefundBeforeCaptureLeavesTombstone(t *testing.T) {
	f := newFixture(t)
	want := map[string]any{"paymentId": "pay-9", "status": "REFUNDED", "tombstone": true,
		"createdAt": "2026-11-28T12:00:00Z", "updatedAt": "2026-11-28T12:00:00Z"}
	for range 2 {
		if diff := cmp.Diff(want, f.Do(http.MethodPost, "/v1/payments/pay-9/refund", "").Object(t)); diff != "" {
			t.Errorf("refund of an unknown payment: -want +got:\n%s", diff)
		}
	}
	f.Do(http.MethodPut, "/v1/payments/pay-9", paymentBody("10.00", "CREDIT_CARD")).WantError(t, http.StatusConflict, platform.CodeAlreadyCompensated, "")
	if n := f.Count(t, "payments"); n != 1 {
		t.Errorf("documents = %d, want the tombstone only (no charge)", n)
	}
	f.Do(http.MethodGet, "/v1/payments/nope", nil).WantError(t, http.StatusNotFound, CodePaymentNotFound, "paymentId")
}

func TestCaptureRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		body  any
		code  string
		field string
	}{
		"NoOrder":      {map[string]any{"customerId": "c", "amount": "1.00", "method": "PAYPAL"}, platform.CodeInvalidArgument, "orderId"},
		"BadOrder":     {map[string]any{"orderId": "a b", "customerId": "c", "amount": "1.00", "method": "PAYPAL"}, platform.CodeInvalidArgument, "orderId"},
		"NoCustomer":   {map[string]any{"orderId": "o", "amount": "1.00", "method": "PAYPAL"}, platform.CodeInvalidArgument, "customerId"},
		"ZeroAmount":   {paymentBody("0.00", "CREDIT_CARD"), platform.CodeInvalidArgument, "amount"},
		"FloatAmount":  {map[string]any{"orderId": "o", "customerId": "c", "amount": 1.5, "method": "PAYPAL"}, platform.CodeInvalidType, "amount"},
		"BadAmount":    {paymentBody("1,00", "CREDIT_CARD"), platform.CodeInvalidArgument, "amount"},
		"HugeAmount":   {paymentBody("49999999999500.01", "CREDIT_CARD"), platform.CodeInvalidArgument, "amount"},
		"BadCurrency":  {map[string]any{"orderId": "o", "customerId": "c", "amount": "1.00", "currency": "EURO", "method": "PAYPAL"}, platform.CodeInvalidArgument, "currency"},
		"BadMethod":    {paymentBody("1.00", "CRYPTO"), platform.CodeInvalidArgument, "method"},
		"UnknownField": {map[string]any{"orderId": "o", "customerId": "c", "amount": "1.00", "method": "PAYPAL", "card": "4111"}, platform.CodeUnknownField, "card"},
		"Trailing":     {`{"orderId":"o"}x`, platform.CodeInvalidJSON, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f.Do(http.MethodPut, "/v1/payments/pay-1", tc.body).WantError(t, http.StatusBadRequest, tc.code, tc.field)
		})
	}
	f.Do(http.MethodPut, "/v1/payments/"+strings.Repeat("p", 129), paymentBody("1.00", "PAYPAL")).
		WantError(t, http.StatusBadRequest, platform.CodeInvalidArgument, "paymentId")
	if n := f.Count(t, "payments"); n != 0 {
		t.Errorf("documents after invalid requests = %d, want 0", n)
	}
}
