// Package ticketing is a small TEST SERVICE for the generic Saga API's envtest specs: the
// services a ticket sale calls, a business process that is not the order saga, served
// in-process over real HTTP (one loopback server per service) so that the real step
// client talks to them as it would to a deployment.
//
// Four services keep six kinds of resource (see Kind): venue (eligibility checks, seat
// holds, tickets), loyalty (points), billing (card charges) and mailer (messages). Each
// resource goes through one explicit state machine (see State and World):
//
//	(none)  --action accepted-->  ACTIVE   --compensation-->  UNDONE
//	(none)  --action refused--->  REFUSED  --compensation-->  REFUSED (nothing to undo)
//	(none)  --compensation----->  TOMBSTONE: a later action is refused 409 ALREADY_COMPENSATED
//
// Every mutating request needs an Idempotency-Key. A key's first answer is stored and
// replayed for the same request; the same key with another request (body, path or method)
// is refused 422 IDEMPOTENCY_KEY_REUSED. Transient answers (5xx) are never stored.
// Business failures follow the services' rules (Config: seats per event, the credit
// limit, banned customers, guests without a loyalty account, addresses that bounce) and
// are answered 4xx with {"error":{"code","message","field"}}, as the real services do.
//
// A test adds what a network and an overloaded pod add with Fail (faults.go): a 503
// without effect, an answer lost after its effect (504), or a call held until Heal; and
// Refuse makes a kind's actions fail with a business error through the same state
// machine. Calls lists every request received; Effects lists what took effect.
package ticketing
