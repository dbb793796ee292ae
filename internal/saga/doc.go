// Package saga is the saga engine: it decides, the controller acts. It knows no business
// domain: what it runs is a Plan, which is data.
//
// The whole lifecycle of a saga lives here, as pure functions of its plan, spec, status
// and the current time:
//
//   - Next looks at a View and returns the one thing to do now: call a step's action, call a
//     compensation, wait, start, roll back, re-drive, finish, or let the object go.
//   - Record writes a Decision and the Outcome of its call into the status: step states,
//     attempts, backoff, outputs, phase, conditions and message.
//
// A plan lists steps in the order they run. A step may be compensable (it has an undo),
// forward-only (its failure does not roll the saga back), or the pivot: once the pivot may
// have run, nothing is rolled back, and every later step only goes forward. A business
// failure, or a transient failure that outlives a step's retry policy, rolls back every
// compensable step that ran or may have run, in reverse order (after the plan's fence,
// when it has one: see Fence), then makes the plan's best-effort after-rollback call.
// Compensations retry with capped backoff and, after CompensationAttemptsFactor times the
// step's attempts, leave the saga Failed until the retry annotation re-drives it.
//
// Plans are built elsewhere: from code for the built-in kind, from each SagaDefinition
// (internal/sagadef) for the generic one.
//
// A status write can always be lost, so the engine never lets a lost write turn a saga
// around: it asks the controller to store the rollback before the first compensation, and,
// for a plan without a fence, the pivot's attempt before the pivot is called
// (KindCheckpoint), judging from View.Stored what the API server already holds. A plan
// with a fence (Plan.Fence) runs the fence first in every rollback instead, and goes
// forward when the service refuses it because the pivot ran (ADR 0011).
//
// The package imports no Kubernetes client, no HTTP and no plan (a test checks this):
// every transition is table-tested without a cluster.
package saga
