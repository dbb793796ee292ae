package ticketing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Config is the business data the services' rules read.
type Config struct {
	// Seats is the number of seats left per event; an event not listed is unknown.
	Seats map[string]int
	// CreditLimit is the largest charge billing accepts, in cents.
	CreditLimit int
	// Banned customers fail the eligibility check.
	Banned []string
}

// What DefaultConfig holds, for tests to ask for a business failure by its rule.
const (
	Concert        = "concert" // an event with plenty of seats
	Matinee        = "matinee" // an event with MatineeSeats seats
	MatineeSeats   = 2
	CreditLimit    = 50000                 // cents
	BannedCustomer = "cust-banned"         // fails the eligibility check
	GuestPrefix    = "guest-"              // customers without a loyalty account
	BounceDomain   = "@bounce.example.com" // addresses the mailer cannot deliver to
)

// DefaultConfig is the world the specs run in.
func DefaultConfig() Config {
	return Config{Seats: map[string]int{Concert: 1000, Matinee: MatineeSeats}, CreditLimit: CreditLimit, Banned: []string{BannedCustomer}}
}

// The requests' bodies, one per kind.
type (
	checkSpec struct {
		CustomerID string `json:"customerId"`
		EventID    string `json:"eventId"`
	}
	holdSpec struct {
		EventID string `json:"eventId"`
		Seats   int    `json:"seats"`
	}
	pointsSpec struct {
		CustomerID string `json:"customerId"`
		Points     int    `json:"points"`
	}
	chargeSpec struct {
		CustomerID string `json:"customerId"`
		Amount     int    `json:"amount"`
	}
	ticketSpec struct {
		HoldID   string `json:"holdId"`
		ChargeID string `json:"chargeId"`
	}
	messageSpec struct {
		To       string            `json:"to"`
		Template string            `json:"template"`
		Data     map[string]string `json:"data,omitempty"`
	}
)

// decodeSpec reads the body of an action strictly (one JSON object, no unknown field)
// and checks its required fields.
func decodeSpec(kind Kind, body []byte) (any, *platform.APIError) {
	var spec any
	switch kind {
	case Checks:
		spec = &checkSpec{}
	case Holds:
		spec = &holdSpec{}
	case Points:
		spec = &pointsSpec{}
	case Charges:
		spec = &chargeSpec{}
	case Tickets:
		spec = &ticketSpec{}
	case Messages:
		spec = &messageSpec{}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(spec); err != nil {
		return nil, platform.NewError(http.StatusBadRequest, platform.CodeInvalidJSON, "the body is not a "+string(kind)+" request: "+err.Error())
	}
	if dec.More() {
		return nil, platform.NewError(http.StatusBadRequest, platform.CodeInvalidJSON, "the body must hold one JSON object")
	}
	return spec, required(spec)
}

// required names the first required field missing or out of range.
func required(spec any) *platform.APIError {
	missing := func(field string) *platform.APIError { return platform.Invalid(field, "%s is required", field) }
	switch s := spec.(type) {
	case *checkSpec:
		if s.CustomerID == "" {
			return missing("customerId")
		}
	case *holdSpec:
		if s.Seats < 1 {
			return platform.Invalid("seats", "seats must be at least 1, got %d", s.Seats)
		}
	case *pointsSpec:
		if s.CustomerID == "" {
			return missing("customerId")
		}
	case *chargeSpec:
		if s.Amount < 1 {
			return platform.Invalid("amount", "amount must be at least 1 cent, got %d", s.Amount)
		}
	case *ticketSpec:
		if s.HoldID == "" || s.ChargeID == "" {
			return missing("holdId and chargeId")
		}
	case *messageSpec:
		if !strings.Contains(s.To, "@") {
			return platform.Invalid("to", "to must be an e-mail address, got %q", s.To)
		}
	}
	return nil
}

// apply checks the business rules of res's action and returns its answer, without
// changing the world (commit does). It sets res.Ref.
func (w *World) apply(res *Resource) (any, int, *platform.APIError) {
	fail := func(status int, code, format string, args ...any) (any, int, *platform.APIError) {
		return nil, 0, platform.NewError(status, code, fmt.Sprintf(format, args...))
	}
	switch s := res.Spec.(type) {
	case *checkSpec:
		if slices.Contains(w.cfg.Banned, s.CustomerID) {
			return fail(http.StatusForbidden, CodeCustomerBanned, "customer %s may not buy tickets", s.CustomerID)
		}
		res.Ref = refer("CHK", res.ID)
		return map[string]any{"checkId": res.Ref, "verdict": "ELIGIBLE"}, http.StatusOK, nil
	case *holdSpec:
		left, known := w.seatsLeft[s.EventID]
		switch {
		case !known:
			return fail(http.StatusUnprocessableEntity, CodeUnknownEvent, "no event %q", s.EventID)
		case left < s.Seats:
			return fail(http.StatusConflict, CodeSoldOut, "%d seat(s) asked for %s, %d left", s.Seats, s.EventID, left)
		}
		res.Ref = refer("HLD", res.ID)
		return map[string]any{"holdId": res.Ref, "eventId": s.EventID, "seats": s.Seats}, http.StatusCreated, nil
	case *pointsSpec:
		if strings.HasPrefix(s.CustomerID, GuestPrefix) {
			return fail(http.StatusUnprocessableEntity, CodeNoLoyaltyAccount, "customer %s has no loyalty account", s.CustomerID)
		}
		res.Ref = refer("PTS", res.ID)
		return map[string]any{"pointsId": res.Ref, "points": s.Points}, http.StatusCreated, nil
	case *chargeSpec:
		if s.Amount > w.cfg.CreditLimit {
			return fail(http.StatusPaymentRequired, CodeCardDeclined, "a charge of %d is above the limit of %d", s.Amount, w.cfg.CreditLimit)
		}
		res.Ref = refer("CHG", res.ID)
		return map[string]any{"chargeId": res.Ref, "authCode": refer("AUTH", res.Ref), "amount": s.Amount}, http.StatusCreated, nil
	case *ticketSpec:
		for _, ref := range []string{s.HoldID, s.ChargeID} {
			if held, ok := w.byRef[ref]; !ok || held.State != Active {
				return fail(http.StatusConflict, CodeNotActive, "%s is not an active hold or charge", ref)
			}
		}
		res.Ref = refer("TKT", res.ID)
		return map[string]any{"ticketNumber": res.Ref, "holdId": s.HoldID}, http.StatusCreated, nil
	case *messageSpec:
		if strings.HasSuffix(s.To, BounceDomain) {
			return fail(http.StatusUnprocessableEntity, CodeUndeliverable, "%s does not accept mail", s.To)
		}
		res.Ref = refer("MSG", res.ID)
		return map[string]any{"messageId": res.Ref}, http.StatusAccepted, nil
	}
	return fail(http.StatusInternalServerError, platform.CodeInternal, "no rule for %T", res.Spec)
}

// commit makes res's accepted action take effect and logs it.
func (w *World) commit(res *Resource) {
	switch s := res.Spec.(type) {
	case *checkSpec:
		w.logf(res, "eligible %s", s.CustomerID)
	case *holdSpec:
		w.seatsLeft[s.EventID] -= s.Seats
		w.logf(res, "held %d of %s", s.Seats, s.EventID)
	case *pointsSpec:
		w.points[s.CustomerID] += s.Points
		w.logf(res, "awarded %d to %s", s.Points, s.CustomerID)
	case *chargeSpec:
		w.charged[s.CustomerID] += s.Amount
		w.logf(res, "charged %d to %s", s.Amount, s.CustomerID)
	case *ticketSpec:
		w.logf(res, "issued on %s", s.HoldID)
	case *messageSpec:
		keys := strings.Join(slices.Sorted(maps.Keys(s.Data)), ",")
		w.logf(res, "sent %s to %s (%s)", s.Template, s.To, keys)
	}
}

// reverse undoes what commit did for an undoable kind, and logs it.
func (w *World) reverse(res *Resource) {
	switch s := res.Spec.(type) {
	case *holdSpec:
		w.seatsLeft[s.EventID] += s.Seats
		w.logf(res, "released %d to %s", s.Seats, s.EventID)
	case *pointsSpec:
		w.points[s.CustomerID] -= s.Points
		w.logf(res, "revoked %d from %s", s.Points, s.CustomerID)
	case *chargeSpec:
		w.charged[s.CustomerID] -= s.Amount
		w.logf(res, "refunded %d to %s", s.Amount, s.CustomerID)
	}
}
