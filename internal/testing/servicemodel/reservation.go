package servicemodel

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/platform"
)

// ReservationState is a reservation as the model holds it. Each reserve and release is
// atomic here, so the real service's in-progress states (PENDING, FAILING, RELEASING)
// never show: a reservation is RESERVED, FAILED (Failure holds the code; nothing was
// taken) or RELEASED. A tombstone (release before reserve) is RELEASED with Tombstone set.
type ReservationState struct {
	ID        string
	OrderID   string
	Items     []inventory.Item
	Status    inventory.Status
	Failure   string
	Reason    string
	Tombstone bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

type reservationRecord struct {
	st   ReservationState
	idem platform.Idem
}

func (s ReservationState) clone() ReservationState {
	s.Items = slices.Clone(s.Items)
	return s
}

func (s ReservationState) view() inventory.Reservation {
	return inventory.Reservation{ReservationID: s.ID, OrderID: s.OrderID, Status: s.Status, Items: s.Items, Failure: s.Failure,
		Reason: s.Reason, Tombstone: s.Tombstone, CreatedAt: platform.Timestamp(s.CreatedAt), UpdatedAt: platform.Timestamp(s.UpdatedAt)}
}

// reserve takes the stock of every item, or none: a business failure (unknown or
// discontinued product, stock short) is stored as the answer of a FAILED reservation and
// replayed like a success. A taken ID is replayed (see replay); a tombstone refuses it.
func (w *World) reserve(_ context.Context, id string, spec inventory.ReserveSpec, key string) (platform.StoredResponse, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hash := platform.RequestHash(spec)
	if r, ok := w.reservations[id]; ok {
		return replay(r.idem, hash)
	}
	now := w.clock()
	st := ReservationState{ID: id, OrderID: spec.OrderID, Items: slices.Clone(spec.Items), CreatedAt: now, UpdatedAt: now}
	var first platform.StoredResponse
	if e := w.checkCatalog(spec.Items); e != nil {
		st.Status, st.Failure = inventory.Failed, e.Code
		first = platform.RespondError(e)
		w.recordf(Inventory, id, "%s %s", Failed, e.Code)
	} else {
		for _, it := range spec.Items {
			w.moveStock(id, it, -1, now)
		}
		st.Status = inventory.Reserved
		var err error
		if first, err = platform.Respond(http.StatusCreated, st.view()); err != nil {
			return platform.StoredResponse{}, false, err
		}
		w.recordf(Inventory, id, Reserved)
	}
	w.reservations[id] = &reservationRecord{st: st, idem: platform.Idem{RequestHash: hash, Response: &first, IdempotencyKey: key}}
	return first, false, nil
}

// checkCatalog refuses the first unknown or discontinued product; otherwise it reports
// every item that is short, as the real checkCatalog does before any stock moves.
func (w *World) checkCatalog(items []inventory.Item) *platform.APIError {
	var short []inventory.Shortage
	for i, it := range items {
		p, ok := w.products[it.ProductID]
		switch {
		case !ok:
			return unknownProduct(i, it.ProductID)
		case p.st.Discontinued:
			return discontinued(i, it.ProductID)
		case p.st.Stock < it.Quantity:
			short = append(short, inventory.Shortage{ProductID: it.ProductID, Requested: it.Quantity, Available: p.st.Stock})
		}
	}
	if len(short) > 0 {
		return outOfStock(short)
	}
	return nil
}

// moveStock takes (sign -1) or gives back (sign +1) the item's quantity for reservation
// id. The caller holds w.mu; products are never deleted, so the product exists.
func (w *World) moveStock(id string, it inventory.Item, sign int, now time.Time) {
	p := w.products[it.ProductID]
	p.st.Stock += sign * it.Quantity
	p.st.UpdatedAt = now
	verb := Took
	if sign > 0 {
		verb = Returned
	}
	w.recordf(Inventory, id, "%s %s %d", verb, it.ProductID, it.Quantity)
}

// release gives back what a RESERVED reservation took, exactly once, and leaves a
// RELEASED tombstone for an unknown one; a FAILED or RELEASED one is answered as it is.
func (w *World) release(_ context.Context, id, reason string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	r, ok := w.reservations[id]
	if !ok {
		st := ReservationState{ID: id, Status: inventory.Released, Reason: reason, Tombstone: true, CreatedAt: now, UpdatedAt: now}
		w.reservations[id] = &reservationRecord{st: st, idem: platform.Idem{Tombstone: true}}
		w.recordf(Inventory, id, Tombstoned)
		return st.view(), nil
	}
	if r.st.Status == inventory.Reserved {
		for _, it := range r.st.Items {
			w.moveStock(id, it, +1, now)
		}
		r.st.Status, r.st.Reason, r.st.UpdatedAt = inventory.Released, reason, now
		w.recordf(Inventory, id, Released)
	}
	return r.st.view(), nil
}

func (w *World) getReservation(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.reservations[id]
	if !ok {
		return nil, reservationNotFound(id)
	}
	return r.st.view(), nil
}

func (w *World) listReservations(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.reservations, p, func(r *reservationRecord) bool {
		return !r.st.Tombstone && filter(p, "orderId", r.st.OrderID)
	}, func(r *reservationRecord) inventory.Reservation { return r.st.view() }), nil
}

// Reservation returns reservation id as the model holds it.
func (w *World) Reservation(id string) (ReservationState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.reservations[id]
	if !ok {
		return ReservationState{}, false
	}
	return r.st.clone(), true
}

// Reservations returns every reservation, tombstones included, sorted by ID.
func (w *World) Reservations() []ReservationState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return states(w.reservations, func(r *reservationRecord) ReservationState { return r.st.clone() })
}
