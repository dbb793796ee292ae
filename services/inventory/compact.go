package inventory

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/services/platform"
)

// compactAt is how many tokens a product may hold before the stock move that reaches it
// compacts the product, so that its document stays small by construction: fewer than
// compactAt tokens (each at most 130 bytes) plus those of moves in flight. Each compaction
// makes in-flight moves of the product look again once, hence not every move.
const compactAt = 32

// sweepBatch is how many products a sweep reads at a time.
const sweepBatch = 100

// compactIfFull compacts p when it holds compactAt tokens or more. A failure is logged,
// not returned: the move that triggered it succeeded, and the next move or sweep retries.
func (s *Store) compactIfFull(ctx context.Context, p ProductDocument) {
	if len(p.Pending) < compactAt {
		return
	}
	if _, err := s.compact(ctx, p); err != nil {
		platform.Logger(ctx).Warn("compact product failed", "product", p.ID, "tokens", len(p.Pending), "error", err.Error())
	}
}

// compact records in the ledger the move of every token that p (as read) holds, then pulls
// those tokens and increments gen in one update (see moves.go for why gen). A take whose
// move was closed (void) landed after its failure or release: it is given back instead.
// Tokens pushed after p was read stay for the next compaction. It returns how many tokens
// it removed.
func (s *Store) compact(ctx context.Context, p ProductDocument) (int, error) {
	if len(p.Pending) == 0 {
		return 0, nil
	}
	moves, err := s.ledgerOf(ctx, p)
	if err != nil {
		return 0, err
	}
	var pull []string
	undone := 0
	for _, t := range p.Pending {
		kind, resID := splitToken(t)
		m, ok := moves[resID]
		switch {
		case !ok: // no reservation behind the token: cannot happen, so leave it for a person to see
			continue
		case kind == "r" && m.State == moveVoid:
			if err := s.undoLateTake(ctx, m); err != nil {
				return undone, err
			}
			undone++
			continue
		case kind == "u" && m.State == moveTaken: // given back, not yet recorded
			if err := s.markReturned(ctx, m.ID); err != nil {
				return undone, err
			}
		case kind == "u" && m.State != moveReturned:
			continue // a give-back of a move never taken: cannot happen, as above
		}
		pull = append(pull, t)
	}
	if len(pull) == 0 {
		return undone, nil
	}
	unlock := s.locks.Lock(p.ID)
	defer unlock()
	//nolint:goconst // BSON field names and operators of the compaction, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	_, err = s.products.UpdateOne(ctx, bson.D{{Key: "_id", Value: p.ID}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "pending", Value: pull}}}, {Key: "$inc", Value: bson.D{{Key: "gen", Value: 1}}}})
	if err != nil {
		return undone, fmt.Errorf("compact product %s: %w", p.ID, err)
	}
	return undone + len(pull), nil
}

// ledgerOf returns, by reservation ID, the moves on p of the reservations whose tokens p
// holds, recording first each take that is not recorded yet (its token proves it
// happened; the quantity comes from the reservation).
func (s *Store) ledgerOf(ctx context.Context, p ProductDocument) (map[string]move, error) {
	ids := make([]string, 0, len(p.Pending))
	for _, t := range p.Pending {
		_, resID := splitToken(t)
		ids = append(ids, moveID(resID, p.ID))
	}
	byID, err := s.movesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[string]move, len(byID))
	for _, m := range byID {
		out[m.ReservationID] = m
	}
	var missing []string
	for _, t := range p.Pending {
		if kind, resID := splitToken(t); kind == "r" && out[resID].ID == "" {
			missing = append(missing, resID)
		}
	}
	if len(missing) == 0 {
		return out, nil
	}
	if err := s.recordTakes(ctx, p.ID, missing); err != nil {
		return nil, err
	}
	return s.ledgerAgain(ctx, p.ID, missing, out)
}

// recordTakes records the takes of product productID by the reservations resIDs as taken
// (where no entry exists yet): runs in flight, or stopped between the take and its record.
func (s *Store) recordTakes(ctx context.Context, productID string, resIDs []string) error {
	for _, id := range resIDs {
		d, err := s.reservation(ctx, id)
		if errors.Is(err, platform.ErrNotFound) {
			continue // cannot happen: a reservation is inserted before it takes
		}
		if err != nil {
			return err
		}
		for _, it := range d.Items {
			if it.ProductID != productID {
				continue
			}
			if _, err := s.recordMove(ctx, d.ID, it, moveTaken); err != nil {
				return err
			}
		}
	}
	return nil
}

// ledgerAgain adds to out the moves of resIDs on productID as they are now.
func (s *Store) ledgerAgain(ctx context.Context, productID string, resIDs []string, out map[string]move) (map[string]move, error) {
	ids := make([]string, 0, len(resIDs))
	for _, id := range resIDs {
		ids = append(ids, moveID(id, productID))
	}
	byID, err := s.movesByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, m := range byID {
		out[m.ReservationID] = m
	}
	return out, nil
}

// Sweep compacts every product that holds tokens, sweepBatch products at a time, until it
// has passed them all or ctx ends. Products compact themselves as moves reach compactAt;
// the sweep tidies quiet ones and undoes takes that landed after their release when the
// run that made them stopped (crashed) before doing so itself. It returns how many tokens
// it removed.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	total, after := 0, ""
	for ctx.Err() == nil {
		cur, err := s.products.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}},
			{Key: "pending.0", Value: bson.D{{Key: "$exists", Value: true}}}},
			options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(sweepBatch))
		if err != nil {
			return total, fmt.Errorf("find products to compact: %w", err)
		}
		var batch []ProductDocument
		if err := cur.All(ctx, &batch); err != nil {
			return total, fmt.Errorf("read products to compact: %w", err)
		}
		for _, p := range batch {
			n, err := s.compact(ctx, p)
			total += n
			if err != nil {
				return total, err
			}
		}
		if len(batch) < sweepBatch {
			return total, nil
		}
		after = batch[len(batch)-1].ID
	}
	return total, fmt.Errorf("sweep stopped: %w", ctx.Err())
}
