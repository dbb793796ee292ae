package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// IdempotencyKeyHeader is the header the controller sends with every call
// ("<uid>/<Step>/<action|compensate>"). It is logged and stored for tracing; identity is
// the client-assigned ID in the path.
const IdempotencyKeyHeader = "Idempotency-Key"

// StoredResponse is the exact first answer to a create, kept so that a replay returns the
// identical status and body.
type StoredResponse struct {
	Status int    `bson:"status"`
	Body   string `bson:"body"`
}

// Write answers the stored response.
func (s StoredResponse) Write(w http.ResponseWriter) { WriteRaw(w, s.Status, []byte(s.Body)) }

// ErrorCode returns the code of a stored error answer ("" for a success).
func (s StoredResponse) ErrorCode() string {
	if s.Status < 400 {
		return ""
	}
	var env errorEnvelope
	if err := json.Unmarshal([]byte(s.Body), &env); err != nil || env.Error == nil {
		return ""
	}
	return env.Error.Code
}

// Respond returns the StoredResponse for status and v.
func Respond(status int, v any) (StoredResponse, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return StoredResponse{}, fmt.Errorf("encode response: %w", err)
	}
	return StoredResponse{Status: status, Body: string(b)}, nil
}

// RespondError returns the StoredResponse for a business failure, which sticks like a success.
func RespondError(e *APIError) StoredResponse {
	return StoredResponse{Status: e.Status, Body: string(ErrorBody(e))}
}

// Idem is embedded (inline) in every document written by an idempotent create.
type Idem struct {
	// RequestHash is RequestHash of the normalized first request.
	RequestHash string `bson:"requestHash,omitempty"`
	// Response is the first answer; nil while a multi-step create is still in progress.
	Response *StoredResponse `bson:"response,omitempty"`
	// Tombstone marks a document written by a compensation that found nothing to undo.
	Tombstone bool `bson:"tombstone,omitempty"`
	// IdempotencyKey is the header of the first call, kept for tracing only.
	IdempotencyKey string `bson:"idempotencyKey,omitempty"`
}

// IsTombstone tells whether the document was written by a compensation that found nothing
// to undo; documents that embed Idem thereby satisfy Compensated.
func (i Idem) IsTombstone() bool { return i.Tombstone }

// Replay resolves a create that found this document already present: a tombstone refuses
// it (409 ALREADY_COMPENSATED), another payload refuses it (409 IDEMPOTENCY_KEY_REUSED),
// the same payload gets the stored response. ok is false while the first call is still in
// progress (no response stored yet).
func (i Idem) Replay(hash string) (resp StoredResponse, ok bool, e *APIError) {
	switch {
	case i.Tombstone:
		return StoredResponse{}, false, NewError(http.StatusConflict, CodeAlreadyCompensated,
			"this ID was already compensated; the action is refused so that nothing leaks")
	case i.RequestHash != hash:
		return StoredResponse{}, false, NewError(http.StatusConflict, CodeIdempotencyKeyReused,
			"this ID was already used with a different request")
	case i.Response == nil:
		return StoredResponse{}, false, nil
	default:
		return *i.Response, true, nil
	}
}

// RequestHash returns a hex SHA-256 of v's JSON encoding. Callers pass the normalized
// request (amounts in minor units, defaults applied), so that equivalent requests such as
// "10.5" and "10.50" hash alike. encoding/json sorts map keys, so the encoding is canonical.
func RequestHash(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("platform: request hash of %T: %v", v, err)) // request types always encode
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// InsertOnce inserts doc, whose _id is id and whose Idem carries hash and first. When a
// document with that _id exists it resolves the replay instead (see Idem.Replay) and
// changes nothing. replayed tells whether the stored answer came from an earlier call.
func InsertOnce(ctx context.Context, coll *mongo.Collection, id string, doc any, hash string, first StoredResponse) (resp StoredResponse, replayed bool, err error) {
	_, err = coll.InsertOne(ctx, doc)
	if err == nil {
		return first, false, nil
	}
	if !mongo.IsDuplicateKeyError(err) {
		return StoredResponse{}, false, fmt.Errorf("insert %s %s: %w", coll.Name(), id, err)
	}
	existing, err := LoadIdem(ctx, coll, id)
	if errors.Is(err, mongo.ErrNoDocuments) { // the duplicate is on another unique index
		return StoredResponse{}, false, fmt.Errorf("insert %s %s: %w", coll.Name(), id, ErrUniqueConflict)
	}
	if err != nil {
		return StoredResponse{}, false, err
	}
	resp, ok, e := existing.Replay(hash)
	if e != nil {
		return StoredResponse{}, false, e
	}
	if !ok { // only inventory has multi-step creates; the others store the answer on insert
		return StoredResponse{}, false, NewError(http.StatusServiceUnavailable, CodeInProgress, "the first request with this ID is still in progress; retry")
	}
	return resp, true, nil
}

// LoadIdem reads the idempotency part of the document id.
func LoadIdem(ctx context.Context, coll *mongo.Collection, id string) (Idem, error) {
	var existing struct {
		Idem `bson:",inline"`
	}
	if err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&existing); err != nil { //nolint:goconst // BSON field name, literal by the house rule in .golangci.yml (goconst ignore-map-keys does not reach bson.D keys)
		return Idem{}, fmt.Errorf("load %s %s: %w", coll.Name(), id, err)
	}
	return existing.Idem, nil
}

// ErrUniqueConflict is returned by InsertOnce when the document collides with another one
// on a unique index other than _id; the service maps it to its own 409.
var ErrUniqueConflict = errors.New("conflicts with another document on a unique index")
