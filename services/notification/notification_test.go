package notification

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestSendRendersTemplates(t *testing.T) {
	f := newFixture(t)
	var got Notification
	f.Do(http.MethodPut, "/v1/notifications/ntf-1-confirmed",
		notificationBody("c-1", OrderConfirmed, map[string]string{"total": "1999.98", "trackingNumber": "1ZABC"})).
		Want(t, http.StatusCreated, &got)
	want := Notification{NotificationID: "ntf-1-confirmed", OrderID: "ord-1", CustomerID: "c-1", Type: OrderConfirmed,
		Status: Sent, Subject: "Your order ord-1 is confirmed",
		Body: "Hello c-1,\n\nyour order ord-1 is confirmed. Total: 1999.98.\nTracking number: 1ZABC.\n\nThank you for shopping with us.",
		Data: map[string]string{"total": "1999.98", "trackingNumber": "1ZABC"}, CreatedAt: "2026-11-28T12:00:00Z"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("confirmation: -want +got:\n%s", diff)
	}
	f.Do(http.MethodPut, "/v1/notifications/ntf-1-cancelled",
		notificationBody("c-1", OrderCancelled, map[string]string{"reason": "out of stock"})).Want(t, http.StatusCreated, &got)
	if got.Subject != "Your order ord-1 was cancelled" || !strings.Contains(got.Body, "Reason: out of stock.") {
		t.Errorf("cancellation = %q / %q", got.Subject, got.Body)
	}
	var list struct{ Items []Notification }
	f.Do(http.MethodGet, "/v1/notifications?orderId=ord-1", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != 2 {
		t.Errorf("notifications of ord-1 = %d, want 2", len(list.Items))
	}
}

func TestFailedDeliveryIsRecordedNotAnError(t *testing.T) {
	f := newFixture(t)
	first := f.Do(http.MethodPut, "/v1/notifications/ntf-b", notificationBody("c-bounce", OrderConfirmed, nil))
	var got Notification
	first.Want(t, http.StatusCreated, &got)
	if got.Status != Failed || got.FailureReason == "" {
		t.Errorf("notification = %+v, want FAILED with a reason", got)
	}
	f.Do(http.MethodPut, "/v1/notifications/ntf-b", notificationBody("c-bounce", OrderConfirmed, map[string]string{})).WantSame(t, first)
}

func TestFailRateIsDeterministic(t *testing.T) {
	d := Delivery{FailRate: 0.5}
	failed := 0
	for i := range 1000 {
		id := fmt.Sprintf("ntf-%d", i)
		fails := d.Fails(id, "c")
		if d.Fails(id, "c") != fails {
			t.Fatalf("fails(%s) is not stable", id)
		}
		if fails {
			failed++
		}
	}
	if failed < 400 || failed > 600 {
		t.Errorf("%d of 1000 failed at rate 0.5", failed)
	}
	if (Delivery{}).Fails("any", "c") {
		t.Error("the zero Delivery fails")
	}
}

func TestIdempotencyAndUniquenessPerOrder(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/notifications/ntf-1", notificationBody("c-1", OrderConfirmed, nil)).Want(t, http.StatusCreated, nil)
	f.Do(http.MethodPut, "/v1/notifications/ntf-1", notificationBody("c-2", OrderConfirmed, nil)).
		WantError(t, http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	f.Do(http.MethodPut, "/v1/notifications/ntf-other", notificationBody("c-1", OrderConfirmed, nil)).
		WantError(t, http.StatusConflict, CodeNotificationExists, "type")
	if n := f.Count(t, "notifications"); n != 1 {
		t.Errorf("notifications = %d, want 1", n)
	}
	f.Do(http.MethodGet, "/v1/notifications/ntf-1", nil).Want(t, http.StatusOK, nil)
	f.Do(http.MethodGet, "/v1/notifications/nope", nil).WantError(t, http.StatusNotFound, CodeNotificationNotFound, "notificationId")
}

func TestSendRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	cases := map[string]struct {
		body  any
		code  string
		field string
	}{
		"BadType":     {notificationBody("c-1", "order_confirmation", nil), platform.CodeInvalidArgument, "type"},
		"NoCustomer":  {notificationBody("", OrderConfirmed, nil), platform.CodeInvalidArgument, "customerId"},
		"UnknownData": {notificationBody("c-1", OrderConfirmed, map[string]string{"coupon": "x"}), platform.CodeUnknownField, "data.coupon"},
		"EmptyData":   {notificationBody("c-1", OrderConfirmed, map[string]string{"reason": ""}), platform.CodeInvalidArgument, "data.reason"},
		"BadTotal":    {notificationBody("c-1", OrderConfirmed, map[string]string{"total": "12.345"}), platform.CodeInvalidArgument, "data.total"},
		"DataNumber":  {`{"orderId":"o","customerId":"c","type":"ORDER_CONFIRMED","data":{"total":12}}`, platform.CodeInvalidType, "data.total"},
		"DataArray":   {`{"orderId":"o","customerId":"c","type":"ORDER_CONFIRMED","data":[]}`, platform.CodeInvalidType, "data"},
		"Channel":     {`{"orderId":"o","customerId":"c","type":"ORDER_CONFIRMED","channels":["email"]}`, platform.CodeUnknownField, "channels"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f.Do(http.MethodPut, "/v1/notifications/ntf-1", tc.body).WantError(t, http.StatusBadRequest, tc.code, tc.field)
		})
	}
	if n := f.Count(t, "notifications"); n != 0 {
		t.Errorf("documents after invalid requests = %d, want 0", n)
	}
}
