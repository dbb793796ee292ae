package fakeservices

import (
	"fmt"
	"slices"
	"strings"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// resource is what the calls of one step address: a service, the resource ID the step
// client derives from the saga's UID, and the effect verbs (servicemodel.Effect) by which
// an action and a compensation take effect on it. Stock moves ("took", "returned") are
// left out: they come with a reservation's "reserved" and "released", one per item.
type resource struct {
	service    string
	id         func(uid string) string
	action     []string
	compensate []string
}

// resources returns the steps' resources, by step name: a new map each time, so that no
// caller can change the table for another.
func resources() map[v1.StepName]resource {
	return map[v1.StepName]resource{
		v1.StepCreateOrder: {servicemodel.Order, ordersaga.OrderID,
			[]string{servicemodel.Created}, []string{servicemodel.Cancelled, servicemodel.Tombstoned}},
		v1.StepReserveInventory: {servicemodel.Inventory, ordersaga.ReservationID,
			[]string{servicemodel.Reserved, servicemodel.Failed}, []string{servicemodel.Released, servicemodel.Tombstoned}},
		v1.StepProcessPayment: {servicemodel.Payment, ordersaga.PaymentID,
			[]string{servicemodel.Captured, servicemodel.Declined}, []string{servicemodel.Refunded, servicemodel.Tombstoned}},
		v1.StepScheduleShipment: {servicemodel.Shipping, ordersaga.ShipmentID,
			[]string{servicemodel.Scheduled, servicemodel.Rejected}, []string{servicemodel.Cancelled, servicemodel.Tombstoned}},
		v1.StepConfirmOrder: {servicemodel.Order, ordersaga.OrderID,
			[]string{servicemodel.Confirmed}, nil},
		v1.StepSendNotification: {servicemodel.Notification, ordersaga.ConfirmationNotificationID,
			[]string{servicemodel.Sent, servicemodel.Failed}, nil},
		ordersaga.NotifyCancellation: {servicemodel.Notification, ordersaga.CancellationNotificationID,
			[]string{servicemodel.Sent, servicemodel.Failed}, nil},
	}
}

// Effects returns how many times the call with this idempotency key took effect, as the
// models' effect log tells it: the effects on the resource the call addresses whose verb
// is one of the call's (see resources). A business failure that the service stores (a
// declined payment, a failed reservation, a rejected shipment, a FAILED delivery) counts:
// it is the call's first answer, replayed ever after. Idempotency holds when every count
// is at most 1. It panics on a key that names no step and direction of the saga, so that
// a typo cannot pass for "no effect".
func (s *Services) Effects(key string) int {
	uid, step, dir, ok := splitKey(key)
	res, known := resources()[v1.StepName(step)]
	verbs := res.action
	if dir == string(saga.Compensate) {
		verbs = res.compensate
	}
	if !ok || !known || verbs == nil || (dir != string(saga.Action) && dir != string(saga.Compensate)) {
		panic(fmt.Sprintf("fakeservices: %q is not the key of a call of the saga", key))
	}
	n := 0
	for _, e := range s.world.Effects() {
		if e.Service == res.service && e.ID == res.id(uid) && slices.Contains(verbs, e.Verb()) {
			n++
		}
	}
	return n
}

// EffectsOf returns the models' effects on the resources of the saga with this UID, in
// the order they took effect, as "service/id: change" with the UID replaced by "<uid>"
// ("payment/pay-<uid>: refunded 999.99"), so that a test can compare them with a literal.
func (s *Services) EffectsOf(uid string) []string {
	ids := map[string]bool{}
	for _, res := range resources() {
		ids[res.id(uid)] = true
	}
	var out []string
	for _, e := range s.world.Effects() {
		if ids[e.ID] {
			out = append(out, strings.ReplaceAll(e.String(), uid, "<uid>"))
		}
	}
	return out
}

func splitKey(key string) (uid, step, dir string, ok bool) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 || parts[0] == "" {
		return "", "", "", false
	}
	return parts[0], parts[1], parts[2], true
}
