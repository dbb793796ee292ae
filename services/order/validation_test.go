package order

import (
	"net/http"
	"strings"
	"testing"

	"github.com/ordersaga/ordersaga/services/platform"
)

func TestCreateRejectsInvalidInput(t *testing.T) {
	f := newFixture(t)
	with := func(edit func(m map[string]any)) map[string]any {
		m := laptopOrder()
		edit(m)
		return m
	}
	item := func(m map[string]any, i int) map[string]any { return m["items"].([]any)[i].(map[string]any) }
	cases := map[string]struct {
		path  string
		body  any
		code  string
		field string
	}{
		"BadID":            {"/v1/orders/-bad", laptopOrder(), platform.CodeInvalidArgument, "orderId"},
		"EmptyBody":        {"/v1/orders/o", "", platform.CodeInvalidJSON, ""},
		"NotJSON":          {"/v1/orders/o", "{", platform.CodeInvalidJSON, ""},
		"Array":            {"/v1/orders/o", "[]", platform.CodeInvalidType, ""},
		"TrailingData":     {"/v1/orders/o", `{"customerId":"c"} {}`, platform.CodeInvalidJSON, ""},
		"UnknownField":     {"/v1/orders/o", with(func(m map[string]any) { m["discount"] = "5" }), platform.CodeUnknownField, "discount"},
		"UnknownItemField": {"/v1/orders/o", with(func(m map[string]any) { item(m, 1)["sku"] = "x" }), platform.CodeUnknownField, "items[1].sku"},
		"WrongCase":        {"/v1/orders/o", with(func(m map[string]any) { m["CustomerID"] = m["customerId"] }), platform.CodeUnknownField, "CustomerID"},
		"QuantityString":   {"/v1/orders/o", with(func(m map[string]any) { item(m, 1)["quantity"] = "2" }), platform.CodeInvalidType, "items[1].quantity"},
		"QuantityFloat":    {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["quantity"] = 1.5 }), platform.CodeInvalidType, "items[0].quantity"},
		"PriceNumber":      {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["unitPrice"] = 9.99 }), platform.CodeInvalidType, "items[0].unitPrice"},
		"ItemsObject":      {"/v1/orders/o", with(func(m map[string]any) { m["items"] = map[string]any{} }), platform.CodeInvalidType, "items"},
		"NoCustomer":       {"/v1/orders/o", with(func(m map[string]any) { delete(m, "customerId") }), platform.CodeInvalidArgument, "customerId"},
		"LongCustomer":     {"/v1/orders/o", with(func(m map[string]any) { m["customerId"] = strings.Repeat("c", 65) }), platform.CodeInvalidArgument, "customerId"},
		"ControlChar":      {"/v1/orders/o", with(func(m map[string]any) { m["customerId"] = "c\n1" }), platform.CodeInvalidArgument, "customerId"},
		"Currency":         {"/v1/orders/o", with(func(m map[string]any) { m["currency"] = "usd" }), platform.CodeInvalidArgument, "currency"},
		"NoItems":          {"/v1/orders/o", with(func(m map[string]any) { m["items"] = []any{} }), platform.CodeInvalidArgument, "items"},
		"DuplicateProduct": {"/v1/orders/o", with(func(m map[string]any) { item(m, 1)["productId"] = "LAP-001" }), platform.CodeInvalidArgument, "items[1].productId"},
		"ZeroQuantity":     {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["quantity"] = 0 }), platform.CodeInvalidArgument, "items[0].quantity"},
		"NegativeQuantity": {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["quantity"] = -1 }), platform.CodeInvalidArgument, "items[0].quantity"},
		"HugeQuantity":     {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["quantity"] = 1001 }), platform.CodeInvalidArgument, "items[0].quantity"},
		"ZeroPrice":        {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["unitPrice"] = "0.00" }), platform.CodeInvalidArgument, "items[0].unitPrice"},
		"ThreeDecimals":    {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["unitPrice"] = "1.999" }), platform.CodeInvalidArgument, "items[0].unitPrice"},
		"NegativePrice":    {"/v1/orders/o", with(func(m map[string]any) { item(m, 0)["unitPrice"] = "-1.00" }), platform.CodeInvalidArgument, "items[0].unitPrice"},
		"NoPrice":          {"/v1/orders/o", with(func(m map[string]any) { delete(item(m, 0), "unitPrice") }), platform.CodeInvalidArgument, "items[0].unitPrice"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			f.Do(http.MethodPut, tc.path, tc.body).WantError(t, http.StatusBadRequest, tc.code, tc.field)
		})
	}
	tooMany := laptopOrder()
	items := make([]any, 0, 51)
	for i := range 51 {
		items = append(items, map[string]any{"productId": "P" + strings.Repeat("x", i), "quantity": 1, "unitPrice": "1.00"})
	}
	tooMany["items"] = items
	f.Do(http.MethodPut, "/v1/orders/o", tooMany).WantError(t, http.StatusBadRequest, platform.CodeInvalidArgument, "items")
	f.Do(http.MethodPut, "/v1/orders/o", strings.Repeat(" ", platform.MaxBody+1)).WantError(t, http.StatusRequestEntityTooLarge, platform.CodeBodyTooLarge, "")
	f.Do(http.MethodPost, "/v1/orders/o/cancel", `{"reason":1}`).WantError(t, http.StatusBadRequest, platform.CodeInvalidType, "reason")
	f.Do(http.MethodPost, "/v1/orders/o/cancel", `{"why":"x"}`).WantError(t, http.StatusBadRequest, platform.CodeUnknownField, "why")
	if n := f.Count(t, "orders"); n != 0 {
		t.Errorf("documents after invalid requests = %d, want 0 (nothing written)", n)
	}
}
