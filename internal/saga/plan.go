package saga

import (
	"fmt"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// PlanLength is the number of steps of the plan.
const PlanLength = 6

// Plan returns the saga's steps in the order they run. Compensations run in reverse.
func Plan() [PlanLength]v1.StepName {
	return [...]v1.StepName{
		v1.StepCreateOrder,
		v1.StepReserveInventory,
		v1.StepProcessPayment,
		v1.StepScheduleShipment,
		v1.StepConfirmOrder,
		v1.StepSendNotification,
	}
}

// NotifyCancellation names the order-cancelled notice sent after a rollback. It is not a
// step of the plan: its record is status.cancellationNotice.
const NotifyCancellation v1.StepName = "NotifyCancellation"

// Pivot is the step after which the saga never rolls back.
const Pivot = v1.StepConfirmOrder

// Compensable reports whether a step has a compensation: every step before the pivot.
func Compensable(step v1.StepName) bool {
	return indexOf(step) < indexOf(Pivot)
}

func indexOf(step v1.StepName) int {
	for i, s := range Plan() {
		if s == step {
			return i
		}
	}
	return PlanLength
}

// Direction says whether a call does a step or undoes it.
type Direction string

// Directions of a call.
const (
	Action     Direction = "action"
	Compensate Direction = "compensate"
)

// Key is the idempotency key of a call: the same saga, step and direction always give
// the same key, so a repeated call (restart, lost status write, retry after a timeout)
// is answered with the first result and changes nothing.
func Key(uid string, step v1.StepName, dir Direction) string {
	return fmt.Sprintf("%s/%s/%s", uid, step, dir)
}
