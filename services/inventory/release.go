package inventory

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Release gives back exactly what reservation id took, once. Releasing a released or
// failed reservation changes nothing; releasing an unknown one leaves a RELEASED tombstone
// so that a late reserve with this ID is refused. changed tells whether this call
// completed a release.
func (s *Store) Release(ctx context.Context, id, reason string) (d ReservationDocument, changed bool, err error) {
	now := platform.Now(s.now)
	tomb := ReservationDocument{ID: id, Idem: platform.Idem{Tombstone: true}, Status: Released, Reason: reason, CreatedAt: now, UpdatedAt: now}
	tombstoned, err := platform.Compensate(ctx, s.reservations, tomb, func(ctx context.Context) error {
		d, changed, err = s.release(ctx, id, reason)
		return err
	})
	if tombstoned {
		return tomb, false, nil
	}
	return d, changed, err
}

// release tries first the change a saga's rollback mostly makes, RESERVED → RELEASING, in
// the one conditional update it needs: the reservation is read only when it is in another
// state (claim reads it then).
func (s *Store) release(ctx context.Context, id, reason string) (ReservationDocument, bool, error) {
	ok, d, err := s.claim(ctx, id, Reserved, releasing(modeReserved, reason))
	if err != nil {
		return d, false, err
	}
	if ok {
		return s.finishRelease(ctx, d)
	}
	for range 5 {
		switch d.Status {
		case Failed, Released:
			// Nothing to give back, but a repeated release repairs a take that a run made
			// after the reservation settled and then crashed before giving it back.
			if !d.Tombstone {
				err = s.giveBackAll(ctx, d)
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
			ok, cur, err := s.claim(ctx, id, d.Status, releasing(mode, reason))
			if err != nil {
				return cur, false, err
			}
			if !ok {
				d = cur // it moved under us: look again at what it is now
				continue
			}
			d = cur
		case Releasing: // one that crashed half-way: finished below
		}
		return s.finishRelease(ctx, d) // RELEASING: ours, or one that crashed half-way
	}
	return ReservationDocument{}, false, fmt.Errorf("release %s: the reservation kept changing", id)
}

// releasing is the change of a reservation to RELEASING, released in mode for reason.
func releasing(mode, reason string) bson.D {
	return bson.D{{Key: "status", Value: Releasing}, //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
		{Key: "releaseMode", Value: mode}, {Key: "reason", Value: reason}}
}

// finishRelease gives back the stock of a RELEASING reservation and marks it RELEASED.
func (s *Store) finishRelease(ctx context.Context, d ReservationDocument) (ReservationDocument, bool, error) {
	if err := s.giveBackAll(ctx, d); err != nil {
		return d, false, err
	}
	ok, cur, err := s.claim(ctx, d.ID, Releasing, bson.D{{Key: "status", Value: Released}})
	return cur, ok, err
}

// Reservations returns a page of reservations, optionally of one order.
func (s *Store) Reservations(ctx context.Context, p platform.ListParams) ([]ReservationDocument, string, error) {
	return platform.FindPage(ctx, s.reservations, platform.EqualFilters(p, "orderId"), p, func(d ReservationDocument) string { return d.ID })
}

// Reservation returns reservation id, or a 404 RESERVATION_NOT_FOUND.
func (s *Store) Reservation(ctx context.Context, id string) (ReservationDocument, error) {
	return platform.GetByID[ReservationDocument](ctx, s.reservations, "reservation", id, reservationNotFound)
}
