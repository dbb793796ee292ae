package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// BatchWindow is how long a batch waits for more keys before it is sent. gqlgen resolves
// the elements of a list on goroutines of their own, which ask within microseconds of
// each other; the window costs a single-order query that much latency once per service.
const BatchWindow = 2 * time.Millisecond

// Loader is one GraphQL request's view of the services, a dataloader: the reads that the
// fields of a request make are collected per service for BatchWindow and sent as one
// call per service (the services' orderIds filter), each order read once however many
// fields ask. A batch of one order reads by record ID instead, which is a key lookup on
// every store (an orderIds list is not, on FerretDB: docs/gateway.md). Without batching,
// every field makes its own call to the per-ID endpoint; the benchmark compares the two.
type Loader struct {
	client *Client
	batch  bool

	orders        *batcher[Order]
	payments      *batcher[Payment]
	shipments     *batcher[Shipment]
	notifications *batcher[Notification]

	productsOnce sync.Once
	products     []Product
	productsErr  error
}

// NewLoader returns a loader for one request.
func NewLoader(ctx context.Context, client *Client, batch bool) *Loader {
	return &Loader{
		client:        client,
		batch:         batch,
		orders:        newBatcher(ctx, client.OrdersOf),
		payments:      newBatcher(ctx, client.PaymentsOf),
		shipments:     newBatcher(ctx, client.ShipmentsOf),
		notifications: newBatcher(ctx, client.NotificationsOf),
	}
}

// Order reads an order's record; ErrNotFound when the order service has none.
func (l *Loader) Order(ctx context.Context, orderID string) (*Order, error) {
	if !l.batch {
		return l.client.Order(ctx, orderID)
	}
	records, err := l.orders.load(ctx, orderID, func(ctx context.Context) ([]Order, error) {
		return one(l.client.Order(ctx, orderID))
	})
	if err != nil {
		return nil, err
	}
	return pick(records, func(o Order) bool { return o.OrderID == orderID })
}

// Payment reads the payment paymentID of an order.
func (l *Loader) Payment(ctx context.Context, orderID, paymentID string) (*Payment, error) {
	if !l.batch {
		return l.client.Payment(ctx, paymentID)
	}
	records, err := l.payments.load(ctx, orderID, func(ctx context.Context) ([]Payment, error) {
		return one(l.client.Payment(ctx, paymentID))
	})
	if err != nil {
		return nil, err
	}
	return pick(records, func(p Payment) bool { return p.PaymentID == paymentID })
}

// Shipment reads the shipment shipmentID of an order.
func (l *Loader) Shipment(ctx context.Context, orderID, shipmentID string) (*Shipment, error) {
	if !l.batch {
		return l.client.Shipment(ctx, shipmentID)
	}
	records, err := l.shipments.load(ctx, orderID, func(ctx context.Context) ([]Shipment, error) {
		return one(l.client.Shipment(ctx, shipmentID))
	})
	if err != nil {
		return nil, err
	}
	return pick(records, func(s Shipment) bool { return s.ShipmentID == shipmentID })
}

// Notifications lists an order's notices.
func (l *Loader) Notifications(ctx context.Context, orderID string) ([]Notification, error) {
	if !l.batch {
		return l.client.Notifications(ctx, orderID)
	}
	return l.notifications.load(ctx, orderID, func(ctx context.Context) ([]Notification, error) {
		return l.client.Notifications(ctx, orderID)
	})
}

// Products lists the catalog, once per request.
func (l *Loader) Products(ctx context.Context) ([]Product, error) {
	l.productsOnce.Do(func() { l.products, l.productsErr = l.client.Products(ctx) })
	return l.products, l.productsErr
}

// one is a read by ID as a batch's answer: its record, or none on a 404.
func one[T any](record *T, err error) ([]T, error) {
	switch {
	case errors.Is(err, ErrNotFound):
		return nil, nil
	case err != nil:
		return nil, err
	}
	return []T{*record}, nil
}

func pick[T any](records []T, match func(T) bool) (*T, error) {
	if i := slices.IndexFunc(records, match); i >= 0 {
		return &records[i], nil
	}
	return nil, ErrNotFound
}

// batcher collects the order IDs asked for within a window and fetches them in one call.
type batcher[R any] struct {
	ctx   context.Context //nolint:containedctx // the request's: a batch outlives the field that opened it
	fetch func(context.Context, []string) (map[string][]R, error)

	mu      sync.Mutex
	pending *batch[R]
	done    map[string]*batch[R] // every order ID asked for so far, and the batch that has it
}

type batch[R any] struct {
	keys  []string
	alone func(context.Context) ([]R, error) // how the first key is read when it stays alone
	full  chan struct{}
	ready chan struct{}
	got   map[string][]R
	err   error
}

func newBatcher[R any](ctx context.Context, fetch func(context.Context, []string) (map[string][]R, error)) *batcher[R] {
	return &batcher[R]{ctx: ctx, fetch: fetch, done: map[string]*batch[R]{}}
}

// load returns key's records from its batch; alone reads them when the batch holds only
// key.
func (b *batcher[R]) load(ctx context.Context, key string, alone func(context.Context) ([]R, error)) ([]R, error) {
	b.mu.Lock()
	bt, ok := b.done[key]
	if !ok {
		if b.pending == nil {
			b.pending = &batch[R]{full: make(chan struct{}), ready: make(chan struct{}), alone: alone}
			go b.send(b.pending)
		}
		bt = b.pending
		bt.keys = append(bt.keys, key)
		b.done[key] = bt
		if len(bt.keys) == MaxBatch {
			b.pending = nil
			close(bt.full)
		}
	}
	b.mu.Unlock()
	select {
	case <-bt.ready:
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for the batch with %s: %w", key, ctx.Err())
	}
	if bt.err != nil {
		return nil, bt.err
	}
	return bt.got[key], nil
}

// send waits for the window to close or the batch to fill, then fetches it.
func (b *batcher[R]) send(bt *batch[R]) {
	timer := time.NewTimer(BatchWindow)
	defer timer.Stop()
	select {
	case <-timer.C:
		b.mu.Lock()
		if b.pending == bt {
			b.pending = nil
		}
		b.mu.Unlock()
	case <-bt.full:
	}
	if len(bt.keys) == 1 && bt.alone != nil {
		var records []R
		records, bt.err = bt.alone(b.ctx)
		bt.got = map[string][]R{bt.keys[0]: records}
	} else {
		bt.got, bt.err = b.fetch(b.ctx, bt.keys)
	}
	close(bt.ready)
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
