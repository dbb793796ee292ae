package saga

import (
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Kind is what a Decision asks the controller to do.
type Kind string

// Decision kinds. Start, Rollback, Redrive and Finish only change status: the controller
// records them and asks again at once. Call makes one call. Checkpoint records a call
// that is about to be made and ends the reconcile once that record is stored. Wait, Hold,
// Done, Release and Delete end the reconcile.
const (
	KindStart Kind = "Start" // Pending → Running: stamp startedAt and list the steps
	KindCall  Kind = "Call"  // make Decision.Call, then record its Outcome
	// KindCheckpoint: store the status before Decision.Call is made; a later reconcile,
	// which reads the stored status back, makes it. Two calls need this, because a status
	// write can always be lost (a conflict with any other writer, a deletion mid-batch, a
	// crash), and a lost write must never make the saga change direction:
	//   - the pivot of a plan without a fence: its attempt is recorded before it runs, or
	//     a status that lost the pivot's success would roll back what the pivot made
	//     final (a plan with a fence learns it from the fence instead: Plan.Fence);
	//   - the first compensation: the rollback is recorded before anything is undone, or
	//     a status that lost the rollback would run forward again over steps already
	//     undone, whose actions replay their first answers.
	KindCheckpoint Kind = "Checkpoint"
	KindWait       Kind = "Wait"     // nothing to do before Decision.Wait has passed
	KindRollback   Kind = "Rollback" // deletion of an in-flight saga: compensate what may have run
	KindRedrive    Kind = "Redrive"  // the retry annotation re-drives a Failed saga
	KindFinish     Kind = "Finish"   // set the terminal Decision.Phase
	KindHold       Kind = "Hold"     // suspended: make no call until spec.suspend is false
	KindDone       Kind = "Done"     // terminal; nothing to do until something changes
	KindRelease    Kind = "Release"  // deleting and nothing left to undo: remove the finalizer
	KindDelete     Kind = "Delete"   // ttlSecondsAfterFinished has passed: delete the saga
	// KindAbandon: a person abandoned a Failed saga being deleted: record what is left
	// undone (Decision.LeftUndone), then remove the finalizer.
	KindAbandon Kind = "Abandon"
	// KindIgnoreAbandon: the abandon annotation was set on a saga it does not apply to:
	// record the value as handled, say so in an Event (Decision.Message), and go on.
	KindIgnoreAbandon Kind = "IgnoreAbandon"
)

// Decision is the one thing to do now, and the status change that goes with it.
type Decision struct {
	Kind Kind
	// Call is the call to make, for KindCall, or about to be made, for KindCheckpoint.
	Call *Call
	// Wait is how long to wait before asking again, for KindWait and KindDone (a TTL).
	Wait time.Duration
	// Phase is the terminal phase, for KindFinish.
	Phase v1.Phase
	// Reason and Message explain a Finish or Rollback (a condition reason constant); for
	// KindAbandon, Message is a warning that follows the list of what is left undone.
	Reason  string
	Message string
	// RetryToken is the annotation value being handled, for KindRedrive and the abandon kinds.
	RetryToken string
	// LeftUndone is what an abandoned saga leaves undone, for KindAbandon.
	LeftUndone []v1.UndoneStep
	// Suspended mirrors spec.suspend (false while deleting) into the Suspended condition.
	Suspended bool
}

// Continue reports whether the controller should record the decision and ask again
// without making a call: at once, or for a Checkpoint once the record is stored. A
// driver whose status is always stored (View.Stored nil: a test, a dry run) asks again
// at once.
func (d Decision) Continue() bool {
	switch d.Kind {
	case KindStart, KindRollback, KindRedrive, KindFinish, KindCheckpoint, KindIgnoreAbandon:
		return true
	default: // a call is recorded with its outcome; the others end the reconcile
		return false
	}
}

// Call is one HTTP call to make: a step's action, its compensation, or the call after a
// rollback.
type Call struct {
	Step      v1.StepName
	Direction Direction
	// Attempt counts from 1 for each step and direction.
	Attempt int32
	// Key is the idempotency key (see Key).
	Key string
	// Final is true when a transient failure of this call gives up (the last attempt).
	Final bool
	// RetryAfter is the wait before the next attempt if this call fails transiently.
	RetryAfter time.Duration
}

// OutcomeKind classifies what a call did.
type OutcomeKind string

// Outcome kinds. A transient failure (timeout, connection error, 5xx, 408, 429) may or
// may not have taken effect; a business failure (other 4xx) did not and is not retried.
const (
	Succeeded       OutcomeKind = "Succeeded"
	BusinessFailure OutcomeKind = "BusinessFailure"
	Transient       OutcomeKind = "Transient"
)

// Outcome is the result of a call, as the step client classified it.
type Outcome struct {
	Kind OutcomeKind
	// Code is the service's error code or the client's (TIMEOUT, HTTP_503).
	Code    string
	Message string
	// Outputs are what the step keeps of a successful answer (the identifiers the service
	// assigned). Record keeps at most v1.MaxOutputs of them, each bounded in length.
	Outputs map[string]string
	// Took is how long the call took; Record dates a first attempt's start back by it.
	Took time.Duration
}

// Failure renders an outcome's failure as "CODE: message" for status. (Not Error: an
// Outcome is a call's result, success included, not an error value.)
func (o Outcome) Failure() string {
	if o.Message == "" {
		return o.Code
	}
	return o.Code + ": " + o.Message
}
