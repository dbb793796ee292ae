package inventory

// How a reservation stays all-or-nothing and exactly-once without transactions:
//
//   - The reservation document is inserted (PENDING) before any stock moves.
//   - Each product's stock is taken by ONE conditional update that also records the token
//     "r:<reservationId>" on the product (takeFilter/takeUpdate). The token makes the take
//     idempotent (a resumed or concurrent run cannot take twice) and is the crash-proof
//     record that this product's stock moved for this reservation.
//   - Undo gives stock back by a conditional update on the token ("r:<id>" present → $inc
//     and $pull it), so each take is undone at most once, by whoever gets there first.
//   - The outcome is decided by a conditional state change of the reservation document
//     (PENDING → RESERVED or PENDING → FAILING → FAILED), so exactly one run or release wins;
//     a run that loses gives back what it took unless the winner reserved.
//   - Release of a RESERVED reservation gives stock back guarded by a second token
//     "u:<id>" (pushed with the $inc), so a resumed or concurrent release cannot give twice.
//   - Tokens stay on products for a grace period after the reservation settles (at least
//     twice runDeadline, which bounds every run), then Sweep removes them; see release.go.
//
// Caveat: on FerretDB every update whose filter is more than {_id} scans the collection,
// so these conditional updates slow down as collections grow there; MongoDB uses _id.

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

// runDeadline bounds one reserve or release run, which continues when the client goes away.
const runDeadline = 30 * time.Second

// Release modes: which tokens a RELEASING reservation gives back by.
const (
	modePending  = "pending"  // released before RESERVED: undo the "r:" takes
	modeReserved = "reserved" // released after RESERVED: give back once per "u:" token
)

// Store keeps products and reservations.
type Store struct {
	products     *mongo.Collection
	reservations *mongo.Collection
	now          func() time.Time
	locks        *docLocks
	// beforeTake, when set (tests only), runs before item i is taken; an error stops the run
	// there as a crash would.
	beforeTake func(i int) error
}

// NewStore returns a Store on db; now is the clock (nil: time.Now).
func NewStore(db *mongo.Database, now func() time.Time) *Store {
	return &Store{products: db.Collection("products"), reservations: db.Collection("reservations"), now: now, locks: &docLocks{}}
}

// SetUp creates the indexes.
func (s *Store) SetUp(ctx context.Context) error {
	return platform.EnsureIndexes(ctx, s.reservations,
		platform.Index{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: 1}}},
		platform.Index{Keys: bson.D{{Key: "status", Value: 1}, {Key: "updatedAt", Value: 1}}})
}

// reservation is a reservation as stored; _id is the client-assigned reservation ID.
type reservation struct {
	ID            string `bson:"_id"`
	platform.Idem `bson:",inline"`
	OrderID       string    `bson:"orderId,omitempty"`
	Items         []Item    `bson:"items,omitempty"`
	Status        Status    `bson:"status"`
	Failure       string    `bson:"failure,omitempty"`
	ReleaseMode   string    `bson:"releaseMode,omitempty"`
	Reason        string    `bson:"reason,omitempty"`
	TokensSwept   bool      `bson:"tokensSwept,omitempty"`
	CreatedAt     time.Time `bson:"createdAt"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

func (r reservation) view() Reservation {
	return Reservation{ReservationID: r.ID, OrderID: r.OrderID, Status: r.Status, Items: r.Items, Failure: r.Failure,
		Reason: r.Reason, Tombstone: r.Tombstone, CreatedAt: platform.Timestamp(r.CreatedAt), UpdatedAt: platform.Timestamp(r.UpdatedAt)}
}

func reserveToken(id string) string { return "r:" + id }
func releaseToken(id string) string { return "u:" + id }

// takeFilter is the condition under which quantity units of a product may be taken for
// the reservation holding token: the product exists, is not discontinued, has at least
// quantity units, and this reservation has not taken it yet. Stock never goes negative
// because the check and the decrement are one atomic single-document update.
func takeFilter(productID string, quantity int, token string) bson.D {
	return bson.D{
		{Key: "_id", Value: productID},
		{Key: "discontinued", Value: false},
		{Key: "stock", Value: bson.D{{Key: "$gte", Value: quantity}}},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: token}}},
	}
}

// takeUpdate decrements the stock and records token in the same update.
func takeUpdate(quantity int, token string, now time.Time) bson.D {
	return bson.D{
		{Key: "$inc", Value: bson.D{{Key: "stock", Value: -quantity}}},
		{Key: "$push", Value: bson.D{{Key: "pending", Value: token}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}},
	}
}

// Reserve takes the stock of every item for reservation id, or none of it. The answer is
// stored with the reservation, so that a replay returns it; a replay that finds the first
// run unfinished (a crash, or a run still in flight) resumes it safely.
func (s *Store) Reserve(ctx context.Context, id string, spec ReserveSpec, key string) (platform.StoredResponse, bool, error) {
	now := platform.Now(s.now)
	d := reservation{ID: id, Idem: platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key},
		OrderID: spec.OrderID, Items: spec.Items, Status: Pending, CreatedAt: now, UpdatedAt: now}
	_, err := s.reservations.InsertOne(ctx, d)
	if err != nil && !mongo.IsDuplicateKeyError(err) {
		return platform.StoredResponse{}, false, fmt.Errorf("insert reservation %s: %w", id, err)
	}
	if err != nil {
		existing, err := s.reservation(ctx, id)
		if err != nil {
			return platform.StoredResponse{}, false, err
		}
		resp, ok, e := existing.Replay(d.RequestHash)
		switch {
		case e != nil:
			return platform.StoredResponse{}, false, e
		case ok && existing.Status == Failing: // a run crashed while giving stock back: finish it
			_, err := s.finishFailure(ctx, existing)
			return resp, true, err
		case ok:
			return resp, true, nil
		case existing.Status != Pending:
			return platform.StoredResponse{}, false, alreadyCompensated(id)
		}
		d = existing
	}
	resp, err := s.run(ctx, d)
	return resp, false, err
}

// run takes each item's stock and records the outcome.
func (s *Store) run(ctx context.Context, d reservation) (platform.StoredResponse, error) {
	token := reserveToken(d.ID)
	e, err := s.checkCatalog(ctx, d.Items, token)
	if err != nil {
		return platform.StoredResponse{}, err
	}
	for i := 0; e == nil && i < len(d.Items); i++ {
		if s.beforeTake != nil {
			if err := s.beforeTake(i); err != nil {
				return platform.StoredResponse{}, err
			}
		}
		if e, err = s.take(ctx, i, d.Items[i], token); err != nil {
			return platform.StoredResponse{}, err
		}
	}
	if e != nil {
		return s.fail(ctx, d, e)
	}
	now := platform.Now(s.now)
	won := d
	won.Status, won.UpdatedAt = Reserved, now
	resp, err := platform.Respond(http.StatusCreated, won.view())
	if err != nil {
		return resp, err
	}
	ok, cur, err := s.claim(ctx, d.ID, Pending, bson.D{{Key: "status", Value: Reserved}, {Key: "response", Value: resp}})
	if err != nil || !ok {
		return s.lost(ctx, cur, err)
	}
	return resp, nil
}

// checkCatalog refuses unknown and discontinued products and, before any stock moves,
// reports every item that is short (items this reservation already took are not short).
func (s *Store) checkCatalog(ctx context.Context, items []Item, token string) (*platform.APIError, error) {
	found, err := s.productsByID(ctx, items)
	if err != nil {
		return nil, err
	}
	var short []Shortage
	for i, it := range items {
		p, ok := found[it.ProductID]
		switch {
		case !ok:
			return unknownProduct(i, it.ProductID), nil
		case p.Discontinued:
			return discontinued(i, it.ProductID), nil
		case p.Stock < it.Quantity && !p.holds(token):
			short = append(short, Shortage{ProductID: it.ProductID, Requested: it.Quantity, Available: p.Stock})
		}
	}
	if len(short) > 0 {
		return outOfStock(short), nil
	}
	return nil, nil
}

// take moves item i's stock, or explains why it cannot; a take that this reservation
// already made counts as done.
func (s *Store) take(ctx context.Context, i int, it Item, token string) (*platform.APIError, error) {
	unlock := s.locks.lock(it.ProductID)
	defer unlock()
	for range 3 {
		err := s.products.FindOneAndUpdate(ctx, takeFilter(it.ProductID, it.Quantity, token),
			takeUpdate(it.Quantity, token, platform.Now(s.now))).Err()
		if err == nil {
			return nil, nil
		}
		if !errors.Is(err, mongo.ErrNoDocuments) {
			return nil, fmt.Errorf("take %d of %s: %w", it.Quantity, it.ProductID, err)
		}
		var p product
		err = s.products.FindOne(ctx, bson.D{{Key: "_id", Value: it.ProductID}}).Decode(&p)
		switch {
		case errors.Is(err, mongo.ErrNoDocuments):
			return unknownProduct(i, it.ProductID), nil
		case err != nil:
			return nil, fmt.Errorf("read product %s: %w", it.ProductID, err)
		case p.holds(token):
			return nil, nil
		case p.Discontinued:
			return discontinued(i, it.ProductID), nil
		case p.Stock < it.Quantity:
			return outOfStock([]Shortage{{ProductID: it.ProductID, Requested: it.Quantity, Available: p.Stock}}), nil
		}
		// The stock changed between the update and the read: try again.
	}
	return nil, fmt.Errorf("take %d of %s: stock kept changing", it.Quantity, it.ProductID)
}

// fail records the business failure e as the reservation's answer, then gives back what
// was taken.
func (s *Store) fail(ctx context.Context, d reservation, e *platform.APIError) (platform.StoredResponse, error) {
	resp := platform.RespondError(e)
	ok, cur, err := s.claim(ctx, d.ID, Pending, bson.D{{Key: "status", Value: Failing},
		{Key: "failure", Value: e.Code}, {Key: "response", Value: resp}})
	if err != nil || !ok {
		return s.lost(ctx, cur, err)
	}
	_, err = s.finishFailure(ctx, cur)
	return resp, err
}

// finishFailure gives back the takes of a FAILING reservation and marks it FAILED.
func (s *Store) finishFailure(ctx context.Context, d reservation) (reservation, error) {
	if err := s.undoTakes(ctx, d); err != nil {
		return d, err
	}
	ok, cur, err := s.claim(ctx, d.ID, Failing, bson.D{{Key: "status", Value: Failed}})
	if err != nil || ok || cur.Status == Failed {
		return cur, err
	}
	return cur, fmt.Errorf("finish failed reservation %s: status is %s", d.ID, cur.Status)
}

// lost handles a run whose final state change lost to another run or to a release: it
// gives back what it may have taken unless the reservation ended RESERVED (then every
// token is the winner's), and answers what the winner stored.
func (s *Store) lost(ctx context.Context, cur reservation, err error) (platform.StoredResponse, error) {
	if err != nil {
		return platform.StoredResponse{}, err
	}
	undo := cur.Status == Failing || cur.Status == Failed || cur.ReleaseMode == modePending
	if undo {
		if err := s.undoTakes(ctx, cur); err != nil {
			return platform.StoredResponse{}, err
		}
	}
	if cur.Response == nil {
		return platform.StoredResponse{}, alreadyCompensated(cur.ID)
	}
	return *cur.Response, nil
}

// undoTakes gives back, once, each take of reservation d that has not been given back.
func (s *Store) undoTakes(ctx context.Context, d reservation) error {
	token := reserveToken(d.ID)
	for _, it := range d.Items {
		unlock := s.locks.lock(it.ProductID)
		_, err := s.products.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: it.ProductID}, {Key: "pending", Value: token}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: it.Quantity}}},
				{Key: "$pull", Value: bson.D{{Key: "pending", Value: token}}},
				{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: platform.Now(s.now)}}}})
		unlock()
		if err != nil {
			return fmt.Errorf("give back %d of %s for %s: %w", it.Quantity, it.ProductID, d.ID, err)
		}
	}
	return nil
}

// claim changes reservation id from status from, setting set (and updatedAt), in one
// conditional update. When the reservation is not in from, ok is false and cur is what
// it is now.
func (s *Store) claim(ctx context.Context, id string, from Status, set bson.D) (ok bool, cur reservation, err error) {
	set = append(set, bson.E{Key: "updatedAt", Value: platform.Now(s.now)})
	unlock := s.locks.lock("reservation/" + id)
	defer unlock()
	err = s.reservations.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: from}},
		bson.D{{Key: "$set", Value: set}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&cur)
	if err == nil {
		return true, cur, nil
	}
	if !errors.Is(err, mongo.ErrNoDocuments) {
		return false, cur, fmt.Errorf("update reservation %s from %s: %w", id, from, err)
	}
	cur, err = s.reservation(ctx, id)
	return false, cur, err
}

// reservation reads reservation id; a missing one is platform.ErrNotFound.
func (s *Store) reservation(ctx context.Context, id string) (reservation, error) {
	var d reservation
	err := s.reservations.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d)
	if errors.Is(err, mongo.ErrNoDocuments) {
		return d, platform.ErrNotFound
	}
	if err != nil {
		return d, fmt.Errorf("get reservation %s: %w", id, err)
	}
	return d, nil
}
