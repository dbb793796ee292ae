package servicemodel

import (
	"context"
	"net/http"
	"time"

	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
)

// PaymentState is a payment as the model holds it: CAPTURED, then REFUNDED with Refunded
// equal to Amount; or DECLINED for good. A tombstone (refund before capture) is REFUNDED
// with Tombstone set and no amounts.
type PaymentState struct {
	ID            string
	OrderID       string
	CustomerID    string
	Amount        platform.Money
	Currency      string
	Method        string
	Status        payment.Status
	Refunded      platform.Money
	DeclineReason string
	Reason        string
	Tombstone     bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

type paymentRecord struct {
	st   PaymentState
	idem platform.Idem
}

func (s PaymentState) view() payment.Payment {
	p := payment.Payment{PaymentID: s.ID, OrderID: s.OrderID, CustomerID: s.CustomerID, Status: s.Status, Currency: s.Currency,
		Method: s.Method, DeclineReason: s.DeclineReason, Reason: s.Reason, Tombstone: s.Tombstone,
		CreatedAt: platform.Timestamp(s.CreatedAt), UpdatedAt: platform.Timestamp(s.UpdatedAt)}
	if !s.Tombstone {
		amount, refunded := s.Amount, s.Refunded
		p.Amount, p.RefundedAmount = &amount, &refunded
	}
	return p
}

// paymentNotFound repeats the real service's (unexported) 404; the contract suite holds
// its text to it.
func paymentNotFound(id string) *platform.APIError {
	return platform.NewError(http.StatusNotFound, payment.CodePaymentNotFound, "payment "+id+" does not exist").WithField("paymentId")
}

func (w *World) paymentRoutes(srv *platform.Server) {
	srv.Route("PUT /v1/payments/{paymentId}", platform.Create(srv, "paymentId", payment.Normalize, w.capture))
	srv.Route("POST /v1/payments/{paymentId}/refund", platform.Transition("paymentId", w.refund))
	srv.Route("GET /v1/payments/{paymentId}", platform.Get("paymentId", w.getPayment))
	srv.Route("GET /v1/payments", platform.List(map[string]func(string) bool{"orderId": platform.ValidID}, w.listPayments, platform.OrderIDsFilter()))
}

// capture captures payment id once, or declines it by the real payment.Rules; the
// decline is stored and replayed like a capture.
func (w *World) capture(_ context.Context, id string, spec payment.Spec, key string) (platform.StoredResponse, bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	hash := platform.RequestHash(spec)
	if r, ok := w.payments[id]; ok {
		return replay(r.idem, hash)
	}
	now := w.clock()
	st := PaymentState{ID: id, OrderID: spec.OrderID, CustomerID: spec.CustomerID, Amount: spec.Amount, Currency: spec.Currency,
		Method: spec.Method, Status: payment.Captured, CreatedAt: now, UpdatedAt: now}
	var first platform.StoredResponse
	if e := w.rules.Decline(spec); e != nil {
		st.Status, st.DeclineReason = payment.Declined, e.Message
		first = platform.RespondError(e)
		w.recordf(Payment, id, "%s %s", Declined, spec.Amount)
	} else {
		var err error
		if first, err = platform.Respond(http.StatusCreated, st.view()); err != nil {
			return platform.StoredResponse{}, false, err
		}
		w.recordf(Payment, id, "%s %s", Captured, spec.Amount)
	}
	w.payments[id] = &paymentRecord{st: st, idem: platform.Idem{RequestHash: hash, Response: &first, IdempotencyKey: key}}
	return first, false, nil
}

// refund refunds the whole captured amount once and leaves a REFUNDED tombstone for an
// unknown payment; a refunded or declined one is answered as it is.
func (w *World) refund(_ context.Context, id, reason string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	now := w.clock()
	r, ok := w.payments[id]
	if !ok {
		st := PaymentState{ID: id, Status: payment.Refunded, Reason: reason, Tombstone: true, CreatedAt: now, UpdatedAt: now}
		w.payments[id] = &paymentRecord{st: st, idem: platform.Idem{Tombstone: true}}
		w.recordf(Payment, id, Tombstoned)
		return st.view(), nil
	}
	if r.st.Status == payment.Captured {
		r.st.Status, r.st.Refunded, r.st.Reason, r.st.UpdatedAt = payment.Refunded, r.st.Amount, reason, now
		w.recordf(Payment, id, "%s %s", Refunded, r.st.Amount)
	}
	return r.st.view(), nil
}

func (w *World) getPayment(_ context.Context, id string) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.payments[id]
	if !ok {
		return nil, paymentNotFound(id)
	}
	return r.st.view(), nil
}

func (w *World) listPayments(_ context.Context, p platform.ListParams) (any, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return page(w.payments, p, func(r *paymentRecord) bool {
		return !r.st.Tombstone && filter(p, "orderId", r.st.OrderID) && ofOrders(p, r.st.OrderID)
	}, func(r *paymentRecord) payment.Payment { return r.st.view() }), nil
}

// Payment returns payment id as the model holds it.
func (w *World) Payment(id string) (PaymentState, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	r, ok := w.payments[id]
	if !ok {
		return PaymentState{}, false
	}
	return r.st, true
}

// Payments returns every payment, tombstones included, sorted by ID.
func (w *World) Payments() []PaymentState {
	w.mu.Lock()
	defer w.mu.Unlock()
	return states(w.payments, func(r *paymentRecord) PaymentState { return r.st })
}
