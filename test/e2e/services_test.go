package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// The services' documents, as far as the suite reads them (docs/services.md).
type (
	order struct {
		OrderID string `json:"orderId"`
		Status  string `json:"status"`
		Total   string `json:"total"`
	}
	product struct {
		ProductID string `json:"productId"`
		Stock     int    `json:"stock"`
	}
	reservation struct {
		ReservationID string `json:"reservationId"`
		OrderID       string `json:"orderId"`
		Status        string `json:"status"`
	}
	payment struct {
		PaymentID      string `json:"paymentId"`
		OrderID        string `json:"orderId"`
		Status         string `json:"status"`
		Amount         string `json:"amount"`
		RefundedAmount string `json:"refundedAmount"`
	}
	shipment struct {
		ShipmentID string `json:"shipmentId"`
		OrderID    string `json:"orderId"`
		Status     string `json:"status"`
	}
	notification struct {
		NotificationID string `json:"notificationId"`
		OrderID        string `json:"orderId"`
		Type           string `json:"type"`
		Status         string `json:"status"`
	}
)

// faults is the body of PUT /admin/faults (services/platform/faults.go).
type faults struct {
	ErrorRate float64  `json:"errorRate"`
	Latency   string   `json:"latency"`
	Routes    []string `json:"routes,omitempty"`
	Phase     string   `json:"phase,omitempty"`
}

// services are the five services, in saga order.
var services = []string{"order", "inventory", "payment", "shipping", "notification"}

// call makes one request to a service and returns the status and body.
func call(ctx context.Context, method, service, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, fmt.Errorf("encode body: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, sys.serviceURL(service)+path, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := sys.httpClient().Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s %s: %w", method, service, path, err)
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("%s %s %s: read the answer: %w", method, service, path, err)
	}
	return resp.StatusCode, b, nil
}

// getJSON reads path of service into out and returns the HTTP status; 404 leaves out alone.
func getJSON(ctx context.Context, service, path string, out any) int {
	GinkgoHelper()
	code, b, err := call(ctx, http.MethodGet, service, path, nil)
	Expect(err).NotTo(HaveOccurred())
	if code == http.StatusOK {
		Expect(json.Unmarshal(b, out)).To(Succeed(), "GET %s %s: %s", service, path, b)
	}
	return code
}

// listAll reads every page of a list endpoint (GET /v1/<things>?orderId=...).
func listAll[T any](ctx context.Context, service, path string, query url.Values) []T {
	GinkgoHelper()
	var all []T
	q := url.Values{"limit": {"500"}}
	maps.Copy(q, query)
	for {
		var page struct {
			Items         []T    `json:"items"`
			NextPageToken string `json:"nextPageToken"`
		}
		code := getJSON(ctx, service, path+"?"+q.Encode(), &page)
		Expect(code).To(Equal(http.StatusOK), "GET %s %s", service, path)
		all = append(all, page.Items...)
		if page.NextPageToken == "" {
			return all
		}
		q.Set("pageToken", page.NextPageToken)
	}
}

// byOrder lists one service's documents of one order.
func byOrder[T any](ctx context.Context, service, path, orderID string) []T {
	GinkgoHelper()
	return listAll[T](ctx, service, path, url.Values{"orderId": {orderID}})
}

// setProduct puts a product in the catalog with a known stock (PUT /v1/products/{id}).
func setProduct(ctx context.Context, id, price string, stock int) {
	GinkgoHelper()
	body := map[string]any{"name": "e2e " + id, "price": price, "stock": stock}
	code, b, err := call(ctx, http.MethodPut, "inventory", "/v1/products/"+id, body)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(BeElementOf(http.StatusOK, http.StatusCreated), "PUT product %s: %s", id, b)
}

// stockUp puts every product of sagas in the catalog with stock units and returns their IDs.
//
//nolint:unparam // each scenario chooses its stock; today they all start from 5 units
func stockUp(ctx context.Context, sagas []sagaSpec, price string, stock int) []string {
	GinkgoHelper()
	ids := products(sagas)
	for _, id := range ids {
		setProduct(ctx, id, price, stock)
	}
	return ids
}

// stockOf returns the units of a product available now.
func stockOf(ctx context.Context, id string) int {
	GinkgoHelper()
	var p product
	Expect(getJSON(ctx, "inventory", "/v1/products/"+id, &p)).To(Equal(http.StatusOK), "GET product %s", id)
	return p.Stock
}

// getOrder reads an order; ok is false on 404.
func getOrder(ctx context.Context, id string) (order, bool) {
	GinkgoHelper()
	var o order
	code := getJSON(ctx, "order", "/v1/orders/"+id, &o)
	Expect(code).To(BeElementOf(http.StatusOK, http.StatusNotFound), "GET order %s", id)
	return o, code == http.StatusOK
}

// setFaults changes one service's fault injection at run time.
func setFaults(ctx context.Context, service string, f faults) {
	GinkgoHelper()
	if f.Latency == "" {
		f.Latency = "0s"
	}
	code, b, err := call(ctx, http.MethodPut, service, "/admin/faults", f)
	Expect(err).NotTo(HaveOccurred())
	Expect(code).To(Equal(http.StatusOK), "PUT %s /admin/faults: %s", service, b)
}

// allFaultsOff switches fault injection off on every running service.
func allFaultsOff(ctx context.Context) {
	GinkgoHelper()
	for _, s := range services {
		setFaults(ctx, s, faults{})
	}
}

// scrape reads every service's /metrics and returns each sample whose series starts
// with prefix and passes keep, keyed by "<service> <series>".
func scrape(ctx context.Context, prefix string, keep func(series string) bool) map[string]float64 {
	GinkgoHelper()
	out := map[string]float64{}
	for _, s := range services {
		code, body, err := call(ctx, http.MethodGet, s, "/metrics", nil)
		Expect(err).NotTo(HaveOccurred())
		Expect(code).To(Equal(http.StatusOK))
		sc := bufio.NewScanner(bytes.NewReader(body))
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			l := sc.Text()
			i := strings.LastIndexByte(l, ' ')
			if !strings.HasPrefix(l, prefix) || i < 0 || !keep(l[:i]) {
				continue
			}
			var v float64
			_, err := fmt.Sscan(l[i+1:], &v)
			Expect(err).NotTo(HaveOccurred(), "metric line %q", l)
			out[s+" "+l[:i]] += v
		}
	}
	return out
}

// requestCounts returns the services' request counters of their business routes
// (ordersaga_http_requests_total with a /v1/ route).
func requestCounts(ctx context.Context) map[string]float64 {
	GinkgoHelper()
	return scrape(ctx, "ordersaga_http_requests_total{", func(series string) bool {
		return strings.Contains(series, "/v1/")
	})
}

// faultsInjected returns how many errors the services have injected so far.
func faultsInjected(ctx context.Context) float64 {
	GinkgoHelper()
	sum := 0.0
	for _, v := range scrape(ctx, "ordersaga_faults_injected_total{", func(series string) bool {
		return strings.Contains(series, `kind="error"`)
	}) {
		sum += v
	}
	return sum
}
