package inventory

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Release gives back exactly what reservation id took, once. Releasing a released or
// failed reservation changes nothing; releasing an unknown one leaves a RELEASED tombstone
// so that a late reserve with this ID is refused. changed tells whether this call
// completed a release.
func (s *Store) Release(ctx context.Context, id, reason string) (d reservation, changed bool, err error) {
	now := platform.Now(s.now)
	tomb := reservation{ID: id, Idem: platform.Idem{Tombstone: true}, Status: Released, Reason: reason, CreatedAt: now, UpdatedAt: now}
	tombstoned, err := platform.Compensate(ctx, s.reservations, tomb, func(ctx context.Context) error {
		d, changed, err = s.release(ctx, id, reason)
		return err
	})
	if tombstoned {
		return tomb, false, nil
	}
	return d, changed, err
}

func (s *Store) release(ctx context.Context, id, reason string) (reservation, bool, error) {
	for range 5 {
		d, err := s.reservation(ctx, id)
		if err != nil {
			return d, false, err
		}
		switch d.Status {
		case Failed, Released:
			// Nothing to give back, but a repeated release repairs a take that a run made
			// after the reservation settled and then crashed before giving it back.
			if !d.Tombstone && (d.Status == Failed || d.ReleaseMode == modePending) {
				err = s.undoTakes(ctx, d)
			}
			return d, false, err
		case Failing:
			d, err = s.finishFailure(ctx, d)
			return d, false, err
		case Pending, Reserved:
			mode := modePending
			if d.Status == Reserved {
				mode = modeReserved
			}
			ok, cur, err := s.claim(ctx, id, d.Status, bson.D{{Key: "status", Value: Releasing},
				{Key: "releaseMode", Value: mode}, {Key: "reason", Value: reason}, {Key: "tokensSwept", Value: false}})
			if err != nil {
				return cur, false, err
			}
			if !ok {
				continue // it moved under us; look again
			}
			d = cur
		}
		return s.finishRelease(ctx, d) // RELEASING: ours, or one that crashed half-way
	}
	return reservation{}, false, fmt.Errorf("release %s: the reservation kept changing", id)
}

// finishRelease gives back the stock of a RELEASING reservation and marks it RELEASED.
func (s *Store) finishRelease(ctx context.Context, d reservation) (reservation, bool, error) {
	var err error
	if d.ReleaseMode == modePending {
		err = s.undoTakes(ctx, d)
	} else {
		err = s.giveBack(ctx, d)
	}
	if err != nil {
		return d, false, err
	}
	ok, cur, err := s.claim(ctx, d.ID, Releasing, bson.D{{Key: "status", Value: Released}})
	return cur, ok, err
}

// giveBack returns the stock of a RESERVED reservation, each product once: the "u:" token
// is pushed in the same update as the increment.
func (s *Store) giveBack(ctx context.Context, d reservation) error {
	token := releaseToken(d.ID)
	for _, it := range d.Items {
		unlock := s.locks.lock(it.ProductID)
		_, err := s.products.UpdateOne(ctx,
			bson.D{{Key: "_id", Value: it.ProductID}, {Key: "pending", Value: bson.D{{Key: "$ne", Value: token}}}},
			bson.D{{Key: "$inc", Value: bson.D{{Key: "stock", Value: it.Quantity}}},
				{Key: "$push", Value: bson.D{{Key: "pending", Value: token}}},
				{Key: "$set", Value: bson.D{{Key: "updatedAt", Value: platform.Now(s.now)}}}})
		unlock()
		if err != nil {
			return fmt.Errorf("give back %d of %s for %s: %w", it.Quantity, it.ProductID, d.ID, err)
		}
	}
	return nil
}

// Sweep removes the tokens of reservations that settled before now-grace. Tokens of a
// successful take (RESERVED, or RELEASED after RESERVED) are just removed; for FAILED and
// for RELEASED-before-RESERVED it gives back any take still recorded first, so a leftover
// token is repaired rather than forgotten. It returns how many reservations it swept.
func (s *Store) Sweep(ctx context.Context, now time.Time, grace time.Duration) (int, error) {
	cur, err := s.reservations.Find(ctx, bson.D{
		{Key: "status", Value: bson.D{{Key: "$in", Value: bson.A{Reserved, Failed, Released}}}},
		{Key: "tokensSwept", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "tombstone", Value: bson.D{{Key: "$ne", Value: true}}},
		{Key: "updatedAt", Value: bson.D{{Key: "$lt", Value: now.Add(-grace)}}},
	}, options.Find().SetLimit(200))
	if err != nil {
		return 0, fmt.Errorf("find reservations to sweep: %w", err)
	}
	var settled []reservation
	if err := cur.All(ctx, &settled); err != nil {
		return 0, fmt.Errorf("read reservations to sweep: %w", err)
	}
	for _, d := range settled {
		if err := s.sweepOne(ctx, d); err != nil {
			return 0, err
		}
	}
	return len(settled), nil
}

func (s *Store) sweepOne(ctx context.Context, d reservation) error {
	if d.Status == Failed || d.ReleaseMode == modePending {
		if err := s.undoTakes(ctx, d); err != nil {
			return err
		}
	}
	ids := make(bson.A, 0, len(d.Items))
	for _, it := range d.Items {
		ids = append(ids, it.ProductID)
	}
	tokens := bson.A{reserveToken(d.ID)}
	if d.Status == Released { // a RESERVED one may be released any time: its "u:" tokens are not ours to touch
		tokens = append(tokens, releaseToken(d.ID))
	}
	productIDs := make([]string, 0, len(d.Items))
	for _, it := range d.Items {
		productIDs = append(productIDs, it.ProductID)
	}
	unlock := s.locks.lock(productIDs...)
	_, err := s.products.UpdateMany(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		bson.D{{Key: "$pullAll", Value: bson.D{{Key: "pending", Value: tokens}}}})
	unlock()
	if err != nil {
		return fmt.Errorf("sweep tokens of %s: %w", d.ID, err)
	}
	// Conditional on updatedAt: a release that started meanwhile keeps its tokens.
	_, err = s.reservations.UpdateOne(ctx, bson.D{{Key: "_id", Value: d.ID}, {Key: "updatedAt", Value: d.UpdatedAt}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "tokensSwept", Value: true}}}})
	if err != nil {
		return fmt.Errorf("mark %s swept: %w", d.ID, err)
	}
	return nil
}

// Reservations returns a page of reservations, optionally of one order.
func (s *Store) Reservations(ctx context.Context, p platform.ListParams) ([]reservation, string, error) {
	return platform.FindPage(ctx, s.reservations, platform.EqualFilters(p, "orderId"), p, func(d reservation) string { return d.ID })
}

// Reservation returns reservation id, or a 404 RESERVATION_NOT_FOUND.
func (s *Store) Reservation(ctx context.Context, id string) (reservation, error) {
	d, err := s.reservation(ctx, id)
	if errors.Is(err, platform.ErrNotFound) {
		return d, reservationNotFound(id)
	}
	return d, err
}
