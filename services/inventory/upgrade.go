package inventory

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// upgrade brings a database written before the stock-move ledger up to date, once (it
// does nothing when every product has a gen). Before the ledger, products kept a token
// per reservation until a sweeper removed the tokens of settled ones; so it records the
// moves that settled reservations imply, then gives every product a gen. Tokens still on
// products are then compacted like new ones, and the reservations in progress are
// finished from their tokens as usual.
//
// Caveat: it runs at start-up, before the routes open; replicas of the previous version
// must be stopped first (their sweeper removes tokens without changing gen).
func (s *Store) upgrade(ctx context.Context) error {
	noGen := bson.D{{Key: "gen", Value: bson.D{{Key: "$exists", Value: false}}}} //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	n, err := s.products.CountDocuments(ctx, noGen, options.Count().SetLimit(1))
	if err != nil {
		return fmt.Errorf("look for products to upgrade: %w", err)
	}
	if n == 0 {
		return nil
	}
	cur, err := s.reservations.Find(ctx, bson.D{{Key: "tombstone", Value: bson.D{{Key: "$ne", Value: true}}}}) //nolint:goconst // BSON query operator, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
	if err != nil {
		return fmt.Errorf("read reservations to upgrade: %w", err)
	}
	defer func() { _ = cur.Close(ctx) }() // read to the end or abandoned on an error already returned: a failed close loses nothing
	for cur.Next(ctx) {
		var d ReservationDocument
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("read reservation to upgrade: %w", err)
		}
		state := legacyMoveState(d)
		for _, it := range d.Items {
			if state == "" {
				break
			}
			if _, err := s.recordMove(ctx, d.ID, it, state); err != nil {
				return err
			}
		}
	}
	if err := cur.Err(); err != nil {
		return fmt.Errorf("read reservations to upgrade: %w", err)
	}
	if _, err := s.products.UpdateMany(ctx, noGen, bson.D{{Key: "$set", Value: bson.D{{Key: "gen", Value: int64(0)}}}}); err != nil { //nolint:goconst // BSON update operator, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
		return fmt.Errorf("give products a gen: %w", err)
	}
	return nil
}

// legacyMoveState is the state that every move of reservation d had before the ledger,
// or "" where the product tokens still tell (a reservation in progress: the old sweeper
// only removed the tokens of settled ones).
func legacyMoveState(d ReservationDocument) moveState {
	switch {
	case d.Status == Reserved, d.Status == Releasing && d.ReleaseMode == modeReserved:
		return moveTaken
	case d.Status == Released && d.ReleaseMode == modeReserved:
		return moveReturned
	case d.Status == Failed, d.Status == Released:
		// Everything was given back; a take token still on a product landed late, and
		// the void record makes compaction give it back, as the old sweeper did.
		return moveVoid
	}
	return ""
}
