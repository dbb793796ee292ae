// Package collect gathers a consistency.Snapshot: the OrderSagas from the Kubernetes API
// and the services' documents from their HTTP list endpoints (every page, bounded page
// size, a timeout per request). The checker itself stays pure.
package collect

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// Defaults of a Collector.
const (
	DefaultRequestTimeout = 10 * time.Second
	DefaultPageSize       = 200
	// MaxPageSize is the largest page the services serve.
	MaxPageSize = 500
	// maxBody bounds one answer read into memory.
	maxBody = 32 << 20
)

// ServiceURLs are the base URLs of the five services, for example
// http://order.shop.svc.cluster.local:8080 (no trailing slash needed).
type ServiceURLs struct {
	Order, Inventory, Payment, Shipping, Notification string
}

// Collector reads a snapshot. The zero value of every optional field is a sensible default.
type Collector struct {
	// Kube reads the OrderSagas.
	Kube client.Reader
	// Namespace limits the sagas read; "" reads every namespace. The services' data is
	// always read whole: it does not know namespaces.
	Namespace string
	// URLs are the services' base URLs.
	URLs ServiceURLs
	// HTTP sends the requests; nil means a client with default transport.
	HTTP *http.Client
	// RequestTimeout bounds each HTTP request (one page); 0 means DefaultRequestTimeout.
	RequestTimeout time.Duration
	// PageSize is the limit asked per page, 1 to MaxPageSize; 0 means DefaultPageSize.
	PageSize int
}

// Collect reads the sagas first, then orders, products, reservations, payments, shipments
// and notifications: each document before those whose state it vouches for, so that a saga
// that moves on between the reads is never taken for an inconsistency (consistency.Snapshot
// says why this order).
func (c Collector) Collect(ctx context.Context) (consistency.Snapshot, error) {
	var s consistency.Snapshot
	var err error
	if s.Sagas, err = c.sagas(ctx); err != nil {
		return s, err
	}
	if s.Orders, err = list[consistency.Order](ctx, c, "order", c.URLs.Order, "/v1/orders"); err != nil {
		return s, err
	}
	if s.Products, err = list[consistency.Product](ctx, c, "inventory", c.URLs.Inventory, "/v1/products"); err != nil {
		return s, err
	}
	if s.Reservations, err = list[consistency.Reservation](ctx, c, "inventory", c.URLs.Inventory, "/v1/reservations"); err != nil {
		return s, err
	}
	if s.Payments, err = list[consistency.Payment](ctx, c, "payment", c.URLs.Payment, "/v1/payments"); err != nil {
		return s, err
	}
	if s.Shipments, err = list[consistency.Shipment](ctx, c, "shipping", c.URLs.Shipping, "/v1/shipments"); err != nil {
		return s, err
	}
	s.Notifications, err = list[consistency.Notification](ctx, c, "notification", c.URLs.Notification, "/v1/notifications")
	return s, err
}

// sagas lists the OrderSagas page by page.
func (c Collector) sagas(ctx context.Context) ([]consistency.Saga, error) {
	opts := []client.ListOption{client.Limit(MaxPageSize)}
	if c.Namespace != "" {
		opts = append(opts, client.InNamespace(c.Namespace))
	}
	out := make([]consistency.Saga, 0)
	for cont := ""; ; {
		l := &v1.OrderSagaList{}
		if err := c.Kube.List(ctx, l, append(opts, client.Continue(cont))...); err != nil {
			return nil, fmt.Errorf("list OrderSagas: %w", err)
		}
		for i := range l.Items {
			out = append(out, SagaOf(&l.Items[i]))
		}
		if cont = l.Continue; cont == "" {
			return out, nil
		}
	}
}

// SagaOf returns what the checker needs of obj.
func SagaOf(obj *v1.OrderSaga) consistency.Saga {
	s := consistency.Saga{
		Namespace: obj.Namespace, Name: obj.Name, Phase: obj.Status.Phase,
		OrderID: ordersaga.OrderID(string(obj.UID)), OrderCreated: obj.Status.OrderID != "",
		Total: obj.Status.Total, Currency: obj.Spec.Currency, Suspended: obj.Spec.Suspend,
		CreatedAt: obj.CreationTimestamp.Time, Message: obj.Status.Message,
	}
	if obj.Status.OrderID != "" { // the controller records the ID the service answered
		s.OrderID = obj.Status.OrderID
	}
	if s.Currency == "" {
		s.Currency = "USD" // the CRD default
	}
	if obj.Status.StartedAt != nil {
		s.StartedAt = obj.Status.StartedAt.Time
	}
	return s
}

// page is the shape of every list answer.
type page[T any] struct {
	Items         []T    `json:"items"`
	NextPageToken string `json:"nextPageToken"`
}

// list reads every page of base+path.
func list[T any](ctx context.Context, c Collector, service, base, path string) ([]T, error) {
	if base == "" {
		return nil, fmt.Errorf("%s service: no URL", service)
	}
	size := c.PageSize
	if size <= 0 || size > MaxPageSize {
		size = DefaultPageSize
	}
	out := make([]T, 0)
	for token := ""; ; {
		q := url.Values{"limit": {strconv.Itoa(size)}}
		if token != "" {
			q.Set("pageToken", token)
		}
		u := strings.TrimRight(base, "/") + path + "?" + q.Encode()
		var p page[T]
		if err := c.getJSON(ctx, u, &p); err != nil {
			return nil, fmt.Errorf("%s service: GET %s: %w", service, u, err)
		}
		out = append(out, p.Items...)
		switch p.NextPageToken {
		case "":
			return out, nil
		case token:
			return nil, fmt.Errorf("%s service: GET %s: the next page token repeats the current one", service, u)
		}
		token = p.NextPageToken
	}
}

// getJSON GETs u within the request timeout and decodes a 200 answer into v; any other
// status is an error carrying the service's error code and message.
func (c Collector) getJSON(ctx context.Context, u string, v any) error {
	timeout := c.RequestTimeout
	if timeout <= 0 {
		timeout = DefaultRequestTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ue, ok := errors.AsType[*url.Error](err); ok {
			err = ue.Err // the caller names the method and URL already
		}
		return fmt.Errorf("no answer: %w", err)
	}
	defer func() { _ = resp.Body.Close() }() // read-only: a failed close loses nothing
	body := io.LimitReader(resp.Body, maxBody)
	if resp.StatusCode != http.StatusOK {
		return statusError(resp.StatusCode, body)
	}
	if err := json.NewDecoder(body).Decode(v); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

// statusError describes a non-200 answer with the service's JSON error when it sent one.
func statusError(status int, body io.Reader) error {
	b, _ := io.ReadAll(io.LimitReader(body, 4096))
	var env struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &env) == nil && env.Error.Code != "" {
		return fmt.Errorf("%d %s: %s", status, env.Error.Code, env.Error.Message)
	}
	text := strings.TrimSpace(string(b))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return errors.New(strconv.Itoa(status) + " " + http.StatusText(status) + ": " + text)
}
