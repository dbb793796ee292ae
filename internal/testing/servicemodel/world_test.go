package servicemodel_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// send calls service through w.Client and returns the status, or 0 after reporting an
// error; it never stops the test, so that goroutines may call it.
func send(t *testing.T, w *servicemodel.World, service, method, path string, body any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Errorf("encode: %v", err)
			return 0
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, w.URL(service)+path, rd)
	if err != nil {
		t.Errorf("new request: %v", err)
		return 0
	}
	resp, err := w.Client().Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, path, err)
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close() // drained: a failed close loses nothing
	return resp.StatusCode
}

// TestEffectsAndInspection drives a saga that rolls back, compensations that come first
// and late actions through the in-process client, then reads the effect log and the
// inspection functions.
func TestEffectsAndInspection(t *testing.T) {
	clock := &testClock{t: t0}
	w := servicemodel.New(baseConfig(clock.Now))
	for i, c := range sagaCalls() {
		clock.advance(time.Second)
		if got := send(t, w, c.service, c.method, c.path, c.body); got != c.status {
			t.Fatalf("call %d %s %s = %d, want %d", i+1, c.method, c.path, got, c.status)
		}
	}

	effects := w.Effects()
	if diff := cmp.Diff(sagaEffects(), effects); diff != "" {
		t.Errorf("Effects(): -want +got:\n%s", diff)
	}

	// Stock moves balance: everything taken was returned exactly once.
	moved := map[string]int{}
	for _, e := range effects {
		if p, d, ok := e.StockMove(); ok {
			moved[p] += d
		}
	}
	if diff := cmp.Diff(map[string]int{"LAP-001": 0, "PHN-001": 0}, moved); diff != "" {
		t.Errorf("net stock moves: -want +got:\n%s", diff)
	}

	checkInspection(t, w)
}

// sagaCall is one request of sagaCalls and the status it must get.
type sagaCall struct {
	service, method, path string
	body                  any
	status                int
}

// sagaCalls run a saga that rolls back (with a replay, stored failures and refusals on
// the way), compensations that come first, late actions and a catalog write.
func sagaCalls() []sagaCall {
	return []sagaCall{
		{"order", "PUT", "/v1/orders/o-1", orderBody(), 201},
		{"inventory", "PUT", "/v1/reservations/r-1", reserveBody("o-1", "LAP-001", 2, "PHN-001", 1), 201},
		{"inventory", "PUT", "/v1/reservations/r-1", reserveBody("o-1", "LAP-001", 2, "PHN-001", 1), 201}, // replay
		{"inventory", "PUT", "/v1/reservations/r-2", reserveBody("o-2", "TAB-001", 31), 409},              // stored failure
		{"payment", "PUT", "/v1/payments/p-1", paymentBody("2699.88", "CREDIT_CARD"), 201},
		{"payment", "PUT", "/v1/payments/p-2", paymentBody("10", "PAYPAL"), 402},
		{"shipping", "PUT", "/v1/shipments/s-1", shipmentBody("EXPRESS", address("US")), 201},
		{"shipping", "PUT", "/v1/shipments/s-2", shipmentBody("STANDARD", address("BR")), 422},
		{"notification", "PUT", "/v1/notifications/n-1", notificationBody("ORDER_CANCELLED", "customerId", "c-unlucky"), 201},
		{"notification", "PUT", "/v1/notifications/n-2", notificationBody("ORDER_CANCELLED"), 409}, // refused: exists
		{"shipping", "POST", "/v1/shipments/s-1/cancel", nil, 200},
		{"payment", "POST", "/v1/payments/p-1/refund", obj("reason", "out of stock"), 200},
		{"payment", "POST", "/v1/payments/p-1/refund", nil, 200}, // nothing left to undo
		{"inventory", "POST", "/v1/reservations/r-1/release", nil, 200},
		{"inventory", "POST", "/v1/reservations/r-1/release", nil, 200},
		{"order", "POST", "/v1/orders/o-1/cancel", nil, 200},
		{"order", "POST", "/v1/orders/o-1/confirm", nil, 409},
		{"order", "POST", "/v1/orders/o-9/cancel", nil, 200}, // tombstones
		{"inventory", "POST", "/v1/reservations/r-9/release", nil, 200},
		{"payment", "POST", "/v1/payments/p-9/refund", nil, 200},
		{"shipping", "POST", "/v1/shipments/s-9/cancel", nil, 200},
		{"inventory", "PUT", "/v1/reservations/r-9", reserveBody("o-9", "LAP-001", 1), 409}, // late action
		{"payment", "PUT", "/v1/payments/p-1", paymentBody("1", "CREDIT_CARD"), 409},        // key reuse
		{"inventory", "PUT", "/v1/products/LAP-001", obj("name", "Laptop", "price", "999.99", "stock", 40), 200},
	}
}

// sagaEffects is the effect log sagaCalls leave: replays, refusals and compensations with
// nothing left to undo are absent.
func sagaEffects() []servicemodel.Effect {
	return []servicemodel.Effect{
		{Service: "order", ID: "o-1", Change: "created"},
		{Service: "inventory", ID: "r-1", Change: "took LAP-001 2"},
		{Service: "inventory", ID: "r-1", Change: "took PHN-001 1"},
		{Service: "inventory", ID: "r-1", Change: "reserved"},
		{Service: "inventory", ID: "r-2", Change: "failed OUT_OF_STOCK"},
		{Service: "payment", ID: "p-1", Change: "captured 2699.88"},
		{Service: "payment", ID: "p-2", Change: "declined 10.00"},
		{Service: "shipping", ID: "s-1", Change: "scheduled"},
		{Service: "shipping", ID: "s-2", Change: "rejected"},
		{Service: "notification", ID: "n-1", Change: "failed ORDER_CANCELLED"},
		{Service: "shipping", ID: "s-1", Change: "cancelled"},
		{Service: "payment", ID: "p-1", Change: "refunded 2699.88"},
		{Service: "inventory", ID: "r-1", Change: "returned LAP-001 2"},
		{Service: "inventory", ID: "r-1", Change: "returned PHN-001 1"},
		{Service: "inventory", ID: "r-1", Change: "released"},
		{Service: "order", ID: "o-1", Change: "cancelled"},
		{Service: "order", ID: "o-9", Change: "tombstoned"},
		{Service: "inventory", ID: "r-9", Change: "tombstoned"},
		{Service: "payment", ID: "p-9", Change: "tombstoned"},
		{Service: "shipping", ID: "s-9", Change: "tombstoned"},
		{Service: "inventory", ID: "LAP-001", Change: "put stock 40"},
	}
}

func checkInspection(t *testing.T, w *servicemodel.World) {
	t.Helper()
	checkOrdersAndStock(t, w)
	checkPaymentsAndDelivery(t, w)
	counts := []int{len(w.Orders()), len(w.Reservations()), len(w.Payments()), len(w.Shipments()), len(w.Notifications("")), len(w.Products())}
	if diff := cmp.Diff([]int{2, 3, 3, 3, 1, 6}, counts); diff != "" {
		t.Errorf("orders, reservations, payments, shipments, notifications, products: -want +got:\n%s", diff)
	}
}

// checkOrdersAndStock reads the orders, the reservations and the stock they left.
func checkOrdersAndStock(t *testing.T, w *servicemodel.World) {
	t.Helper()
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	o, _ := w.Order("o-1")
	if o.Status != order.Cancelled || o.Total != 2699_88 || o.Tombstone || !o.CreatedAt.Equal(at(1)) || !o.UpdatedAt.Equal(at(16)) {
		t.Errorf("Order(o-1) = %+v, want CANCELLED, 2699.88, created at +1s, updated at +16s", o)
	}
	if o9, ok := w.Order("o-9"); !ok || !o9.Tombstone || o9.Status != order.Cancelled {
		t.Errorf("Order(o-9) = %+v, %v; want a CANCELLED tombstone", o9, ok)
	}
	if _, ok := w.Order("o-404"); ok {
		t.Error("Order(o-404) found, want none")
	}
	r, _ := w.Reservation("r-1")
	wantItems := []inventory.Item{{ProductID: "LAP-001", Quantity: 2}, {ProductID: "PHN-001", Quantity: 1}}
	if r.Status != inventory.Released || !cmp.Equal(r.Items, wantItems) {
		t.Errorf("Reservation(r-1) = %+v, want RELEASED with its items", r)
	}
	r.Items[0].Quantity = 999 // a copy: the model must not change
	if again, _ := w.Reservation("r-1"); again.Items[0].Quantity != 2 {
		t.Error("Reservation returned the model's own slice, want a copy")
	}
	if r2, _ := w.Reservation("r-2"); r2.Status != inventory.Failed || r2.Failure != inventory.CodeOutOfStock {
		t.Errorf("Reservation(r-2) = %+v, want FAILED OUT_OF_STOCK", r2)
	}
	for product, want := range map[string]int{"LAP-001": 40, "PHN-001": 100, "TAB-001": 30} {
		if got, ok := w.Stock(product); !ok || got != want {
			t.Errorf("Stock(%s) = %d, %v; want %d", product, got, ok, want)
		}
	}
}

// checkPaymentsAndDelivery reads the payments, the shipment and the notices.
func checkPaymentsAndDelivery(t *testing.T, w *servicemodel.World) {
	t.Helper()
	if p, _ := w.Payment("p-1"); p.Status != payment.Refunded || p.Refunded != p.Amount || p.Reason != "out of stock" {
		t.Errorf("Payment(p-1) = %+v, want REFUNDED in full with the first reason", p)
	}
	if p, _ := w.Payment("p-2"); p.Status != payment.Declined || p.DeclineReason == "" {
		t.Errorf("Payment(p-2) = %+v, want DECLINED with a reason", p)
	}
	if s, _ := w.Shipment("s-1"); s.Status != shipping.Cancelled || s.Carrier != "UPS" || s.Address == nil || s.Address.Country != "US" {
		t.Errorf("Shipment(s-1) = %+v, want a CANCELLED UPS shipment to US", s)
	}
	n := w.Notifications("o-1")
	if len(n) != 1 || n[0].ID != "n-1" || n[0].Status != "FAILED" {
		t.Errorf("Notifications(o-1) = %+v, want n-1 FAILED only", n)
	}
}

// TestClientReadsPages shows the in-process client serving reads as the collector does:
// every page, by nextPageToken.
func TestClientReadsPages(t *testing.T) {
	w := servicemodel.New(servicemodel.Config{Now: func() time.Time { return t0 }})
	var ids []string
	next := ""
	for range 10 {
		resp, err := fetch(t, w, w.URL(servicemodel.Inventory)+"/v1/products?limit=4&pageToken="+next)
		if err != nil {
			t.Fatalf("list products: %v", err)
		}
		var page platform.ListResponse[inventory.Product]
		err = json.NewDecoder(resp.Body).Decode(&page)
		_ = resp.Body.Close() // read: a failed close loses nothing
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("list products = %d, %v", resp.StatusCode, err)
		}
		for _, p := range page.Items {
			ids = append(ids, p.ProductID)
		}
		if next = page.NextPageToken; next == "" {
			break
		}
	}
	if diff := cmp.Diff([]string{"HDP-001", "LAP-001", "MON-001", "OLD-001", "PHN-001", "TAB-001"}, ids); diff != "" {
		t.Errorf("products read page by page: -want +got:\n%s", diff)
	}
	if resp, err := fetch(t, w, "http://warehouse/v1/things"); err == nil {
		_ = resp.Body.Close()
		t.Error("a request to an unknown service succeeded, want an error")
	}
}

// fetch GETs url through w's in-process client, bound to the test's context.
func fetch(t *testing.T, w *servicemodel.World, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatalf("new request GET %s: %v", url, err)
	}
	return w.Client().Do(req) //nolint:wrapcheck // the caller reports it, naming the request
}

func TestNewNeedsAClock(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without Now did not panic")
		}
	}()
	servicemodel.New(servicemodel.Config{})
}

// TestConcurrentReservesNeverOversell races reservations of the last units: each request
// is atomic in the model, so exactly the stock is sold and the log agrees.
func TestConcurrentReservesNeverOversell(t *testing.T) {
	w := servicemodel.New(servicemodel.Config{Now: func() time.Time { return t0 }})
	statuses := make(chan int, 100)
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Go(func() {
			statuses <- send(t, w, servicemodel.Inventory, http.MethodPut, "/v1/reservations/r-"+itoa(i), reserveBody("o-"+itoa(i), "TAB-001", 1))
		})
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if diff := cmp.Diff(map[int]int{http.StatusCreated: 30, http.StatusConflict: 70}, counts); diff != "" {
		t.Errorf("answers by status: -want +got:\n%s", diff)
	}
	taken := 0
	for _, e := range w.Effects() {
		if _, d, ok := e.StockMove(); ok {
			taken -= d
		}
	}
	if left, _ := w.Stock("TAB-001"); left != 0 || taken != 30 {
		t.Errorf("stock left %d, taken per the log %d; want 0 and 30", left, taken)
	}
}
