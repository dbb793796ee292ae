package payment

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Document is a payment as stored; _id is the client-assigned payment ID.
type Document struct {
	ID             string `bson:"_id"`
	platform.Idem  `bson:",inline"`
	OrderID        string         `bson:"orderId,omitempty"`
	CustomerID     string         `bson:"customerId,omitempty"`
	Amount         platform.Money `bson:"amount"`
	Currency       string         `bson:"currency,omitempty"`
	Method         string         `bson:"method,omitempty"`
	Status         Status         `bson:"status"`
	RefundedAmount platform.Money `bson:"refundedAmount"`
	DeclineReason  string         `bson:"declineReason,omitempty"`
	Reason         string         `bson:"reason,omitempty"`
	CreatedAt      time.Time      `bson:"createdAt"`
	UpdatedAt      time.Time      `bson:"updatedAt"`
}

func (d Document) view() Payment {
	p := Payment{PaymentID: d.ID, OrderID: d.OrderID, CustomerID: d.CustomerID, Status: d.Status, Currency: d.Currency,
		Method: d.Method, DeclineReason: d.DeclineReason, Reason: d.Reason, Tombstone: d.Tombstone,
		CreatedAt: platform.Timestamp(d.CreatedAt), UpdatedAt: platform.Timestamp(d.UpdatedAt)}
	if !d.Tombstone {
		amount, refunded := d.Amount, d.RefundedAmount
		p.Amount, p.RefundedAmount = &amount, &refunded
	}
	return p
}

// Rules are the deterministic decline rules.
type Rules struct {
	// DeclineAbove declines amounts strictly greater than it.
	DeclineAbove platform.Money
	// DeclinedMethods are always declined.
	DeclinedMethods []string
}

// Decline returns the reason to decline spec, or nil.
func (r Rules) Decline(spec Spec) *platform.APIError {
	switch {
	case spec.Amount > r.DeclineAbove:
		return platform.NewError(http.StatusPaymentRequired, CodePaymentDeclined,
			fmt.Sprintf("amount %s is above the per-order limit of %s", spec.Amount, r.DeclineAbove)).WithField("amount")
	case slices.Contains(r.DeclinedMethods, spec.Method):
		return platform.NewError(http.StatusPaymentRequired, CodePaymentDeclined,
			"payment method "+spec.Method+" is declined").WithField("method")
	}
	return nil
}

// Store keeps payments in one collection.
type Store struct {
	coll  *mongo.Collection
	rules Rules
	now   func() time.Time
}

// NewStore returns a Store on db's "payments" collection.
func NewStore(db *mongo.Database, rules Rules, now func() time.Time) *Store {
	return &Store{coll: db.Collection("payments"), rules: rules, now: now}
}

// SetUp creates the indexes behind the list filters.
func (s *Store) SetUp(ctx context.Context) error {
	return platform.EnsureIndexes(ctx, s.coll, platform.Index{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: 1}}})
}

// Capture captures (or declines) payment id once; a decline is stored and sticks.
func (s *Store) Capture(ctx context.Context, id string, spec Spec, key string) (resp platform.StoredResponse, replayed bool, err error) {
	now := platform.Now(s.now)
	d := Document{ID: id, Idem: platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key},
		OrderID: spec.OrderID, CustomerID: spec.CustomerID, Amount: spec.Amount, Currency: spec.Currency,
		Method: spec.Method, Status: Captured, CreatedAt: now, UpdatedAt: now}
	if e := s.rules.Decline(spec); e != nil {
		d.Status, d.DeclineReason = Declined, e.Message
		resp = platform.RespondError(e)
	} else if resp, err = platform.Respond(http.StatusCreated, d.view()); err != nil {
		return resp, false, err
	}
	d.Response = &resp
	return platform.InsertOnce(ctx, s.coll, id, d, d.RequestHash, resp)
}

// Get returns payment id, or a 404 PAYMENT_NOT_FOUND.
func (s *Store) Get(ctx context.Context, id string) (Document, error) {
	return platform.GetByID[Document](ctx, s.coll, "payment", id, notFound)
}

// Refund refunds the whole captured amount once: the CAPTURED → REFUNDED change is one
// conditional update. A refunded or declined payment is returned unchanged; an unknown one
// gets a REFUNDED tombstone, so that a late capture is refused. changed tells whether this
// call refunded.
func (s *Store) Refund(ctx context.Context, id, reason string) (Document, bool, error) {
	return platform.Undo[Document, Status]{
		Kind: "payment", From: Captured, To: Refunded, Reason: reason, At: platform.Now(s.now),
		Also: func(d Document) bson.D { return bson.D{{Key: "refundedAmount", Value: d.Amount}} },
	}.Run(ctx, s.coll, id)
}

// List returns a page of payments, optionally of one order (orderId) or of several
// (orderIds).
func (s *Store) List(ctx context.Context, p platform.ListParams) ([]Document, string, error) {
	f := append(platform.EqualFilters(p, "orderId"), platform.AnyOf(p, "orderIds", "orderId")...)
	return platform.FindPage(ctx, s.coll, f, p, func(d Document) string { return d.ID })
}
