package servicemodel

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/platform"
)

// ProductState is a catalog entry as the model holds it; Stock is what is available now.
type ProductState struct {
	ID           string
	Name         string
	Price        platform.Money
	Stock        int
	Discontinued bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

type productRecord struct{ st ProductState }

func (s ProductState) view() inventory.Product {
	return inventory.Product{ProductID: s.ID, Name: s.Name, Price: s.Price, Stock: s.Stock, Discontinued: s.Discontinued,
		UpdatedAt: platform.Timestamp(s.UpdatedAt)}
}

// The error answers below repeat the real service's (unexported) ones; the contract
// suite holds their text to it.

func outOfStock(short []inventory.Shortage) *platform.APIError {
	e := platform.NewError(http.StatusConflict, inventory.CodeOutOfStock, fmt.Sprintf("%d item(s) are out of stock", len(short)))
	return e.WithDetails(map[string]any{"items": short})
}

func unknownProduct(i int, id string) *platform.APIError {
	return platform.NewError(http.StatusUnprocessableEntity, inventory.CodeUnknownProduct, "product "+id+" does not exist").
		WithField(platform.Field("items", i, "productId"))
}

func discontinued(i int, id string) *platform.APIError {
	return platform.NewError(http.StatusUnprocessableEntity, inventory.CodeProductDiscontinued, "product "+id+" is discontinued").
		WithField(platform.Field("items", i, "productId"))
}

func productNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, inventory.CodeProductNotFound, "product "+id+" does not exist").WithField("productId")
}

func reservationNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, inventory.CodeReservationNotFound, "reservation "+id+" does not exist").
		WithField("reservationId")
}

func (w *World) inventoryRoutes(srv *platform.Server) {
	srv.Route("GET /v1/products", platform.List(nil, w.listProducts))
	srv.Route("GET /v1/products/{productId}", platform.Get("productId", w.getProduct))
	srv.Route("PUT /v1/products/{productId}", w.putProduct)
	srv.Route("PUT /v1/reservations/{reservationId}", platform.Create(srv, "reservationId", inventory.NormalizeReserve, w.reserve))
	srv.Route("POST /v1/reservations/{reservationId}/release", platform.Transition("reservationId", w.release))
	srv.Route("GET /v1/reservations/{reservationId}", platform.Get("reservationId", w.getReservation))
	srv.Route("GET /v1/reservations", platform.List(map[string]func(string) bool{"orderId": platform.ValidID}, w.listReservations))
}

// seed inserts each catalog entry that is not there yet, as the real Seed does.
func (w *World) seed(catalog []inventory.SeedProduct) {
	now := w.clock()
	for _, p := range catalog {
		if _, ok := w.products[p.ID]; ok {
			continue
		}
		w.products[p.ID] = &productRecord{st: ProductState{ID: p.ID, Name: p.Name, Price: p.Price, Stock: p.Stock,
			Discontinued: p.Discontinued, CreatedAt: now, UpdatedAt: now}}
	}
}

// putProduct is the catalog upsert: 201 when the product is new, else 200; a replaced
// product keeps its creation time.
func (w *World) putProduct(rw http.ResponseWriter, r *http.Request) {
	id, e := platform.PathID(r, "productId")
	if e != nil {
		platform.WriteError(rw, e)
		return
	}
	var req inventory.ProductRequest
	if e := platform.DecodeStrict(rw, r, &req); e != nil {
		platform.WriteError(rw, e)
		return
	}
	spec, e := inventory.NormalizeProduct(req)
	if e != nil {
		platform.WriteError(rw, e)
		return
	}
	st, created := w.upsertProduct(id, spec)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	platform.WriteJSON(rw, status, st.view())
}

func (w *World) upsertProduct(id string, spec inventory.ProductSpec) (ProductState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	p, ok := w.products[id]
	if !ok {
		p = &productRecord{st: ProductState{ID: id, CreatedAt: now}}
		w.products[id] = p
	}
	p.st.Name, p.st.Price, p.st.Stock, p.st.Discontinued, p.st.UpdatedAt = spec.Name, spec.Price, spec.Stock, spec.Discontinued, now
	w.recordf(Inventory, id, "%s stock %d", Put, spec.Stock)
	return p.st, !ok
}

func (w *World) getProduct(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.products[id]
	if !ok {
		return nil, productNotFound(id)
	}
	return p.st.view(), nil
}

func (w *World) listProducts(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.products, p, func(*productRecord) bool { return true },
		func(r *productRecord) inventory.Product { return r.st.view() }), nil
}

// Product returns product id as the model holds it.
func (w *World) Product(id string) (ProductState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.products[id]
	if !ok {
		return ProductState{}, false
	}
	return p.st, true
}

// Stock returns the units of product id available now.
func (w *World) Stock(productID string) (int, bool) {
	p, ok := w.Product(productID)
	return p.Stock, ok
}

// Products returns the catalog sorted by ID.
func (w *World) Products() []ProductState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return states(w.products, func(r *productRecord) ProductState { return r.st })
}
