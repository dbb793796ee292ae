package inventory

// The stock-move ledger: how stock moves exactly once without transactions while product
// documents stay small, whatever the number of reservations.
//
// A reservation makes at most one stock move per product (its items have distinct
// products). The move is recorded in the "moves" collection under _id
// "<reservationId>/<productId>" (a reservation ID cannot hold "/"), and its state only
// goes forward: absent → taken → returned, or absent → void (closed by a failure or release
// before any take: a take that lands later is undone).
//
// A product document holds its counter (stock), a generation (gen) and the tokens of the
// moves applied to it since it was last compacted: "r:<reservationId>" for a take,
// "u:<reservationId>" for a give-back. A token is pushed by the very conditional update
// that moves the stock, so it is the crash-proof proof that the move happened:
//
//	take:      {_id, gen: g, discontinued: false, stock: {$gte: q}, pending: {$ne: "r:<id>"}}
//	           → {$inc: {stock: -q}, $push: {pending: "r:<id>"}}
//	give back: {_id, gen: g, pending: {$ne: "u:<id>"}} → {$inc: {stock: q}, $push: {pending: "u:<id>"}}
//
// The run that moved the stock records the move right after; compaction (compact.go)
// records any token's move still missing (a run in flight or crashed), then pulls the
// tokens and increments gen in one update. A product therefore holds fewer than compactAt
// tokens plus those of moves in flight.
//
// Why gen: a run decides that a move has not happened from a product read (no token)
// followed by a ledger read (no record), then applies it with the gen it read. Had the move
// happened before the product read, its token was still there, or compaction had pulled it
// - and compaction records before it pulls, so the later ledger read saw the record. If
// it happens after the product read, its token is there at the update (the $ne refuses)
// unless compaction pulled it, which changed gen (the gen match refuses). A refused update
// looks again. So each move is applied at most once by any number of runs and replicas,
// with no grace period and no clock. Takes do not change gen, so they do not contend with
// each other; only a compaction (about once per compactAt moves) makes in-flight ones retry.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/services/platform"
)

// maxMoveAttempts bounds the looks at one move; an attempt only fails when the product
// changed under it (another move's compaction, a catalog edit).
const maxMoveAttempts = 8

// moveState is how far a stock move has gone.
type moveState string

const (
	moveTaken    moveState = "taken"    // the stock was taken for the reservation
	moveReturned moveState = "returned" // taken, then given back
	moveVoid     moveState = "void"     // closed before any take; a later take is undone
)

// move is a ledger entry: one reservation's stock move on one product.
type move struct {
	ID            string    `bson:"_id"`
	ReservationID string    `bson:"reservationId"`
	ProductID     string    `bson:"productId"`
	Quantity      int       `bson:"quantity"`
	State         moveState `bson:"state"`
	CreatedAt     time.Time `bson:"createdAt"`
	UpdatedAt     time.Time `bson:"updatedAt"`
}

func moveID(reservationID, productID string) string { return reservationID + "/" + productID }

func reserveToken(id string) string { return "r:" + id }
func releaseToken(id string) string { return "u:" + id }

// takeFilter is the condition under which quantity units of a product may be taken for
// the reservation holding token: the product exists, is not discontinued, has at least
// quantity units, this reservation's take is not on it, and it was not compacted since
// the caller read gen. Stock never goes negative because the check and the decrement are
// one atomic single-document update.
func takeFilter(productID string, quantity int, gen int64, token string) bson.D {
	//nolint:goconst // BSON field names and operators of the take filter shown in the comment at the top, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	return bson.D{
		{Key: "_id", Value: productID},
		{Key: "gen", Value: gen},
		{Key: "discontinued", Value: false},
		{Key: "stock", Value: bson.D{{Key: "$gte", Value: quantity}}},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: token}}},
	}
}

// takeUpdate decrements the stock and records token in the same update.
func takeUpdate(quantity int, token string, now time.Time) bson.D {
	//nolint:goconst // BSON update operators and field names of the take update shown in the comment at the top, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	return bson.D{
		{Key: "$inc", Value: bson.D{{Key: "stock", Value: -quantity}}},
		{Key: "$push", Value: bson.D{{Key: "pending", Value: token}}},
		{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: now}}},
	}
}

// giveBackFilter and giveBackUpdate return quantity units once, under the same guards.
func giveBackFilter(productID string, gen int64, token string) bson.D {
	return bson.D{
		{Key: "_id", Value: productID},
		{Key: "gen", Value: gen},
		{Key: "pending", Value: bson.D{{Key: "$ne", Value: token}}},
	}
}

func giveBackUpdate(quantity int, token string, now time.Time) bson.D {
	return takeUpdate(-quantity, token, now)
}

// sighting is one look at a move: the product, read first, then the ledger entry. Only
// in that order may "no token and no record" be read as "not applied" (see above). The
// first run of a reservation uses instead the product as read before the reservation was
// inserted, with no ledger read: no run could move its stock before, and any take since
// keeps its token until a compaction, which changes gen, so the update's gen match and
// token check settle it alone. This spares a ledger read per reservation (on FerretDB,
// which scans a collection even to find one _id, a read that grows with the ledger).
type sighting struct {
	p        ProductDocument
	m        move
	recorded bool
}

// look reads product productID, then the move of reservation resID on it. found is false
// when the product does not exist.
func (s *Store) look(ctx context.Context, resID, productID string) (g sighting, found bool, err error) {
	err = s.products.FindOne(ctx, bson.D{{Key: "_id", Value: productID}}).Decode(&g.p)
	switch {
	case err == nil:
		found = true
	case !errors.Is(err, mongo.ErrNoDocuments):
		return g, false, fmt.Errorf("read product %s: %w", productID, err)
	}
	err = s.moves.FindOne(ctx, bson.D{{Key: "_id", Value: moveID(resID, productID)}}).Decode(&g.m)
	switch {
	case err == nil:
		g.recorded = true
	case !errors.Is(err, mongo.ErrNoDocuments):
		return g, found, fmt.Errorf("read move %s: %w", moveID(resID, productID), err)
	}
	return g, found, nil
}

// movesByID reads the ledger entries with the given IDs in one query.
func (s *Store) movesByID(ctx context.Context, ids []string) (map[string]move, error) {
	out := make(map[string]move, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	cur, err := s.moves.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}})
	if err != nil {
		return nil, fmt.Errorf("read moves: %w", err)
	}
	var found []move
	if err := cur.All(ctx, &found); err != nil {
		return nil, fmt.Errorf("read moves: %w", err)
	}
	for _, m := range found {
		out[m.ID] = m
	}
	return out, nil
}

// take applies item i's take for reservation resID, starting from sighting g, or explains
// why it cannot. A take this reservation already made counts as done, and so does a move
// that a failure or release closed: the run's final state change then fails, and lost
// gives back whatever it took.
func (s *Store) take(ctx context.Context, resID string, i int, it Item, g sighting) (*platform.APIError, error) {
	token := reserveToken(resID)
	for attempt := range maxMoveAttempts {
		if attempt > 0 {
			var found bool
			var err error
			if g, found, err = s.look(ctx, resID, it.ProductID); err != nil {
				return nil, err
			} else if !found {
				return unknownProduct(i, it.ProductID), nil
			}
		}
		switch {
		case g.recorded || g.p.holds(token):
			return nil, nil //nolint:nilnil // a nil *APIError means no business refusal; refusals and failures travel apart, and the caller tests each
		case g.p.Discontinued:
			return discontinued(i, it.ProductID), nil
		case g.p.Stock < it.Quantity:
			return outOfStock([]Shortage{{ProductID: it.ProductID, Requested: it.Quantity, Available: g.p.Stock}}), nil
		}
		after, ok, err := s.applyMove(ctx, it.ProductID, takeFilter(it.ProductID, it.Quantity, g.p.Gen, token),
			takeUpdate(it.Quantity, token, platform.Now(s.now)))
		if err != nil {
			return nil, fmt.Errorf("take %d of %s for %s: %w", it.Quantity, it.ProductID, resID, err)
		}
		if ok {
			// Recorded now rather than by compaction, so that compaction rarely has to look
			// a reservation up. Should a release have closed the move meanwhile, the insert
			// finds it void and the run's lost undoes this take.
			if _, err := s.recordMove(ctx, resID, it, moveTaken); err != nil {
				return nil, err
			}
			s.compactIfFull(ctx, after)
			return nil, nil //nolint:nilnil // a nil *APIError means no business refusal; refusals and failures travel apart, and the caller tests each
		}
	}
	return nil, fmt.Errorf("take %d of %s for %s: the product kept changing", it.Quantity, it.ProductID, resID)
}

// giveBack settles the move of item it for reservation resID for good: a take is given
// back once, a move never taken is closed (void) so that no later take counts, and a take
// that landed after the close is undone.
func (s *Store) giveBack(ctx context.Context, resID string, it Item) error {
	for range maxMoveAttempts {
		g, found, err := s.look(ctx, resID, it.ProductID)
		if err != nil {
			return err
		}
		if done, err := s.giveBackStep(ctx, resID, it, g, found); err != nil || done {
			return err
		}
	}
	return fmt.Errorf("give back %d of %s for %s: the product kept changing", it.Quantity, it.ProductID, resID)
}

// giveBackStep takes the one step that g calls for; done is false when giveBack must look again.
func (s *Store) giveBackStep(ctx context.Context, resID string, it Item, g sighting, found bool) (done bool, err error) {
	took, gave := reserveToken(resID), releaseToken(resID)
	switch {
	case !g.recorded && g.p.holds(took): // taken, not yet recorded: record it, then give it back
		_, err := s.recordMove(ctx, resID, it, moveTaken)
		return false, err
	case !g.recorded: // never taken: close it; if a take won the race, look again
		return s.recordMove(ctx, resID, it, moveVoid)
	case g.m.State == moveVoid && g.p.holds(took):
		return true, s.undoLateTake(ctx, g.m)
	case g.m.State == moveVoid, g.m.State == moveReturned:
		return true, nil
	case g.p.holds(gave): // given back, not yet recorded
		return true, s.markReturned(ctx, g.m.ID)
	case !found:
		return false, fmt.Errorf("give back %d of %s for %s: the product does not exist", it.Quantity, it.ProductID, resID)
	}
	after, ok, err := s.applyMove(ctx, it.ProductID, giveBackFilter(it.ProductID, g.p.Gen, gave),
		giveBackUpdate(g.m.Quantity, gave, platform.Now(s.now)))
	if err != nil || !ok {
		return false, wrapGiveBack(err, g.m)
	}
	if err := s.markReturned(ctx, g.m.ID); err != nil {
		return false, err
	}
	s.compactIfFull(ctx, after)
	return true, nil
}

func wrapGiveBack(err error, m move) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("give back %d of %s for %s: %w", m.Quantity, m.ProductID, m.ReservationID, err)
}

// applyMove runs one stock-moving conditional update of product productID under its write
// lock and returns the product after it; ok is false when the filter matched nothing.
func (s *Store) applyMove(ctx context.Context, productID string, filter, update bson.D) (after ProductDocument, ok bool, err error) {
	unlock := s.locks.Lock(productID)
	defer unlock()
	err = s.products.FindOneAndUpdate(ctx, filter, update, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	switch {
	case err == nil:
		return after, true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return after, false, nil
	default:
		return after, false, fmt.Errorf("update product %s: %w", productID, err)
	}
}

// undoLateTake gives back a take that landed after its move was closed (void). The token
// goes in the same update as the increment, so it is undone at most once.
func (s *Store) undoLateTake(ctx context.Context, m move) error {
	token := reserveToken(m.ReservationID)
	unlock := s.locks.Lock(m.ProductID)
	defer unlock()
	_, err := s.products.UpdateOne(ctx, bson.D{{Key: "_id", Value: m.ProductID}, {Key: "pending", Value: token}},
		bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: m.Quantity}, {Key: "gen", Value: 1}}},
			{Key: "$pull", Value: bson.D{{Key: "pending", Value: token}}},
			{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: platform.Now(s.now)}}}})
	if err != nil {
		return fmt.Errorf("undo late take of %d of %s for %s: %w", m.Quantity, m.ProductID, m.ReservationID, err)
	}
	return nil
}

// recordMove inserts the ledger entry of item it for reservation resID in state; inserted
// is false when an entry was already there (its state is then whatever won).
func (s *Store) recordMove(ctx context.Context, resID string, it Item, state moveState) (inserted bool, err error) {
	now := platform.Now(s.now)
	_, err = s.moves.InsertOne(ctx, move{ID: moveID(resID, it.ProductID), ReservationID: resID, ProductID: it.ProductID,
		Quantity: it.Quantity, State: state, CreatedAt: now, UpdatedAt: now})
	switch {
	case mongo.IsDuplicateKeyError(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("record move %s as %s: %w", moveID(resID, it.ProductID), state, err)
	}
	return true, nil
}

// markReturned records that taken move id was given back.
func (s *Store) markReturned(ctx context.Context, id string) error {
	_, err := s.moves.UpdateOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "state", Value: moveTaken}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "state", Value: moveReturned}, {Key: "updatedAt", Value: platform.Now(s.now)}}}})
	if err != nil {
		return fmt.Errorf("record move %s as returned: %w", id, err)
	}
	return nil
}

// splitToken returns a token's kind ("r" take, "u" give-back) and reservation ID.
func splitToken(t string) (kind, reservationID string) {
	kind, id, _ := strings.Cut(t, ":")
	return kind, id
}
