package order

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/services/platform"
)

func money(s string) *platform.Money {
	m, err := platform.ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return &m
}

func TestCreateComputesTotalAndIsPending(t *testing.T) {
	f := newFixture(t)
	var got Order
	f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder()).Want(t, http.StatusCreated, &got)
	want := Order{
		OrderID: "ord-1", CustomerID: "c-1", Status: Pending, Currency: "USD",
		Items: []ItemView{
			{ProductID: "LAP-001", Quantity: 2, UnitPrice: *money("999.99"), LineTotal: *money("1999.98")},
			{ProductID: "PHN-001", Quantity: 1, UnitPrice: *money("699.90"), LineTotal: *money("699.90")},
		},
		Total:     money("2699.88"),
		CreatedAt: "2026-11-28T12:00:00Z", UpdatedAt: "2026-11-28T12:00:00Z",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PUT order: -want +got:\n%s", diff)
	}
	if raw := f.Do(http.MethodGet, "/v1/orders/ord-1", nil).Object(t); raw["total"] != "2699.88" {
		t.Errorf("total on the wire = %v, want the decimal string \"2699.88\"", raw["total"])
	}
}

func TestCreateReplayReturnsIdenticalResponse(t *testing.T) {
	f := newFixture(t)
	first := f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder(), "Idempotency-Key", "uid/CreateOrder/action")
	first.Want(t, http.StatusCreated, nil)
	// The same payload spelled differently ("699.90" for "699.9") is the same request.
	same := laptopOrder()
	same["items"].([]any)[1].(map[string]any)["unitPrice"] = "699.90"
	for _, body := range []any{laptopOrder(), same} {
		f.Do(http.MethodPut, "/v1/orders/ord-1", body).WantSame(t, first)
	}
	if n := f.Count(t, "orders"); n != 1 {
		t.Errorf("orders stored = %d, want 1", n)
	}
}

func TestCreateKeyReuseWithOtherPayloadIsRefused(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder()).Want(t, http.StatusCreated, nil)
	other := laptopOrder()
	other["customerId"] = "c-2"
	f.Do(http.MethodPut, "/v1/orders/ord-1", other).WantError(t, http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	var got Order
	f.Do(http.MethodGet, "/v1/orders/ord-1", nil).Want(t, http.StatusOK, &got)
	if got.CustomerID != "c-1" {
		t.Errorf("customerId after refused reuse = %q, want c-1 (unchanged)", got.CustomerID)
	}
}

func TestConfirm(t *testing.T) {
	f := newFixture(t)
	f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder()).Want(t, http.StatusCreated, nil)
	for i := range 2 { // the second confirm is an idempotent no-op
		var got Order
		f.Do(http.MethodPost, "/v1/orders/ord-1/confirm", nil).Want(t, http.StatusOK, &got)
		if got.Status != Confirmed {
			t.Errorf("confirm %d: status = %s, want CONFIRMED", i, got.Status)
		}
	}
	f.Do(http.MethodPost, "/v1/orders/ord-1/cancel", nil).WantError(t, http.StatusConflict, CodeOrderConfirmed, "")
	f.Do(http.MethodPost, "/v1/orders/nope/confirm", nil).WantError(t, http.StatusNotFound, CodeOrderNotFound, "orderId")
	f.Do(http.MethodGet, "/v1/orders/nope", nil).WantError(t, http.StatusNotFound, CodeOrderNotFound, "orderId")
}

func TestCancel(t *testing.T) {
	f := newFixture(t)
	first := f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder())
	first.Want(t, http.StatusCreated, nil)
	for i := range 2 {
		var got Order
		f.Do(http.MethodPost, "/v1/orders/ord-1/cancel", `{"reason":"payment declined"}`).Want(t, http.StatusOK, &got)
		if got.Status != Cancelled || got.Reason != "payment declined" || got.Tombstone {
			t.Errorf("cancel %d = %+v, want CANCELLED with reason, no tombstone", i, got)
		}
	}
	f.Do(http.MethodPost, "/v1/orders/ord-1/confirm", nil).WantError(t, http.StatusConflict, CodeOrderCancelled, "")
	// A replay of the create after its compensation returns the first answer and changes nothing.
	f.Do(http.MethodPut, "/v1/orders/ord-1", laptopOrder()).WantSame(t, first)
	var got Order
	f.Do(http.MethodGet, "/v1/orders/ord-1", nil).Want(t, http.StatusOK, &got)
	if got.Status != Cancelled {
		t.Errorf("status after replay = %s, want CANCELLED", got.Status)
	}
}

func TestCancelBeforeCreateLeavesTombstone(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		got := f.Do(http.MethodPost, "/v1/orders/ord-9/cancel", "").Object(t)
		want := map[string]any{"orderId": "ord-9", "status": "CANCELLED", "tombstone": true,
			"createdAt": "2026-11-28T12:00:00Z", "updatedAt": "2026-11-28T12:00:00Z"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("cancel of an absent order: -want +got:\n%s", diff)
		}
	}
	f.Do(http.MethodPut, "/v1/orders/ord-9", laptopOrder()).WantError(t, http.StatusConflict, platform.CodeAlreadyCompensated, "")
	f.Do(http.MethodPost, "/v1/orders/ord-9/confirm", nil).WantError(t, http.StatusConflict, CodeOrderCancelled, "")
	if n := f.Count(t, "orders"); n != 1 {
		t.Errorf("documents = %d, want only the tombstone", n)
	}
	var list platform.ListResponse[Order]
	f.Do(http.MethodGet, "/v1/orders", nil).Want(t, http.StatusOK, &list)
	if len(list.Items) != 0 {
		t.Errorf("list shows %d orders, want tombstones hidden", len(list.Items))
	}
}

func TestListFiltersAndPaginates(t *testing.T) {
	f := newFixture(t)
	for i := range 5 {
		body := laptopOrder()
		body["customerId"] = fmt.Sprintf("c-%d", i%2)
		f.Do(http.MethodPut, fmt.Sprintf("/v1/orders/ord-%d", i), body).Want(t, http.StatusCreated, nil)
	}
	f.Do(http.MethodPost, "/v1/orders/ord-2/confirm", nil).Want(t, http.StatusOK, nil)

	var ids []string
	token := ""
	for range 5 {
		var page platform.ListResponse[Order]
		f.Do(http.MethodGet, "/v1/orders?customerId=c-0&limit=2&pageToken="+token, nil).Want(t, http.StatusOK, &page)
		for _, o := range page.Items {
			ids = append(ids, o.OrderID)
		}
		if token = page.NextPageToken; token == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"ord-0", "ord-2", "ord-4"}, ids); diff != "" {
		t.Errorf("pages of customer c-0: -want +got:\n%s", diff)
	}
	var confirmed platform.ListResponse[Order]
	f.Do(http.MethodGet, "/v1/orders?status=CONFIRMED", nil).Want(t, http.StatusOK, &confirmed)
	if len(confirmed.Items) != 1 || confirmed.Items[0].OrderID != "ord-2" {
		t.Errorf("CONFIRMED orders = %+v, want ord-2 only", confirmed.Items)
	}
}

func TestListRejectsBadParameters(t *testing.T) {
	f := newFixture(t)
	for query, field := range map[string]string{
		"limit=0":           "limit",
		"limit=501":         "limit",
		"limit=x":           "limit",
		"status=SHIPPED":    "status",
		"pageToken=garbage": "pageToken",
		"color=red":         "color",
		"limit=1&limit=2":   "limit",
	} {
		f.Do(http.MethodGet, "/v1/orders?"+query, nil).WantError(t, http.StatusBadRequest, platform.CodeInvalidArgument, field)
	}
}
