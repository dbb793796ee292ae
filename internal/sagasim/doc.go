// Package sagasim is a deterministic fault-schedule simulator for the saga controllers.
// It runs the real reconciler, engine and step client against two models:
//
//   - an API server (an in-memory store of OrderSagas, Sagas and SagaDefinitions) whose
//     writes can be lost, applied with their reply lost, or beaten by a concurrent change; and
//   - the five services (internal/testing/servicemodel), which keep the real services' state
//     machines, idempotency rules and tombstones, behind a network that can time out before
//     or after a request takes effect, answer 5xx or 429, and deliver a request again late.
//
// A schedule runs on one kind of saga (Options.Kind): OrderSagas on the OrderSaga
// reconciler, or Sagas of the order SagaDefinition (Options.Definition) on the Saga
// reconciler, with that definition's controller beside it. The schedule is the same
// either way: it generates orders, and a Saga's input is the order's spec; a Saga runs
// with its definition's retry policy and step timeouts. Saga mode adds one fault: a user
// deletes the definition while Sagas run on it, and its controller may act between the
// Saga reconciler's read of the definition and its next write.
//
// A seeded PRNG chooses every fault, every external change (deletion, suspend, retry
// annotation, label), every manager crash and every clock jump, and the run is
// single-threaded, so a seed replays exactly. After the faults stop, every saga must end,
// and the invariants in invariants.go must hold for the sagas and the services together.
// They judge a Saga as the OrderSaga it runs (sagas.go), so that both kinds keep the same
// invariants; Saga mode adds that a deleted definition stays while a Saga runs on it, and
// goes after.
package sagasim
