package servicemodel

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/platform"
)

// OrderState is an order as the model holds it. A tombstone (cancel before create) has
// only ID, Status CANCELLED, Reason and the timestamps.
type OrderState struct {
	ID         string
	CustomerID string
	Currency   string
	Items      []order.Line
	Total      platform.Money
	Status     order.Status
	Reason     string
	Tombstone  bool
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

type orderRecord struct {
	st   OrderState
	idem platform.Idem
}

func (s OrderState) clone() OrderState {
	s.Items = slices.Clone(s.Items)
	return s
}

// view renders the order as the real service's document.view does.
func (s OrderState) view() order.Order {
	o := order.Order{OrderID: s.ID, CustomerID: s.CustomerID, Status: s.Status, Currency: s.Currency, Reason: s.Reason,
		Tombstone: s.Tombstone, CreatedAt: platform.Timestamp(s.CreatedAt), UpdatedAt: platform.Timestamp(s.UpdatedAt)}
	if s.Tombstone {
		return o
	}
	total := s.Total
	o.Total = &total
	for _, l := range s.Items {
		o.Items = append(o.Items, order.ItemView{ProductID: l.ProductID, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			LineTotal: l.UnitPrice * platform.Money(l.Quantity)})
	}
	return o
}

// The error answers below repeat the real service's (unexported) ones; the contract
// suite holds their text to it.

func orderNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, order.CodeOrderNotFound, "order "+id+" does not exist").WithField("orderId")
}

func orderIsCancelled(id string) *platform.APIError {
	return platform.NewError(http.StatusConflict, order.CodeOrderCancelled, "order "+id+" is cancelled and cannot be confirmed")
}

func orderIsConfirmed(id string) *platform.APIError {
	return platform.NewError(http.StatusConflict, order.CodeOrderConfirmed, "order "+id+" is confirmed and cannot be cancelled")
}

func (w *World) orderRoutes(srv *platform.Server) {
	srv.Route("PUT /v1/orders/{orderId}", platform.Create(srv, "orderId", order.Normalize, w.createOrder))
	srv.Route("POST /v1/orders/{orderId}/confirm", platform.Transition("orderId", w.confirmOrder))
	srv.Route("POST /v1/orders/{orderId}/cancel", platform.Transition("orderId", w.cancelOrder))
	srv.Route("GET /v1/orders/{orderId}", platform.Get("orderId", w.getOrder))
	srv.Route("GET /v1/orders", platform.List(map[string]func(string) bool{
		"customerId": func(v string) bool { return v != "" && len(v) <= 64 },
		"status": func(v string) bool {
			return v == string(order.Pending) || v == string(order.Confirmed) || v == string(order.Cancelled)
		},
	}, w.listOrders, platform.OrderIDsFilter()))
}

// createOrder stores a PENDING order once; a taken ID is replayed (see replay).
func (w *World) createOrder(_ context.Context, id string, spec order.Spec, key string) (platform.StoredResponse, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hash := platform.RequestHash(spec)
	if r, ok := w.orders[id]; ok {
		return replay(r.idem, hash)
	}
	now := w.clock()
	st := OrderState{ID: id, CustomerID: spec.CustomerID, Currency: spec.Currency, Items: slices.Clone(spec.Items),
		Status: order.Pending, CreatedAt: now, UpdatedAt: now}
	for _, l := range spec.Items {
		st.Total += l.UnitPrice * platform.Money(l.Quantity)
	}
	first, err := platform.Respond(http.StatusCreated, st.view())
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	w.orders[id] = &orderRecord{st: st, idem: platform.Idem{RequestHash: hash, Response: &first, IdempotencyKey: key}}
	w.recordf(Order, id, Created)
	return first, false, nil
}

// confirmOrder moves a PENDING order to CONFIRMED; a CONFIRMED one is answered as it is,
// a CANCELLED one (tombstones included) is refused.
func (w *World) confirmOrder(_ context.Context, id, _ string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.orders[id]
	if !ok {
		return nil, orderNotFound(id)
	}
	switch r.st.Status {
	case order.Pending:
		r.st.Status, r.st.UpdatedAt = order.Confirmed, w.clock()
		w.recordf(Order, id, Confirmed)
	case order.Confirmed: // answered as it is
	case order.Cancelled:
		return nil, orderIsCancelled(id)
	}
	return r.st.view(), nil
}

// cancelOrder moves a PENDING order to CANCELLED, leaves a tombstone for an unknown one,
// answers a CANCELLED one as it is and refuses a CONFIRMED one.
func (w *World) cancelOrder(_ context.Context, id, reason string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	r, ok := w.orders[id]
	if !ok {
		st := OrderState{ID: id, Status: order.Cancelled, Reason: reason, Tombstone: true, CreatedAt: now, UpdatedAt: now}
		w.orders[id] = &orderRecord{st: st, idem: platform.Idem{Tombstone: true}}
		w.recordf(Order, id, Tombstoned)
		return st.view(), nil
	}
	switch r.st.Status {
	case order.Pending:
		r.st.Status, r.st.UpdatedAt = order.Cancelled, now
		if reason != "" {
			r.st.Reason = reason
		}
		w.recordf(Order, id, Cancelled)
	case order.Cancelled: // answered as it is
	case order.Confirmed:
		return nil, orderIsConfirmed(id)
	}
	return r.st.view(), nil
}

func (w *World) getOrder(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.orders[id]
	if !ok {
		return nil, orderNotFound(id)
	}
	return r.st.view(), nil
}

func (w *World) listOrders(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.orders, p, func(r *orderRecord) bool {
		return !r.st.Tombstone && filter(p, "customerId", r.st.CustomerID) && filter(p, "status", string(r.st.Status)) &&
			ofOrders(p, r.st.ID)
	}, func(r *orderRecord) order.Order { return r.st.view() }), nil
}

// Order returns order id as the model holds it.
func (w *World) Order(id string) (OrderState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.orders[id]
	if !ok {
		return OrderState{}, false
	}
	return r.st.clone(), true
}

// Orders returns every order, tombstones included, sorted by ID.
func (w *World) Orders() []OrderState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return states(w.orders, func(r *orderRecord) OrderState { return r.st.clone() })
}
