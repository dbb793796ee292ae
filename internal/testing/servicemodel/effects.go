package servicemodel

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Effect is one state change of the model, in the order the changes happened. A business
// failure that is stored and replayed (a declined payment, a failed reservation, a
// rejected shipment, a FAILED delivery) is a change; replays, refusals that store nothing
// (validation, IDEMPOTENCY_KEY_REUSED, ALREADY_COMPENSATED, ORDER_CANCELLED,
// ORDER_CONFIRMED, NOTIFICATION_EXISTS, 404) and compensations with nothing left to undo
// record nothing.
//
// Change is one of, per Service (ID is the resource ID unless noted):
//
//	order         created | confirmed | cancelled | tombstoned
//	inventory     took <productId> <n> | returned <productId> <n>   (ID: the reservation)
//	              reserved | failed <CODE> | released | tombstoned   (after its stock moves)
//	              put stock <n>                                      (ID: the product; a catalog write)
//	payment       captured <amount> | declined <amount> | refunded <amount> | tombstoned
//	shipping      scheduled | rejected | cancelled | tombstoned
//	notification  sent <TYPE> | failed <TYPE>
type Effect struct {
	Service string
	ID      string
	Change  string
}

// Verbs that start Effect.Change.
const (
	Created    = "created"
	Confirmed  = "confirmed"
	Cancelled  = "cancelled"
	Tombstoned = "tombstoned"
	Took       = "took"
	Returned   = "returned"
	Reserved   = "reserved"
	Failed     = "failed"
	Released   = "released"
	Put        = "put"
	Captured   = "captured"
	Declined   = "declined"
	Refunded   = "refunded"
	Scheduled  = "scheduled"
	Rejected   = "rejected"
	Sent       = "sent"
)

// Verb returns the first word of Change ("took" for "took LAP-001 2").
func (e Effect) Verb() string {
	verb, _, _ := strings.Cut(e.Change, " ")
	return verb
}

// StockMove returns the product and the signed stock change of a "took" (negative) or
// "returned" (positive) effect; ok is false for any other effect.
func (e Effect) StockMove() (product string, delta int, ok bool) {
	if e.Service != Inventory {
		return "", 0, false
	}
	f := strings.Fields(e.Change)
	if len(f) != 3 || (f[0] != Took && f[0] != Returned) {
		return "", 0, false
	}
	n, err := strconv.Atoi(f[2])
	if err != nil {
		return "", 0, false
	}
	if f[0] == Took {
		n = -n
	}
	return f[1], n, true
}

// String formats e as "service/id: change".
func (e Effect) String() string { return e.Service + "/" + e.ID + ": " + e.Change }

// Effects returns a copy of the effect log.
func (w *World) Effects() []Effect {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.effects)
}

// recordf appends an effect; the caller holds w.mu.
func (w *World) recordf(service, id, format string, args ...any) {
	w.effects = append(w.effects, Effect{Service: service, ID: id, Change: fmt.Sprintf(format, args...)})
}
