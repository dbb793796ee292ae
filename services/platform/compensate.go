package platform

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Compensate runs apply, which undoes the action on the existing document and returns
// ErrNotFound when there is none. Then it inserts tomb (a document with Idem.Tombstone set),
// so that a late create with this ID is refused. A create that races in between makes the
// insert fail with a duplicate key; apply then runs again on what that create wrote.
func Compensate(ctx context.Context, coll *mongo.Collection, tomb any, apply func(context.Context) error) (tombstoned bool, err error) {
	for range 3 {
		err := apply(ctx)
		if !errors.Is(err, ErrNotFound) {
			return false, err
		}
		_, err = coll.InsertOne(ctx, tomb)
		if err == nil {
			return true, nil
		}
		if !mongo.IsDuplicateKeyError(err) {
			return false, fmt.Errorf("insert %s tombstone: %w", coll.Name(), err)
		}
	}
	return false, fmt.Errorf("compensate in %s: the document kept changing", coll.Name())
}

// Undo is the compensation of a create, by the create's ID, on documents in the services'
// layout: _id, status, reason, createdAt and updatedAt, with Idem inline. A document in
// status From moves to To in one update conditional on From; a document in any other
// status is answered as it is (undone already, or the create was refused and there is
// nothing to undo); when there is no document, a tombstone in To is stored so that a late
// create is refused (see Compensate). Repeating an Undo changes nothing and answers the same.
type Undo[D any, S comparable] struct {
	// Kind names the documents in errors ("payment").
	Kind string
	// From is the status in which the create took effect; To is the status that undoes it.
	From, To S
	// Reason is stored with the change, and in a tombstone when it is not empty.
	Reason string
	// At is the time of the change.
	At time.Time
	// Also returns more fields for the change to set, from the document before it (a refund
	// records the captured amount as refunded); nil sets none.
	Also func(d D) bson.D
}

// Run applies u to the document id of coll. It returns the document as it is afterwards,
// or the tombstone it stored; changed tells whether this call undid the create.
func (u Undo[D, S]) Run(ctx context.Context, coll *mongo.Collection, id string) (d D, changed bool, err error) {
	tomb := u.tombstone(id)
	tombstoned, err := Compensate(ctx, coll, tomb, func(ctx context.Context) error {
		d, changed, err = u.apply(ctx, coll, id)
		return err
	})
	if !tombstoned {
		return d, changed, err
	}
	if d, err = decode[D](tomb); err != nil {
		return d, false, fmt.Errorf("decode %s %s tombstone: %w", u.Kind, id, err)
	}
	return d, false, nil
}

// decode returns doc as a D, the way a later read of it would return it.
func decode[D any](doc bson.D) (D, error) {
	var d D
	b, err := bson.Marshal(doc)
	if err != nil {
		return d, fmt.Errorf("encode: %w", err)
	}
	if err := bson.Unmarshal(b, &d); err != nil {
		return d, fmt.Errorf("decode: %w", err)
	}
	return d, nil
}

// tombstone is the document stored for id when there is none to undo.
func (u Undo[D, S]) tombstone(id string) bson.D {
	tomb := bson.D{{Key: "_id", Value: id}, {Key: "tombstone", Value: true}, {Key: "status", Value: u.To}, //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
		{Key: "createdAt", Value: u.At}, {Key: "updatedAt", Value: u.At}}
	if u.Reason != "" {
		tomb = append(tomb, bson.E{Key: "reason", Value: u.Reason})
	}
	return tomb
}

// apply undoes the create on the document id, or answers the document as it is when there
// is nothing to undo (ErrNotFound when there is no document).
//
// Without Also, the conditional update is tried first: undoing a create that took effect,
// what a rollback mostly does, then costs one round trip, and the document is read only when
// the update does not apply (already undone, refused, absent). With Also, the document is
// read first, because Also computes from it; the update's condition on From catches a change
// in between.
func (u Undo[D, S]) apply(ctx context.Context, coll *mongo.Collection, id string) (D, bool, error) {
	if u.Also == nil {
		return u.changeFirst(ctx, coll, id)
	}
	d, status, err := u.read(ctx, coll, id)
	if err != nil || status != u.From {
		return d, false, err
	}
	after, changed, err := u.change(ctx, coll, id, u.Also(d))
	if err != nil || changed {
		return after, changed, err
	}
	d, _, err = u.read(ctx, coll, id) // a concurrent change won: answer with its result
	return d, false, err
}

// changeFirst is apply without Also. A document found in From after the update missed was
// inserted in between (by a create racing the compensation), so the update is tried again.
func (u Undo[D, S]) changeFirst(ctx context.Context, coll *mongo.Collection, id string) (D, bool, error) {
	for range 3 {
		after, changed, err := u.change(ctx, coll, id, nil)
		if err != nil || changed {
			return after, changed, err
		}
		d, status, err := u.read(ctx, coll, id)
		if err != nil || status != u.From {
			return d, false, err
		}
	}
	var d D
	return d, false, fmt.Errorf("undo %s %s from %v: the document kept changing", u.Kind, id, u.From)
}

// change moves the document id from From to To in one conditional update, setting also as
// well; changed is false when the document is not in From (or absent).
func (u Undo[D, S]) change(ctx context.Context, coll *mongo.Collection, id string, also bson.D) (after D, changed bool, err error) {
	set := append(make(bson.D, 0, 3+len(also)),
		bson.E{Key: "status", Value: u.To}, bson.E{Key: "reason", Value: u.Reason}, bson.E{Key: "updatedAt", Value: u.At})
	set = append(set, also...)
	err = coll.FindOneAndUpdate(ctx, bson.D{{Key: "_id", Value: id}, {Key: "status", Value: u.From}},
		bson.D{{Key: "$set", Value: set}}, options.FindOneAndUpdate().SetReturnDocument(options.After)).Decode(&after)
	switch {
	case err == nil:
		return after, true, nil
	case errors.Is(err, mongo.ErrNoDocuments):
		return after, false, nil
	default:
		return after, false, fmt.Errorf("undo %s %s from %v: %w", u.Kind, id, u.From, err)
	}
}

// read returns the document id and its status, or ErrNotFound when there is none.
func (u Undo[D, S]) read(ctx context.Context, coll *mongo.Collection, id string) (d D, status S, err error) {
	raw, err := FindByID[bson.Raw](ctx, coll, u.Kind, id)
	if err != nil {
		return d, status, err
	}
	var state struct {
		Status S `bson:"status"`
	}
	if err := errors.Join(bson.Unmarshal(raw, &d), bson.Unmarshal(raw, &state)); err != nil {
		return d, status, fmt.Errorf("decode %s %s: %w", u.Kind, id, err)
	}
	return d, state.Status, nil
}
