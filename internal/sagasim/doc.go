// Package sagasim is a deterministic fault-schedule simulator for the OrderSaga
// controller. It runs the real reconciler, engine and step client against two models:
//
//   - an API server (controller-runtime's fake client behind interceptors) whose writes can
//     be lost, applied with their reply lost, or beaten by a concurrent metadata change; and
//   - the five services (internal/testing/servicemodel), which keep the real services' state
//     machines, idempotency rules and tombstones, behind a network that can time out before
//     or after a request takes effect, answer 5xx or 429, and deliver a request again late.
//
// A seeded PRNG chooses every fault, every external change (deletion, suspend, retry
// annotation, label), every manager crash and every clock jump, and the run is
// single-threaded, so a seed replays exactly. After the faults stop, every saga must end,
// and the invariants in invariants.go must hold for the sagas and the services together.
package sagasim
