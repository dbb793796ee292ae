package saga

import (
	"fmt"
	"maps"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// The scenario tests drive the engine the way the controller does, without a cluster:
// ask Next, make the call against a script, Record the outcome, advance a fake clock.

// callKey names the n-th call (from 1) of one step in one direction. n counts every call
// of that step and direction, also across a redrive (where the attempt starts again at 1).
type callKey struct {
	Step v1.StepName
	Dir  Direction
	N    int32
}

// script says how the services answer. A call it does not name succeeds.
type script struct {
	outcomes map[callKey]Outcome
	// redrives is how often the driver sets a new retry annotation on a Failed saga.
	redrives int
	// deleteAfterCalls, when > 0, marks the saga deleted once that many calls were made.
	deleteAfterCalls int
}

// made is one call the driver made.
type made struct {
	Step    v1.StepName
	Dir     Direction
	Attempt int32
}

func (m made) String() string { return fmt.Sprintf("%s/%s#%d", m.Step, m.Dir, m.Attempt) }

// runResult is what a run did.
type runResult struct {
	calls []made
	// waits are the Wait decisions, in order.
	waits []time.Duration
	// end is the decision that ended the run; ended is false when the iteration bound hit.
	end   Decision
	ended bool
	view  View
	// errs are contract violations the driver noticed on the way.
	errs []string
}

// callDuration is how long the driver's fake clock advances for each call or status write.
const callDuration = 10 * time.Millisecond

// maxIterations bounds every run: a saga that has not ended by then loops.
const maxIterations = 2000

// run drives v against s until the engine says there is nothing left to do.
func run(v View, s script) runResult {
	return runObserved(v, s, nil)
}

// runObserved is run with observe called after every Record.
func runObserved(v View, s script, observe func(View, Decision, Outcome)) runResult {
	var r runResult
	now := t0
	n := map[callKey]int32{}
	redrives := 0
	for range maxIterations {
		if s.deleteAfterCalls > 0 && len(r.calls) >= s.deleteAfterCalls {
			v.Deleting = true
		}
		d := Next(v, now)
		var out Outcome
		switch d.Kind {
		case KindCall:
			c := *d.Call
			if want := Key(v.UID, c.Step, c.Direction); c.Key != want {
				r.errs = append(r.errs, fmt.Sprintf("call %s has key %q, want %q", c.Step, c.Key, want))
			}
			k := callKey{Step: c.Step, Dir: c.Direction}
			n[k]++
			k.N = n[k]
			out = s.answer(v.Plan, k, v.UID)
			r.calls = append(r.calls, made{Step: c.Step, Dir: c.Direction, Attempt: c.Attempt})
		case KindWait:
			r.waits = append(r.waits, d.Wait)
		case KindDone:
			if v.Status.Phase == v1.PhaseFailed && redrives < s.redrives {
				redrives++
				v.RetryRequest = fmt.Sprintf("redrive-%d", redrives)
				continue
			}
			r.end, r.ended, r.view = d, true, v
			return r
		case KindHold, KindRelease, KindDelete:
			r.end, r.ended, r.view = d, true, v
			return r
		default: // status-only decisions: recorded below, then the engine is asked again
		}
		Record(v.Plan, &v.Status, d, out, now)
		if observe != nil {
			observe(v, d, out)
		}
		now = now.Add(d.Wait + callDuration)
	}
	r.view = v
	return r
}

// answer is the scripted outcome of call k of a saga that runs p; a success of a step
// that names a resource output carries that output (the orderId a customer's notice
// requires, say), and a few more as a service's answer would.
func (s script) answer(p *Plan, k callKey, uid string) Outcome {
	if out, ok := s.outcomes[k]; ok {
		return out
	}
	step, isStep := p.Step(k.Step)
	if k.Dir == Compensate || !isStep || step.ResourceOutput == "" {
		return Outcome{Kind: Succeeded}
	}
	return Outcome{Kind: Succeeded, Outputs: map[string]string{
		step.ResourceOutput: string(k.Step) + "-" + uid,
		"answeredBy":        string(k.Step),
		"unset":             "", // an empty value is not kept
	}}
}

// forward returns the first calls of the steps of the order plan up to and including last.
func forward(last v1.StepName) []made { return forwardOn(orderPlan(), last) }

// forwardOn returns the first calls of the steps of p up to and including last.
func forwardOn(p *Plan, last v1.StepName) []made {
	var out []made
	for _, name := range namesOf(p) {
		out = append(out, made{Step: name, Dir: Action, Attempt: 1})
		if name == last {
			break
		}
	}
	return out
}

// undo returns the first compensation calls of the order plan from step from down to
// CreateOrder.
func undo(from v1.StepName) []made { return undoOn(orderPlan(), from) }

// undoOn returns the first compensation calls of the compensable steps of p, from step
// from down to the first step.
func undoOn(p *Plan, from v1.StepName) []made {
	var out []made
	for i := p.index(from); i >= 0; i-- {
		if p.Steps[i].Compensable {
			out = append(out, made{Step: p.Steps[i].Name, Dir: Compensate, Attempt: 1})
		}
	}
	return out
}

func concat(parts ...[]made) []made {
	var out []made
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func transientAt(step v1.StepName, dir Direction, calls ...int32) map[callKey]Outcome {
	m := map[callKey]Outcome{}
	for _, n := range calls {
		m[callKey{step, dir, n}] = Outcome{Kind: Transient, Code: "HTTP_503", Message: "Service Unavailable"}
	}
	return m
}

// outcome of a finished run, for comparison.
type ending struct {
	Kind      Kind
	Phase     v1.Phase
	Succeeded string // status/reason of the Succeeded condition
	Failure   string // reason of status.failure
}

func endingOf(r runResult) ending {
	e := ending{Kind: r.end.Kind, Phase: r.view.Status.Phase}
	for _, c := range r.view.Status.Conditions {
		if c.Type == v1.ConditionSucceeded {
			e.Succeeded = string(c.Status) + "/" + c.Reason
		}
	}
	if r.view.Status.Failure != nil {
		e.Failure = r.view.Status.Failure.Reason
	}
	return e
}

func TestScenarios(t *testing.T) {
	type testCase struct {
		reason    string
		view      View
		script    script
		wantCalls []made
		want      ending
	}
	notify := []made{{Step: notifyCancellation, Dir: Action, Attempt: 1}}
	cases := map[string]testCase{
		"HappyPath": {
			reason:    "Every step succeeds: exactly the six actions, once each, in plan order.",
			view:      view(),
			wantCalls: forward(v1.StepSendNotification),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"TransientTwiceThenSuccess": {
			reason: "Two transient failures are retried after their backoff; the third attempt succeeds.",
			view:   view(),
			script: script{outcomes: transientAt(v1.StepReserveInventory, Action, 1, 2)},
			wantCalls: concat(forward(v1.StepReserveInventory),
				[]made{{v1.StepReserveInventory, Action, 2}, {v1.StepReserveInventory, Action, 3}},
				forward(v1.StepSendNotification)[2:]),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"RetriesExhaustedRollsBack": {
			reason: "maxAttempts (3) transient failures of ProcessPayment roll back every step before the pivot " +
				"(ProcessPayment may have charged, and a lost write may hide a shipment scheduled after it), then notify.",
			view:   view(),
			script: script{outcomes: transientAt(v1.StepProcessPayment, Action, 1, 2, 3)},
			wantCalls: concat(forward(v1.StepProcessPayment),
				[]made{{v1.StepProcessPayment, Action, 2}, {v1.StepProcessPayment, Action, 3}},
				undo(v1.StepScheduleShipment), notify),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/RetriesExhausted", Failure: v1.ReasonRetriesExhausted},
		},
		"PivotRetriedPastMaxAttempts": {
			reason: "ConfirmOrder failing transiently 7 times (maxAttempts 3) is still retried, and the saga completes.",
			view:   view(),
			script: script{outcomes: transientAt(v1.StepConfirmOrder, Action, 1, 2, 3, 4, 5, 6, 7)},
			wantCalls: concat(forward(v1.StepConfirmOrder), []made{
				{v1.StepConfirmOrder, Action, 2}, {v1.StepConfirmOrder, Action, 3}, {v1.StepConfirmOrder, Action, 4},
				{v1.StepConfirmOrder, Action, 5}, {v1.StepConfirmOrder, Action, 6}, {v1.StepConfirmOrder, Action, 7},
				{v1.StepConfirmOrder, Action, 8}, {v1.StepSendNotification, Action, 1}}),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"NotificationFailureCompletes": {
			reason:    "A confirmation notice refused: the order stands, nothing is compensated.",
			view:      view(),
			script:    script{outcomes: map[callKey]Outcome{{v1.StepSendNotification, Action, 1}: {Kind: BusinessFailure, Code: "NOTIFICATION_FAILED"}}},
			wantCalls: forward(v1.StepSendNotification),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompleted, Succeeded: "True/NotificationFailed"},
		},
		"CompensationExhaustedThenRedriven": {
			reason: "The refund fails transiently 2×maxAttempts times: the saga is Failed; the retry annotation re-drives it, " +
				"the refund succeeds, the rest is undone in reverse and the saga ends Compensated.",
			view: view(),
			script: script{
				outcomes: mergeOutcomes(
					map[callKey]Outcome{{v1.StepScheduleShipment, Action, 1}: {Kind: BusinessFailure, Code: "UNSUPPORTED_DESTINATION"}},
					transientAt(v1.StepProcessPayment, Compensate, 1, 2, 3, 4, 5, 6)),
				redrives: 1,
			},
			wantCalls: concat(forward(v1.StepScheduleShipment), []made{
				{v1.StepScheduleShipment, Compensate, 1},
				{v1.StepProcessPayment, Compensate, 1}, {v1.StepProcessPayment, Compensate, 2}, {v1.StepProcessPayment, Compensate, 3},
				{v1.StepProcessPayment, Compensate, 4}, {v1.StepProcessPayment, Compensate, 5}, {v1.StepProcessPayment, Compensate, 6},
				// Failed; re-driven: attempts count again from 1.
				{v1.StepProcessPayment, Compensate, 1},
			}, undo(v1.StepReserveInventory), notify),
			want: ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/UnsupportedDestination", Failure: v1.ReasonUnsupportedDestination},
		},
		"CompensationExhaustedStaysFailed": {
			reason: "Without the annotation a Failed saga stays Failed: no further call.",
			view:   view(),
			script: script{outcomes: mergeOutcomes(
				map[callKey]Outcome{{v1.StepReserveInventory, Action, 1}: {Kind: BusinessFailure, Code: "OUT_OF_STOCK"}},
				map[callKey]Outcome{{v1.StepReserveInventory, Compensate, 1}: {Kind: BusinessFailure, Code: "UNKNOWN_RESERVATION"}})},
			wantCalls: concat(forward(v1.StepReserveInventory), []made{{v1.StepReserveInventory, Compensate, 1}}),
			want:      ending{Kind: KindDone, Phase: v1.PhaseFailed, Succeeded: "False/CompensationRejected", Failure: v1.ReasonOutOfStock},
		},
		"DeletedMidFlightUndoesEverythingBeforePivot": {
			reason: "Deleted after two calls: all four steps before the pivot are compensated in reverse, the order " +
				"cancellation is announced, and the finalizer is released.",
			view:      view(),
			script:    script{deleteAfterCalls: 2},
			wantCalls: concat(forward(v1.StepReserveInventory), undo(v1.StepScheduleShipment), notify),
			want:      ending{Kind: KindRelease, Phase: v1.PhaseCompensated, Succeeded: "False/Deleted", Failure: v1.ReasonDeleted},
		},
		"DeletedAfterPivotCompletes": {
			reason:    "Deleted after ConfirmOrder: the saga completes forward, then releases.",
			view:      view(),
			script:    script{deleteAfterCalls: 5},
			wantCalls: forward(v1.StepSendNotification),
			want:      ending{Kind: KindRelease, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"DeletedDuringPivotRetryCompletes": {
			reason: "Deleted while ConfirmOrder is being retried after a timeout (it may have confirmed the order): " +
				"the pivot is retried until it answers, then the saga completes and releases; nothing is undone.",
			view:   view(),
			script: script{outcomes: transientAt(v1.StepConfirmOrder, Action, 1, 2), deleteAfterCalls: 5},
			wantCalls: concat(forward(v1.StepConfirmOrder),
				[]made{{v1.StepConfirmOrder, Action, 2}, {v1.StepConfirmOrder, Action, 3}, {v1.StepSendNotification, Action, 1}}),
			want: ending{Kind: KindRelease, Phase: v1.PhaseCompleted, Succeeded: "True/Completed"},
		},
		"SuspendedMakesNoCall": {
			reason: "A suspended saga makes no call.",
			view:   view(suspended()),
			want:   ending{Kind: KindHold},
		},
	}
	codes := map[v1.StepName]struct{ code, reason string }{
		v1.StepCreateOrder:      {"INVALID_CUSTOMER", v1.ReasonStepRejected},
		v1.StepReserveInventory: {"OUT_OF_STOCK", v1.ReasonOutOfStock},
		v1.StepProcessPayment:   {"PAYMENT_DECLINED", v1.ReasonPaymentDeclined},
		v1.StepScheduleShipment: {"UNSUPPORTED_DESTINATION", v1.ReasonUnsupportedDestination},
	}
	for step, f := range codes {
		tc := testCase{
			reason: fmt.Sprintf("%s refused at %s: the steps up to and including it are undone in exact reverse order, "+
				"then the order-cancelled notice (only when an order was created), then Compensated.", f.code, step),
			view:      view(),
			script:    script{outcomes: map[callKey]Outcome{{step, Action, 1}: {Kind: BusinessFailure, Code: f.code, Message: "refused"}}},
			wantCalls: concat(forward(step), undo(step), notify),
			want:      ending{Kind: KindDone, Phase: v1.PhaseCompensated, Succeeded: "False/" + f.reason, Failure: f.reason},
		}
		if step == v1.StepCreateOrder { // no orderId: nobody to notify
			tc.wantCalls = concat(forward(step), undo(step))
		}
		cases["BusinessFailureAt"+string(step)] = tc
	}

	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := run(tc.view, tc.script)
			if !r.ended {
				t.Fatalf("\nReason: %s\nthe run did not end within %d iterations; calls: %v", tc.reason, maxIterations, r.calls)
			}
			for _, e := range r.errs {
				t.Errorf("\nReason: %s\n%s", tc.reason, e)
			}
			if diff := cmp.Diff(tc.wantCalls, r.calls); diff != "" {
				t.Errorf("\nReason: %s\ncalls: -want, +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.want, endingOf(r)); diff != "" {
				t.Errorf("\nReason: %s\nending: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestScenarioBackoff checks that the waits between retries are the RetryAfter of the
// failed calls (less the time the recording took): 1s·2^(n-1) less at most 20% jitter,
// capped at maxBackoff.
func TestScenarioBackoff(t *testing.T) {
	p := Policy{MaxAttempts: 6, InitialBackoff: time.Second, MaxBackoff: 4 * time.Second}
	r := run(view(withPolicy(p)), script{outcomes: transientAt(v1.StepCreateOrder, Action, 1, 2, 3, 4, 5)})
	var want []time.Duration
	for attempt := int32(1); attempt <= 5; attempt++ {
		want = append(want, Backoff(p.InitialBackoff, p.MaxBackoff, attempt, Key(testUID, v1.StepCreateOrder, Action))-callDuration)
	}
	if diff := cmp.Diff(want, r.waits); diff != "" {
		t.Errorf("waits: -want, +got:\n%s", diff)
	}
	for i, w := range r.waits {
		w += callDuration
		nominal := min(p.InitialBackoff<<i, p.MaxBackoff)
		if w > nominal || w < nominal*8/10 {
			t.Errorf("wait after attempt %d = %s, want within [80%%, 100%%] of %s", i+1, w, nominal)
		}
	}
}

func mergeOutcomes(ms ...map[callKey]Outcome) map[callKey]Outcome {
	out := map[callKey]Outcome{}
	for _, m := range ms {
		maps.Copy(out, m)
	}
	return out
}
