package ticketing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Kind is a kind of resource, named as in its URL (/v1/<kind>/{id}).
type Kind string

// The kinds of resource, and the service that keeps each.
const (
	Checks   Kind = "checks"   // venue: an eligibility check; nothing to undo
	Holds    Kind = "holds"    // venue: seats held for a sale; released
	Tickets  Kind = "tickets"  // venue: the ticket issued; never undone
	Points   Kind = "points"   // loyalty: points awarded; revoked
	Charges  Kind = "charges"  // billing: a card charged; refunded
	Messages Kind = "messages" // mailer: an e-mail sent; never undone
)

// The services, as a SagaDefinition's steps name them.
const (
	Venue   = "venue"
	Loyalty = "loyalty"
	Billing = "billing"
	Mailer  = "mailer"
)

// serviceOf returns the service that keeps kind, and the last path segment of its
// compensation (empty: kind is not undone).
func serviceOf(kind Kind) (service, undo string) {
	switch kind {
	case Holds:
		return Venue, "release"
	case Points:
		return Loyalty, "revoke"
	case Charges:
		return Billing, "refund"
	case Messages:
		return Mailer, ""
	default: // Checks, Tickets
		return Venue, ""
	}
}

// State is where a resource is in its state machine (see the package doc).
type State string

// The states of a resource.
const (
	Active    State = "ACTIVE"    // the action took effect
	Refused   State = "REFUSED"   // a business rule refused the action; nothing took effect
	Undone    State = "UNDONE"    // a compensation undid what the action did
	Tombstone State = "TOMBSTONE" // compensated before any action: a later action is refused
)

// Error codes of the services, besides platform's INVALID_ARGUMENT, INVALID_JSON,
// IDEMPOTENCY_KEY_REUSED, ALREADY_COMPENSATED and NOT_FOUND.
const (
	CodeKeyRequired      = "IDEMPOTENCY_KEY_REQUIRED"
	CodeIDTaken          = "ID_TAKEN"
	CodeCustomerBanned   = "CUSTOMER_BANNED"
	CodeUnknownEvent     = "UNKNOWN_EVENT"
	CodeSoldOut          = "SOLD_OUT"
	CodeNoLoyaltyAccount = "NO_LOYALTY_ACCOUNT"
	CodeCardDeclined     = "CARD_DECLINED"
	CodeNotActive        = "NOT_ACTIVE"
	CodeUndeliverable    = "UNDELIVERABLE"
)

// Resource is one resource as the world holds it.
type Resource struct {
	Kind  Kind
	ID    string // the ID in the path
	State State
	// Ref is the identifier the service gave it (holdId, chargeId, ...); empty unless ACTIVE or UNDONE.
	Ref string
	// Code is the business error of a REFUSED resource.
	Code string
	// Key is the Idempotency-Key of the request that created it.
	Key string
	// Spec is the decoded request of its action; nil for a tombstone.
	Spec any
}

// answer is an HTTP answer: a status and a JSON body.
type answer struct {
	status int
	body   []byte
}

// firstAnswer is the answer stored for an Idempotency-Key, with what the request was.
type firstAnswer struct {
	fingerprint string
	answer      answer
}

// World is the state of every service: the resources, the business data they change,
// the idempotency keys each service has seen, and the log of effects.
type World struct {
	mu        sync.Mutex
	cfg       Config
	seatsLeft map[string]int
	charged   map[string]int
	points    map[string]int
	resources map[Kind]map[string]*Resource
	byRef     map[string]*Resource
	keys      map[string]map[string]*firstAnswer // service -> key -> first answer
	replays   map[string]int                     // key -> replays served
	refusals  map[Kind]*platform.APIError
	effects   []string
}

func newWorld(cfg Config) *World {
	w := &World{cfg: cfg, seatsLeft: maps.Clone(cfg.Seats), charged: map[string]int{}, points: map[string]int{},
		resources: map[Kind]map[string]*Resource{}, byRef: map[string]*Resource{}, keys: map[string]map[string]*firstAnswer{},
		replays: map[string]int{}, refusals: map[Kind]*platform.APIError{}}
	for _, kind := range kinds() {
		service, _ := serviceOf(kind)
		w.resources[kind] = map[string]*Resource{}
		w.keys[service] = map[string]*firstAnswer{}
	}
	return w
}

// request is one mutating request to a resource: its action, or its undo.
type request struct {
	service, method, path, key string
	kind                       Kind
	id                         string
	undo                       bool
	body                       []byte
}

// serve answers r atomically: a key seen before replays its first answer (or refuses a
// different request), a new key is handled and its answer stored unless it is transient.
func (w *World) serve(r request) answer {
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.key == "" {
		return refusal(platform.NewError(http.StatusBadRequest, CodeKeyRequired, "the Idempotency-Key header is required"))
	}
	fp := fingerprint(r)
	seen := w.keys[r.service]
	if first, ok := seen[r.key]; ok {
		if first.fingerprint != fp {
			return refusal(platform.NewError(http.StatusUnprocessableEntity, platform.CodeIdempotencyKeyReused,
				fmt.Sprintf("Idempotency-Key %s was used for another request", r.key)))
		}
		w.replays[r.key]++
		return first.answer
	}
	var a answer
	if r.undo {
		a = w.undo(r.kind, r.id)
	} else {
		a = w.act(r)
	}
	if a.status < http.StatusInternalServerError {
		seen[r.key] = &firstAnswer{fingerprint: fp, answer: a}
	}
	return a
}

// act runs an action: it creates the resource ACTIVE, or REFUSED when a business rule
// refuses it. A tombstone refuses it; an ID another request created is not taken again.
func (w *World) act(r request) answer {
	if res, ok := w.resources[r.kind][r.id]; ok {
		if res.State == Tombstone {
			return refusal(platform.NewError(http.StatusConflict, platform.CodeAlreadyCompensated,
				fmt.Sprintf("%s %s was compensated before it was created; it will not be created", r.kind, r.id)))
		}
		return refusal(platform.NewError(http.StatusConflict, CodeIDTaken,
			fmt.Sprintf("%s %s was created by another request (Idempotency-Key %s)", r.kind, r.id, res.Key)))
	}
	spec, e := decodeSpec(r.kind, r.body)
	if e != nil {
		return refusal(e) // an invalid request changes nothing and creates nothing
	}
	res := &Resource{Kind: r.kind, ID: r.id, Key: r.key, Spec: spec}
	view, status, e := w.apply(res)
	if e == nil {
		e = w.refusals[r.kind]
	}
	if e != nil {
		res.State, res.Code, res.Ref = Refused, e.Code, ""
		w.resources[r.kind][r.id] = res
		w.logf(res, "refused %s", e.Code)
		return refusal(e)
	}
	w.commit(res)
	res.State = Active
	w.resources[r.kind][r.id] = res
	w.byRef[res.Ref] = res
	return respond(status, view)
}

// undo runs a compensation: an ACTIVE resource is undone once; an unknown one becomes a
// tombstone; anything else has nothing left to undo. Every case answers 200.
func (w *World) undo(kind Kind, id string) answer {
	res, ok := w.resources[kind][id]
	switch {
	case !ok:
		res = &Resource{Kind: kind, ID: id, State: Tombstone}
		w.resources[kind][id] = res
		w.logf(res, "tombstoned")
	case res.State == Active:
		w.reverse(res)
		res.State = Undone
	default: // REFUSED, UNDONE, TOMBSTONE: nothing to undo
	}
	return respond(http.StatusOK, map[string]any{"id": res.ID, "state": res.State, "ref": res.Ref})
}

// fingerprint identifies a request for its key: method, path and the body as canonical JSON.
func fingerprint(r request) string {
	body := r.body
	var v any
	if json.Unmarshal(r.body, &v) == nil {
		body, _ = json.Marshal(v) //nolint:errchkjson // re-encoding what was just decoded cannot fail
	}
	sum := sha256.Sum256(bytes.Join([][]byte{[]byte(r.method), []byte(r.path), body}, []byte{0}))
	return hex.EncodeToString(sum[:])
}

// refusal is the answer of an API error.
func refusal(e *platform.APIError) answer {
	return answer{status: e.Status, body: platform.ErrorBody(e)}
}

// respond is a success answer.
func respond(status int, v any) answer {
	b, err := json.Marshal(v)
	if err != nil {
		return refusal(platform.NewError(http.StatusInternalServerError, platform.CodeInternal, "response encoding failed"))
	}
	return answer{status: status, body: b}
}

// logf records an effect; the caller holds w.mu.
func (w *World) logf(res *Resource, format string, args ...any) {
	w.effects = append(w.effects, fmt.Sprintf("%s/%s: %s", res.Kind, res.ID, fmt.Sprintf(format, args...)))
}

// refer makes the identifier a service gives a resource: a prefix and a digest of its ID.
func refer(prefix, id string) string {
	sum := sha256.Sum256([]byte(id))
	return prefix + "-" + strings.ToUpper(hex.EncodeToString(sum[:5]))
}

// Resource returns a copy of the resource of kind with id, and whether there is one.
func (w *World) Resource(kind Kind, id string) (Resource, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	res, ok := w.resources[kind][id]
	if !ok {
		return Resource{}, false
	}
	return *res, true
}

// SeatsLeft returns the seats left for event.
func (w *World) SeatsLeft(event string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seatsLeft[event]
}

// Charged returns what customer's card was charged, net of refunds, in cents.
func (w *World) Charged(customer string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.charged[customer]
}

// PointsOf returns the loyalty points customer holds.
func (w *World) PointsOf(customer string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.points[customer]
}

// Effects returns, in order, what took effect for resources whose ID starts with prefix
// (a saga's UID), with the prefix written <uid>: "holds/<uid>: held 2 of concert".
func (w *World) Effects(prefix string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, e := range w.effects {
		_, rest, _ := strings.Cut(e, "/")
		if strings.HasPrefix(rest, prefix) {
			out = append(out, strings.Replace(e, prefix, "<uid>", 1))
		}
	}
	return out
}

// Replays returns how many times the first answer to key was replayed.
func (w *World) Replays(key string) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replays[key]
}

// refuse makes every later action of kind a business failure e, until cleared (nil).
func (w *World) refuse(kind Kind, e *platform.APIError) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if e == nil {
		delete(w.refusals, kind)
		return
	}
	w.refusals[kind] = e
}

// kinds returns every kind.
func kinds() []Kind { return []Kind{Checks, Holds, Tickets, Points, Charges, Messages} }
