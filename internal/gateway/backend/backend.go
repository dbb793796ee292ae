// Package backend reads what the five services know of an order, through their read
// endpoints (docs/services.md), with a timeout on every call and a per-request Loader
// that makes each distinct call once and runs them in parallel.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Order is the order service's record.
type Order struct {
	OrderID  string  `json:"orderId"`
	Status   string  `json:"status"`
	Currency string  `json:"currency"`
	Total    *string `json:"total"`
}

// Payment is the payment service's record.
type Payment struct {
	PaymentID string  `json:"paymentId"`
	OrderID   string  `json:"orderId"`
	Status    string  `json:"status"`
	Amount    *string `json:"amount"`
	Currency  string  `json:"currency"`
}

// Shipment is the shipping service's record.
type Shipment struct {
	ShipmentID        string `json:"shipmentId"`
	OrderID           string `json:"orderId"`
	Status            string `json:"status"`
	Carrier           string `json:"carrier"`
	TrackingNumber    string `json:"trackingNumber"`
	EstimatedDelivery string `json:"estimatedDelivery"`
}

// Notification is one notice the notification service sent.
type Notification struct {
	NotificationID string `json:"notificationId"`
	OrderID        string `json:"orderId"`
	Type           string `json:"type"`
	Status         string `json:"status"`
}

// Product is one catalog entry.
type Product struct {
	ProductID    string `json:"productId"`
	Name         string `json:"name"`
	Price        string `json:"price"`
	Stock        int    `json:"stock"`
	Discontinued bool   `json:"discontinued"`
}

// ErrNotFound is a 404 from a service: it has no record under that ID.
var ErrNotFound = errors.New("not found")

// UnavailableError is a service that did not answer in time, or answered with an error.
type UnavailableError struct {
	Service string
	Err     error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("the %s service is unavailable: %v", e.Service, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Client calls the services.
type Client struct {
	http     *http.Client
	resolver stepclient.Resolver
	timeout  time.Duration
	calls    *prometheus.CounterVec
	seconds  *prometheus.HistogramVec
}

// Metrics count the services' calls; register them once per process.
type Metrics struct {
	Calls   *prometheus.CounterVec
	Seconds *prometheus.HistogramVec
}

// NewMetrics returns the gateway's backend metrics, registered with reg.
func NewMetrics(reg prometheus.Registerer) (*Metrics, error) {
	m := &Metrics{
		Calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ordersaga_gateway_backend_requests_total",
			Help: "Calls from the gateway to a service's read endpoints, by service and outcome (ok, not_found, error, timeout).",
		}, []string{"service", "outcome"}),
		Seconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "ordersaga_gateway_backend_request_duration_seconds",
			Help:    "Duration of the gateway's calls to a service.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 14),
		}, []string{"service"}),
	}
	for _, c := range []prometheus.Collector{m.Calls, m.Seconds} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register backend metrics: %w", err)
		}
	}
	return m, nil
}

// NewClient returns a client of the services that resolver locates; every call gives up
// after timeout.
func NewClient(resolver stepclient.Resolver, timeout time.Duration, metrics *Metrics) *Client {
	transport := &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
	}
	return &Client{
		http:     &http.Client{Transport: transport},
		resolver: resolver,
		timeout:  timeout,
		calls:    metrics.Calls,
		seconds:  metrics.Seconds,
	}
}

type page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"nextPageToken"`
}

// maxPages bounds a list read: a catalog or a notice list longer than this is cut.
const maxPages = 20

// get decodes GET service+path into out.
func (c *Client) get(ctx context.Context, service, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	begin := time.Now()
	outcome := "error"
	defer func() {
		c.calls.WithLabelValues(service, outcome).Inc()
		c.seconds.WithLabelValues(service).Observe(time.Since(begin).Seconds())
	}()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.resolver.BaseURL(service)+path, nil)
	if err != nil {
		return &UnavailableError{Service: service, Err: err}
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			outcome = "timeout"
			err = fmt.Errorf("no answer within %s", c.timeout)
		} else {
			err = withoutAddress(err)
		}
		return &UnavailableError{Service: service, Err: err}
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &UnavailableError{Service: service, Err: fmt.Errorf("read answer: %w", err)}
	}
	switch {
	case resp.StatusCode == http.StatusNotFound:
		outcome = "not_found"
		return ErrNotFound
	case resp.StatusCode != http.StatusOK:
		return &UnavailableError{Service: service, Err: fmt.Errorf("it answered %s", resp.Status)}
	}
	if err := json.Unmarshal(body, out); err != nil {
		return &UnavailableError{Service: service, Err: fmt.Errorf("decode GET %s: %w", path, err)}
	}
	outcome = "ok"
	return nil
}

// withoutAddress is a transport error without the service's URL and address, which are
// the cluster's business, not the caller's: "connect: connection refused".
func withoutAddress(err error) error {
	if opErr, ok := errors.AsType[*net.OpError](err); ok {
		return opErr.Err
	}
	if urlErr, ok := errors.AsType[*url.Error](err); ok {
		return urlErr.Err
	}
	return err
}

// Order reads one order record.
func (c *Client) Order(ctx context.Context, id string) (*Order, error) {
	var o Order
	if err := c.get(ctx, stepclient.ServiceOrder, "/v1/orders/"+url.PathEscape(id), &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// Payment reads one payment.
func (c *Client) Payment(ctx context.Context, id string) (*Payment, error) {
	var p Payment
	if err := c.get(ctx, stepclient.ServicePayment, "/v1/payments/"+url.PathEscape(id), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// Shipment reads one shipment.
func (c *Client) Shipment(ctx context.Context, id string) (*Shipment, error) {
	var s Shipment
	if err := c.get(ctx, stepclient.ServiceShipping, "/v1/shipments/"+url.PathEscape(id), &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Notifications lists the notices sent for an order.
func (c *Client) Notifications(ctx context.Context, orderID string) ([]Notification, error) {
	return list[Notification](ctx, c, stepclient.ServiceNotification, "/v1/notifications", url.Values{"orderId": {orderID}})
}

// Products lists the catalog.
func (c *Client) Products(ctx context.Context) ([]Product, error) {
	return list[Product](ctx, c, stepclient.ServiceInventory, "/v1/products", url.Values{})
}

// MaxBatch is the most order IDs one batched read names (the services' limit on orderIds).
const MaxBatch = 100

// OrdersOf reads the order records of many orders in one call.
func (c *Client) OrdersOf(ctx context.Context, orderIDs []string) (map[string][]Order, error) {
	return byOrder(ctx, c, stepclient.ServiceOrder, "/v1/orders", orderIDs, func(o Order) string { return o.OrderID })
}

// PaymentsOf reads the payments of many orders in one call.
func (c *Client) PaymentsOf(ctx context.Context, orderIDs []string) (map[string][]Payment, error) {
	return byOrder(ctx, c, stepclient.ServicePayment, "/v1/payments", orderIDs, func(p Payment) string { return p.OrderID })
}

// ShipmentsOf reads the shipments of many orders in one call.
func (c *Client) ShipmentsOf(ctx context.Context, orderIDs []string) (map[string][]Shipment, error) {
	return byOrder(ctx, c, stepclient.ServiceShipping, "/v1/shipments", orderIDs, func(s Shipment) string { return s.OrderID })
}

// NotificationsOf reads the notices of many orders in one call.
func (c *Client) NotificationsOf(ctx context.Context, orderIDs []string) (map[string][]Notification, error) {
	return byOrder(ctx, c, stepclient.ServiceNotification, "/v1/notifications", orderIDs, func(n Notification) string { return n.OrderID })
}

// byOrder lists the records of up to MaxBatch orders with the orderIds filter, grouped by
// order.
func byOrder[T any](ctx context.Context, c *Client, service, path string, orderIDs []string, orderOf func(T) string) (map[string][]T, error) {
	if len(orderIDs) > MaxBatch {
		return nil, fmt.Errorf("a batch of %d orders is more than %d", len(orderIDs), MaxBatch)
	}
	items, err := list[T](ctx, c, service, path, url.Values{"orderIds": {strings.Join(orderIDs, ",")}, "limit": {"500"}})
	if err != nil {
		return nil, err
	}
	out := make(map[string][]T, len(orderIDs))
	for _, it := range items {
		out[orderOf(it)] = append(out[orderOf(it)], it)
	}
	return out, nil
}

func list[T any](ctx context.Context, c *Client, service, path string, query url.Values) ([]T, error) {
	var all []T
	for range maxPages {
		var pg page[T]
		if err := c.get(ctx, service, path+"?"+query.Encode(), &pg); err != nil {
			return nil, err
		}
		all = append(all, pg.Items...)
		if pg.NextPageToken == "" {
			break
		}
		query.Set("pageToken", pg.NextPageToken)
	}
	return all, nil
}
