package servicemodel

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// ShipmentState is a shipment as the model holds it: SCHEDULED, then CANCELLED; or
// REJECTED for good (an unsupported destination). A tombstone (cancel before schedule) is
// CANCELLED with Tombstone set and nothing else.
type ShipmentState struct {
	ID                string
	OrderID           string
	Status            shipping.Status
	Method            string
	Carrier           string
	TrackingNumber    string
	EstimatedDelivery string // a date, as the API shows it
	Address           *shipping.Address
	Items             []shipping.Item
	RejectReason      string
	Reason            string
	Tombstone         bool
	CreatedAt         time.Time
	UpdatedAt         time.Time
}

type shipmentRecord struct {
	st   ShipmentState
	idem platform.Idem
}

func (s ShipmentState) clone() ShipmentState {
	if s.Address != nil {
		a := *s.Address
		s.Address = &a
	}
	s.Items = slices.Clone(s.Items)
	return s
}

func (s ShipmentState) view() shipping.Shipment {
	return shipping.Shipment{ShipmentID: s.ID, OrderID: s.OrderID, Status: s.Status, Method: s.Method, Carrier: s.Carrier,
		TrackingNumber: s.TrackingNumber, EstimatedDelivery: s.EstimatedDelivery, Address: s.Address, Items: s.Items,
		RejectReason: s.RejectReason, Reason: s.Reason, Tombstone: s.Tombstone,
		CreatedAt: platform.Timestamp(s.CreatedAt), UpdatedAt: platform.Timestamp(s.UpdatedAt)}
}

// The error answers below repeat the real service's (unexported or inline) ones; the
// contract suite holds their text to it.

func shipmentNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, shipping.CodeShipmentNotFound, "shipment "+id+" does not exist").WithField("shipmentId")
}

func unsupportedDestination(country string) *platform.APIError {
	return platform.NewError(http.StatusUnprocessableEntity, shipping.CodeUnsupportedDestination,
		"shipping to "+country+" is not supported").WithField("address.country")
}

func (w *World) shippingRoutes(srv *platform.Server) {
	srv.Route("PUT /v1/shipments/{shipmentId}", platform.Create(srv, "shipmentId", shipping.Normalize, w.schedule))
	srv.Route("POST /v1/shipments/{shipmentId}/cancel", platform.Transition("shipmentId", w.cancelShipment))
	srv.Route("GET /v1/shipments/{shipmentId}", platform.Get("shipmentId", w.getShipment))
	srv.Route("GET /v1/shipments", platform.List(map[string]func(string) bool{"orderId": platform.ValidID}, w.listShipments, platform.OrderIDsFilter()))
}

// schedule schedules shipment id once — carrier and transit by method, the tracking
// number derived from the ID by the real shipping.TrackingNumber, delivery estimated from
// the model's clock — or rejects an unsupported destination; the rejection sticks.
func (w *World) schedule(_ context.Context, id string, spec shipping.CreateRequest, key string) (platform.StoredResponse, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hash := platform.RequestHash(spec)
	if r, ok := w.shipments[id]; ok {
		return replay(r.idem, hash)
	}
	now := w.clock()
	addr := spec.Address
	st := ShipmentState{ID: id, OrderID: spec.OrderID, Method: spec.Method, Address: &addr, Items: slices.Clone(spec.Items),
		CreatedAt: now, UpdatedAt: now}
	var first platform.StoredResponse
	if !slices.Contains(w.countries, spec.Address.Country) {
		e := unsupportedDestination(spec.Address.Country)
		st.Status, st.RejectReason = shipping.Rejected, e.Message
		first = platform.RespondError(e)
		w.recordf(Shipping, id, Rejected)
	} else {
		c, _ := shipping.CarrierFor(spec.Method) // Normalize admits known methods only
		st.Status, st.Carrier, st.TrackingNumber = shipping.Scheduled, c.Name, shipping.TrackingNumber(c, id)
		st.EstimatedDelivery = now.AddDate(0, 0, c.Transit).Format(time.DateOnly)
		var err error
		if first, err = platform.Respond(http.StatusCreated, st.view()); err != nil {
			return platform.StoredResponse{}, false, err
		}
		w.recordf(Shipping, id, Scheduled)
	}
	w.shipments[id] = &shipmentRecord{st: st, idem: platform.Idem{RequestHash: hash, Response: &first, IdempotencyKey: key}}
	return first, false, nil
}

// cancelShipment cancels a SCHEDULED shipment and leaves a CANCELLED tombstone for an
// unknown one; a cancelled or rejected one is answered as it is.
func (w *World) cancelShipment(_ context.Context, id, reason string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	r, ok := w.shipments[id]
	if !ok {
		st := ShipmentState{ID: id, Status: shipping.Cancelled, Reason: reason, Tombstone: true, CreatedAt: now, UpdatedAt: now}
		w.shipments[id] = &shipmentRecord{st: st, idem: platform.Idem{Tombstone: true}}
		w.recordf(Shipping, id, Tombstoned)
		return st.view(), nil
	}
	if r.st.Status == shipping.Scheduled {
		r.st.Status, r.st.Reason, r.st.UpdatedAt = shipping.Cancelled, reason, now
		w.recordf(Shipping, id, Cancelled)
	}
	return r.st.view(), nil
}

func (w *World) getShipment(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.shipments[id]
	if !ok {
		return nil, shipmentNotFound(id)
	}
	return r.st.view(), nil
}

func (w *World) listShipments(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.shipments, p, func(r *shipmentRecord) bool {
		return !r.st.Tombstone && filter(p, "orderId", r.st.OrderID) && ofOrders(p, r.st.OrderID)
	}, func(r *shipmentRecord) shipping.Shipment { return r.st.view() }), nil
}

// Shipment returns shipment id as the model holds it.
func (w *World) Shipment(id string) (ShipmentState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.shipments[id]
	if !ok {
		return ShipmentState{}, false
	}
	return r.st.clone(), true
}

// Shipments returns every shipment, tombstones included, sorted by ID.
func (w *World) Shipments() []ShipmentState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return states(w.shipments, func(r *shipmentRecord) ShipmentState { return r.st.clone() })
}
