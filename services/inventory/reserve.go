package inventory

// How a reservation stays all-or-nothing and exactly-once without transactions:
//
//   - The reservation document is inserted (PENDING) before any stock moves.
//   - Each product's stock is taken by ONE conditional update that also pushes a token;
//     the stock-move ledger (moves.go) makes each take happen at most once, however many
//     runs or replicas try, and records it durably while the product keeps only a counter.
//   - The outcome is decided by a conditional state change of the reservation document
//     (PENDING → RESERVED or PENDING → FAILING → FAILED), so exactly one run or release wins;
//     a run that loses gives back what it took unless the winner reserved.
//   - Failure and release give back each product's take once, and close the moves never
//     taken, so that a late take (a run still going after its release) is undone.
//
// Caveat: FerretDB (SQLite) answers these queries and conditional updates by scanning the
// collection, so they slow down as collections grow there; MongoDB uses the _id index.

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

// Release modes: whether a reservation was released before or after it was RESERVED.
// Giving back is the same either way (the ledger knows what was taken); the mode tells a
// run that lost the race to a release whether the takes were its own to give back.
const (
	modePending  = "pending"  // released before RESERVED: the run's takes are given back
	modeReserved = "reserved" // released after RESERVED: the takes were the winner's
)

// Store keeps products, reservations and the stock-move ledger.
type Store struct {
	products     *mongo.Collection
	reservations *mongo.Collection
	moves        *mongo.Collection
	now          func() time.Time
	locks        locker
	// beforeTake, when set (tests only), runs before item i is taken; an error stops the run
	// there as a crash would.
	beforeTake func(i int) error
}

// NewStore returns a Store on db; now is the clock (nil: time.Now) and ws says what keeps
// concurrent writes of one document apart (it panics on an unknown mode).
func NewStore(db *mongo.Database, now func() time.Time, ws WriteSerialization) *Store {
	return &Store{products: db.Collection("products"), reservations: db.Collection("reservations"),
		moves: db.Collection("moves"), now: now, locks: newLocker(ws)}
}

// SetUp creates the indexes and upgrades a database written before the ledger.
func (s *Store) SetUp(ctx context.Context) error {
	err := platform.EnsureIndexes(ctx, s.reservations,
		platform.Index{Keys: bson.D{{Key: "orderId", Value: 1}, {Key: "_id", Value: 1}}}) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	if err != nil {
		return err
	}
	return s.upgrade(ctx)
}

// ReservationDocument is a reservation as stored; _id is the client-assigned reservation ID.
type ReservationDocument struct {
	ID            string `bson:"_id"`
	platform.Idem `bson:",inline"`
	OrderID       string    `bson:"orderId,omitempty"`
	Items         []Item    `bson:"items,omitempty"`
	Status        Status    `bson:"status"`
	Failure       string    `bson:"failure,omitempty"`
	ReleaseMode   string    `bson:"releaseMode,omitempty"`
	Reason        string    `bson:"reason,omitempty"`
	CreatedAt     time.Time `bson:"createdAt"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

func (r ReservationDocument) view() Reservation {
	return Reservation{ReservationID: r.ID, OrderID: r.OrderID, Status: r.Status, Items: r.Items, Failure: r.Failure,
		Reason: r.Reason, Tombstone: r.Tombstone, CreatedAt: platform.Timestamp(r.CreatedAt), UpdatedAt: platform.Timestamp(r.UpdatedAt)}
}

// Reserve takes the stock of every item for reservation id, or none of it. The answer is
// stored with the reservation, so that a replay returns it; a replay that finds the first
// run unfinished (a crash, or a run still in flight) resumes it safely.
func (s *Store) Reserve(ctx context.Context, id string, spec ReserveSpec, key string) (platform.StoredResponse, bool, error) {
	// Read before the insert: while a product keeps the gen read before the reservation
	// existed, no take of it can have been compacted away, so the first run needs no
	// ledger read (see moves.go).
	before, err := s.productsByID(ctx, spec.Items)
	if err != nil {
		return platform.StoredResponse{}, false, err
	}
	now := platform.Now(s.now)
	d := ReservationDocument{ID: id, Idem: platform.Idem{RequestHash: platform.RequestHash(spec), IdempotencyKey: key},
		OrderID: spec.OrderID, Items: spec.Items, Status: Pending, CreatedAt: now, UpdatedAt: now}
	_, err = s.reservations.InsertOne(ctx, d)
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
		d, before = existing, nil // another run may have taken: look at the ledger too
	}
	resp, err := s.run(ctx, d, before)
	return resp, false, err
}

// run takes each item's stock and records the outcome; before is as for takeAll.
func (s *Store) run(ctx context.Context, d ReservationDocument, before map[string]ProductDocument) (platform.StoredResponse, error) {
	e, err := s.takeAll(ctx, d, before)
	if err != nil {
		return platform.StoredResponse{}, err
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
	ok, cur, err := s.claim(ctx, d.ID, Pending, bson.D{{Key: "status", Value: Reserved}, {Key: "response", Value: resp}}) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	if err != nil || !ok {
		return s.lost(ctx, cur, err)
	}
	return resp, nil
}

// takeAll takes the stock of every item of d in turn, stopping at the first business
// failure, which it returns. before holds d's products as read before d was inserted, or
// is nil (a resumed run: they and the ledger are read now).
func (s *Store) takeAll(ctx context.Context, d ReservationDocument, before map[string]ProductDocument) (*platform.APIError, error) {
	seen, e, err := s.checkCatalog(ctx, d, before)
	if err != nil || e != nil {
		return e, err
	}
	for i, it := range d.Items {
		if s.beforeTake != nil {
			if err := s.beforeTake(i); err != nil {
				return nil, err
			}
		}
		if e, err := s.take(ctx, d.ID, i, it, seen[i]); e != nil || err != nil {
			return e, err
		}
	}
	return nil, nil //nolint:nilnil // a nil *APIError means no business refusal; refusals and failures travel apart, and the caller tests each
}

// checkCatalog returns what it saw per item of d: the products in before or, when before
// is nil, read now and followed by their moves (the order look needs). Before any stock
// moves, it refuses unknown and discontinued products and reports every item that is
// short (items this reservation already took are not short).
func (s *Store) checkCatalog(ctx context.Context, d ReservationDocument, before map[string]ProductDocument) ([]sighting, *platform.APIError, error) {
	found, moves := before, map[string]move{}
	var err error
	ids := make([]string, 0, len(d.Items))
	for _, it := range d.Items {
		ids = append(ids, moveID(d.ID, it.ProductID))
	}
	if found == nil {
		if found, err = s.productsByID(ctx, d.Items); err != nil {
			return nil, nil, err
		}
		if moves, err = s.movesByID(ctx, ids); err != nil {
			return nil, nil, err
		}
	}
	seen := make([]sighting, len(d.Items))
	var short []Shortage
	for i, it := range d.Items {
		p, ok := found[it.ProductID]
		m, recorded := moves[ids[i]]
		seen[i] = sighting{p: p, m: m, recorded: recorded}
		switch {
		case !ok:
			return nil, unknownProduct(i, it.ProductID), nil
		case p.Discontinued:
			return nil, discontinued(i, it.ProductID), nil
		case p.Stock < it.Quantity && !recorded && !p.holds(reserveToken(d.ID)):
			short = append(short, Shortage{ProductID: it.ProductID, Requested: it.Quantity, Available: p.Stock})
		}
	}
	if len(short) > 0 {
		return nil, outOfStock(short), nil
	}
	return seen, nil, nil
}

// fail records the business failure e as the reservation's answer, then gives back what
// was taken.
func (s *Store) fail(ctx context.Context, d ReservationDocument, e *platform.APIError) (platform.StoredResponse, error) {
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
func (s *Store) finishFailure(ctx context.Context, d ReservationDocument) (ReservationDocument, error) {
	if err := s.giveBackAll(ctx, d); err != nil {
		return d, err
	}
	ok, cur, err := s.claim(ctx, d.ID, Failing, bson.D{{Key: "status", Value: Failed}})
	if err != nil || ok || cur.Status == Failed {
		return cur, err
	}
	return cur, fmt.Errorf("finish failed reservation %s: status is %s", d.ID, cur.Status)
}

// lost handles a run whose final state change lost to another run or to a release: it
// gives back what it may have taken unless the reservation was RESERVED (then every take
// is the winner's, and a release gives them back), and answers what the winner stored.
func (s *Store) lost(ctx context.Context, cur ReservationDocument, err error) (platform.StoredResponse, error) {
	if err != nil {
		return platform.StoredResponse{}, err
	}
	undo := cur.Status == Failing || cur.Status == Failed || cur.ReleaseMode == modePending
	if undo {
		if err := s.giveBackAll(ctx, cur); err != nil {
			return platform.StoredResponse{}, err
		}
	}
	if cur.Response == nil {
		return platform.StoredResponse{}, alreadyCompensated(cur.ID)
	}
	return *cur.Response, nil
}

// giveBackAll settles every move of reservation d for good (see giveBack): what it took
// comes back once, and what it did not take can no longer be taken.
func (s *Store) giveBackAll(ctx context.Context, d ReservationDocument) error {
	for _, it := range d.Items {
		if err := s.giveBack(ctx, d.ID, it); err != nil {
			return err
		}
	}
	return nil
}

// claim changes reservation id from status from, setting set (and updatedAt), in one
// conditional update. When the reservation is not in from, ok is false and cur is what
// it is now.
func (s *Store) claim(ctx context.Context, id string, from Status, set bson.D) (ok bool, cur ReservationDocument, err error) {
	set = append(set, bson.E{Key: "updatedAt", Value: platform.Now(s.now)}) //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	unlock := s.locks.Lock("reservation/" + id)
	defer unlock()
	err = s.reservations.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: from}},
		bson.D{{Key: "$set", Value: set}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&cur) //nolint:goconst // BSON update operator, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
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
func (s *Store) reservation(ctx context.Context, id string) (ReservationDocument, error) {
	return platform.FindByID[ReservationDocument](ctx, s.reservations, "reservation", id)
}
