// Package saga is the OrderSaga engine: it decides, the controller acts.
//
// The whole lifecycle of an order saga lives here, as pure functions of the saga's spec,
// status and the current time:
//
//   - Next looks at a View and returns the one thing to do now: call a step's action, call a
//     compensation, wait, start, roll back, re-drive, finish, or let the object go.
//   - Record writes a Decision and the Outcome of its call into the status: step states,
//     attempts, backoff, outputs, phase, conditions and message.
//
// The plan is six steps (CreateOrder, ReserveInventory, ProcessPayment, ScheduleShipment,
// ConfirmOrder, SendNotification). ConfirmOrder is the pivot: once it succeeded nothing is
// rolled back. A business failure, or a transient failure that outlives retryPolicy,
// rolls back every step that ran or may have run, in reverse order, then sends a
// best-effort order-cancelled notice. Compensations retry with capped backoff and, after
// twice retryPolicy.maxAttempts, leave the saga Failed until the retry annotation
// re-drives it.
//
// A status write can always be lost, so the engine never lets a lost write turn a saga
// around: it asks the controller to store the pivot's attempt before the pivot is called,
// and the rollback before the first compensation (KindCheckpoint), judging from
// View.Stored what the API server already holds.
//
// The package imports no Kubernetes client and no HTTP (a test checks this): every
// transition is table-tested without a cluster.
package saga
