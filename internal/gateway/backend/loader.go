package backend

import (
	"context"
	"fmt"
	"sync"
)

// Loader is one GraphQL request's view of the services: each distinct read is made once,
// however many fields ask for it, and concurrent fields wait for the same call. gqlgen
// resolves sibling fields in parallel, so the reads of one query run side by side.
type Loader struct {
	client *Client
	dedupe bool

	mu    sync.Mutex
	calls map[string]*call
}

type call struct {
	done  chan struct{}
	value any
	err   error
}

// NewLoader returns a loader for one request. With dedupe false every field makes its own
// call, which is what the benchmark compares against.
func NewLoader(client *Client, dedupe bool) *Loader {
	return &Loader{client: client, dedupe: dedupe, calls: map[string]*call{}}
}

func load[T any](ctx context.Context, l *Loader, key string, fetch func(context.Context) (T, error)) (T, error) {
	if !l.dedupe {
		return fetch(ctx)
	}
	l.mu.Lock()
	c, ok := l.calls[key]
	if !ok {
		c = &call{done: make(chan struct{})}
		l.calls[key] = c
	}
	l.mu.Unlock()
	if !ok {
		c.value, c.err = fetch(ctx)
		close(c.done)
	}
	var zero T
	select {
	case <-c.done:
	case <-ctx.Done():
		return zero, fmt.Errorf("wait for %s: %w", key, ctx.Err())
	}
	if c.err != nil {
		return zero, c.err
	}
	v, ok := c.value.(T)
	if !ok {
		return zero, fmt.Errorf("loader key %s holds a %T", key, c.value)
	}
	return v, nil
}

// Order reads an order record once per request.
func (l *Loader) Order(ctx context.Context, id string) (*Order, error) {
	return load(ctx, l, "order/"+id, func(ctx context.Context) (*Order, error) { return l.client.Order(ctx, id) })
}

// Payment reads a payment once per request.
func (l *Loader) Payment(ctx context.Context, id string) (*Payment, error) {
	return load(ctx, l, "payment/"+id, func(ctx context.Context) (*Payment, error) { return l.client.Payment(ctx, id) })
}

// Shipment reads a shipment once per request.
func (l *Loader) Shipment(ctx context.Context, id string) (*Shipment, error) {
	return load(ctx, l, "shipment/"+id, func(ctx context.Context) (*Shipment, error) { return l.client.Shipment(ctx, id) })
}

// Notifications lists an order's notices once per request.
func (l *Loader) Notifications(ctx context.Context, orderID string) ([]Notification, error) {
	return load(ctx, l, "notifications/"+orderID, func(ctx context.Context) ([]Notification, error) {
		return l.client.Notifications(ctx, orderID)
	})
}

// Products lists the catalog once per request.
func (l *Loader) Products(ctx context.Context) ([]Product, error) {
	return load(ctx, l, "products", l.client.Products)
}

type loaderKey struct{}

// WithLoader returns ctx carrying l.
func WithLoader(ctx context.Context, l *Loader) context.Context {
	return context.WithValue(ctx, loaderKey{}, l)
}

// LoaderFrom returns the request's loader.
func LoaderFrom(ctx context.Context) (*Loader, bool) {
	l, ok := ctx.Value(loaderKey{}).(*Loader)
	return l, ok
}
