package order

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Document is an order as stored; _id is the client-assigned order ID.
type Document struct {
	ID            string `bson:"_id"`
	platform.Idem `bson:",inline"`
	CustomerID    string         `bson:"customerId,omitempty"`
	Currency      string         `bson:"currency,omitempty"`
	Items         []Line         `bson:"items,omitempty"`
	Total         platform.Money `bson:"total"`
	Status        Status         `bson:"status"`
	Reason        string         `bson:"reason,omitempty"`
	CreatedAt     time.Time      `bson:"createdAt"`
	UpdatedAt     time.Time      `bson:"updatedAt"`
}

func (d Document) view() Order {
	o := Order{OrderID: d.ID, CustomerID: d.CustomerID, Status: d.Status, Currency: d.Currency, Reason: d.Reason,
		Tombstone: d.Tombstone, CreatedAt: platform.Timestamp(d.CreatedAt), UpdatedAt: platform.Timestamp(d.UpdatedAt)}
	if d.Tombstone {
		return o
	}
	total := d.Total
	o.Total = &total
	for _, l := range d.Items {
		o.Items = append(o.Items, ItemView{ProductID: l.ProductID, Quantity: l.Quantity, UnitPrice: l.UnitPrice,
			LineTotal: l.UnitPrice * platform.Money(l.Quantity)})
	}
	return o
}

// Store keeps orders in one collection and moves them between states with conditional
// single-document updates only (no transactions needed).
//
// Every change of an order's status (Confirm, Cancel) holds the order's lock in locks,
// always. On FerretDB (the local stack, the tests and the chart's mongodb.engine=ferretdb;
// docs/adr/0004 to 0006) a conditional update is a read followed by a write, not one atomic
// step, so without the lock a concurrent Confirm and Cancel of one PENDING order could both
// succeed: the order would end CANCELLED although ConfirmOrder was answered CONFIRMED, or
// the reverse. The saga engine's fence (docs/adr/0011) depends on the two excluding each
// other: a cancel that succeeded must mean that ConfirmOrder never will, and a cancel
// refused with ORDER_CONFIRMED that the order stays confirmed. The lock sees only this
// process, so on FerretDB the order service must run as ONE replica (the chart pins it, as
// it pins the inventory). On MongoDB, whose conditional updates are atomic, the lock is
// cheap and harmless with any number of replicas.
type Store struct {
	coll  *mongo.Collection
	now   func() time.Time
	locks platform.DocLocks // per order ID: see above
}

// NewStore returns a Store on db's "orders" collection; now is the clock (nil: time.Now).
func NewStore(db *mongo.Database, now func() time.Time) *Store {
	return &Store{coll: db.Collection("orders"), now: now}
}

// SetUp creates the indexes behind the list filters.
func (s *Store) SetUp(ctx context.Context) error {
	//nolint:goconst // BSON field names, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	return platform.EnsureIndexes(ctx, s.coll,
		platform.Index{Keys: bson.D{{Key: "customerId", Value: 1}, {Key: "_id", Value: 1}}},
		platform.Index{Keys: bson.D{{Key: "status", Value: 1}, {Key: "_id", Value: 1}}})
}

// Create stores a PENDING order with id once; see platform.InsertOnce for replays.
func (s *Store) Create(ctx context.Context, id string, spec Spec, key string) (platform.StoredResponse, bool, error) {
	now := platform.Now(s.now)
	d := Document{ID: id, CustomerID: spec.CustomerID, Currency: spec.Currency, Items: spec.Items,
		Status: Pending, CreatedAt: now, UpdatedAt: now}
	for _, l := range spec.Items {
		d.Total += l.UnitPrice * platform.Money(l.Quantity)
	}
	d.Idem = platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key}
	first, err := platform.Respond(http.StatusCreated, d.view())
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	d.Response = &first
	return platform.InsertOnce(ctx, s.coll, id, d, d.RequestHash, first)
}

// Get returns the order id, or a 404 ORDER_NOT_FOUND.
func (s *Store) Get(ctx context.Context, id string) (Document, error) {
	return platform.GetByID[Document](ctx, s.coll, "order", id, notFound)
}

// Confirm moves the order from PENDING to CONFIRMED in one conditional update, under the
// order's lock (see Store); confirming a CONFIRMED order changes nothing. changed tells
// whether this call made the transition.
func (s *Store) Confirm(ctx context.Context, id string) (d Document, changed bool, err error) {
	unlock := s.locks.Lock(id)
	defer unlock()
	set := bson.D{{Key: "status", Value: Confirmed}, {Key: "updatedAt", Value: platform.Now(s.now)}}
	err = s.coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: Pending}},
		bson.D{{Key: "$set", Value: set}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&d)
	if err == nil {
		return d, true, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return d, false, fmt.Errorf("confirm order %s: %w", id, err)
	}
	if d, err = s.Get(ctx, id); err != nil {
		return d, false, err
	}
	if d.Status == Cancelled { // includes a tombstone: the order was compensated
		return d, false, platform.NewError(http.StatusConflict, CodeOrderCancelled, "order "+id+" is cancelled and cannot be confirmed")
	}
	return d, false, nil
}

// Cancel moves the order from PENDING to CANCELLED, or leaves a tombstone when it does not
// exist; cancelling a CANCELLED order changes nothing; a CONFIRMED order cannot be
// cancelled. It runs under the order's lock (see Store), tombstone included. changed tells
// whether this call cancelled an existing order.
func (s *Store) Cancel(ctx context.Context, id, reason string) (Document, bool, error) {
	unlock := s.locks.Lock(id)
	defer unlock()
	d, changed, err := platform.Undo[Document, Status]{Kind: "order", From: Pending, To: Cancelled, Reason: reason, At: platform.Now(s.now)}.
		Run(ctx, s.coll, id)
	if err == nil && d.Status == Confirmed { // the pivot has passed: there is no going back
		return d, false, platform.NewError(http.StatusConflict, CodeOrderConfirmed, "order "+id+" is confirmed and cannot be cancelled")
	}
	return d, changed, err
}

// List returns a page of orders matching the filters customerId, status and orderIds (the
// orders' own IDs, a lookup by _id).
func (s *Store) List(ctx context.Context, p platform.ListParams) ([]Document, string, error) {
	f := append(platform.EqualFilters(p, "customerId", "status"), platform.AnyOf(p, "orderIds", "_id")...)
	return platform.FindPage(ctx, s.coll, f, p, func(d Document) string { return d.ID })
}
