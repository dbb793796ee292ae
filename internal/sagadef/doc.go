// Package sagadef turns a SagaDefinition into something the engine and the controller can
// run: Compile checks the definition's input schema and compiles every CEL expression
// against it, once; the Program it returns gives the engine its saga.Plan, checks a Saga's
// input, builds each call's request and classifies each answer.
//
// Expressions see these variables (what a variable does not list fails to compile, so a
// typo, a later step or an undeclared output is found when the definition is created, not
// when a saga reaches the step):
//
//   - saga: {uid, name, namespace}, strings.
//   - input: the Saga's spec.input, typed by the definition's input schema, with its
//     defaults applied. Property names read as in a CRD's validation rules (x-y is
//     input.x__dash__y), and fields of x-kubernetes-preserve-unknown-fields are not read.
//   - steps: the steps that run before the current one, each {outputs: {<name>: string}}
//     with the output names that step declares. A compensation also sees its own step;
//     onRollback sees every step.
//   - failure: {step, code, message}, strings, why the saga rolls back (code is
//     status.failure.reason). Only in a compensation and in onRollback.
//   - response: {status: int, body: dyn}, the answer (body is its JSON, or null when it is
//     empty or not JSON). Only in outputs, businessFailure and transient.
//
// An output exists once its step has succeeded with it: reading it earlier is an evaluation
// error, and has(steps.X.outputs.y) tests for it.
//
// Every evaluation is bounded by the cost limit the API server gives one CRD validation
// rule.
package sagadef
