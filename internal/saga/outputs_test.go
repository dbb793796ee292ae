package saga

import (
	"fmt"
	"maps"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestMergeOutputs checks how a step keeps the outputs of its answers: bounded in number
// and length, whatever a service answers, and never erased by a later empty value.
func TestMergeOutputs(t *testing.T) {
	names := func(prefix string, n int) map[string]string {
		out := map[string]string{}
		for i := range n {
			out[fmt.Sprintf("%s%02d", prefix, i)] = "v"
		}
		return out
	}
	cases := map[string]struct {
		reason string
		kept   map[string]string
		out    map[string]string
		want   map[string]string
	}{
		"NothingKeepsNil": {reason: "No outputs: no map, so status has no empty outputs."},
		"OnlyEmptyValuesKeepNil": {reason: "Empty values are not kept.",
			out: map[string]string{"seatId": ""}},
		"NewValues": {reason: "An answer's values are kept.",
			out: map[string]string{"seatId": "s-1", "row": "K"}, want: map[string]string{"seatId": "s-1", "row": "K"}},
		"EmptyValueDoesNotErase": {reason: "A later answer without the identifier leaves it.",
			kept: map[string]string{"seatId": "s-1"}, out: map[string]string{"seatId": "", "row": "K"}, want: map[string]string{"seatId": "s-1", "row": "K"}},
		"LaterValueReplaces": {reason: "A later non-empty value is the service's latest word.",
			kept: map[string]string{"seatId": "s-1"}, out: map[string]string{"seatId": "s-2"}, want: map[string]string{"seatId": "s-2"}},
		"AtMostSixteenNames": {reason: "Of 20 new names, the first 16 in name order are kept.",
			out: names("o", 20), want: names("o", v1.MaxOutputs)},
		"FullStillUpdates": {reason: "With 16 names kept, a kept name is still updated and a new one is left out.",
			kept: names("o", v1.MaxOutputs), out: map[string]string{"o03": "w", "zz": "new"},
			want: func() map[string]string { m := names("o", v1.MaxOutputs); m["o03"] = "w"; return m }()},
		"FullCountsWhatIsKept": {reason: "Names already kept take their places first: 10 kept, 10 new, 6 of them fit.",
			kept: names("a", 10), out: names("b", 10),
			want: func() map[string]string { m := names("a", 10); maps.Copy(m, names("b", 6)); return m }()},
		"LongValueCut": {reason: "A value is cut to 256 bytes, with an ellipsis, on a character boundary.",
			out: map[string]string{"seatId": strings.Repeat("é", 200)}, want: map[string]string{"seatId": strings.Repeat("é", 126) + "…"}},
		"LongNameLeftOut": {reason: "A name longer than a step's name may be is not kept; one of 63 bytes is.",
			out:  map[string]string{strings.Repeat("n", maxOutputName+1): "x", strings.Repeat("n", maxOutputName): "y"},
			want: map[string]string{strings.Repeat("n", maxOutputName): "y"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var kept map[string]string
			if tc.kept != nil {
				kept = maps.Clone(tc.kept)
			}
			got := mergeOutputs(kept, tc.out)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nmergeOutputs(...): -want, +got:\n%s", tc.reason, diff)
			}
			for k, v := range got {
				if len(v) > v1.MaxOutputLength || !utf8.ValidString(v) {
					t.Errorf("\nReason: %s\noutput %s is %d bytes or not UTF-8, want valid and at most %d", tc.reason, k, len(v), v1.MaxOutputLength)
				}
			}
		})
	}
}

// TestRecordKeepsOutputsPerStep checks that Record keeps an answer's outputs on the step
// that answered, bounded, on both plans: a step's outputs never land on another step, and
// an answer with empty values erases none of its step's earlier ones.
func TestRecordKeepsOutputsPerStep(t *testing.T) {
	cases := map[string]struct {
		reason string
		plan   *Plan
		before v1.SagaStatus
		call   *Call
		out    map[string]string
		step   v1.StepName
		want   map[string]string
	}{
		"OrderOutputsOnCreateOrder": {reason: "CreateOrder's orderId and total are CreateOrder's outputs.",
			before: status(v1.PhaseRunning), call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false),
			out: map[string]string{"orderId": "ord-1", "total": testTotal}, step: v1.StepCreateOrder,
			want: map[string]string{"orderId": "ord-1", "total": testTotal}},
		"RetryKeepsEarlierOutputs": {reason: "A retried step whose new answer has an empty value keeps the earlier one.",
			plan:   ticketPlan(),
			before: with(ticketStatus(v1.PhaseRunning, ok(stepCheckEligibility), retrying(stepReserveSeat, 1, t0)), output(stepReserveSeat, "seatId", "seat-7")),
			call:   callFor(slowPolicy, stepReserveSeat, Action, 2, false), out: map[string]string{"seatId": "", "row": "K"}, step: stepReserveSeat,
			want: map[string]string{"seatId": "seat-7", "row": "K"}},
		"ManyNamesBounded": {reason: "A service answering 40 names: the step keeps 16.",
			plan:   ticketPlan(),
			before: ticketStatus(v1.PhaseRunning, ticketOKUpTo(stepChargeCard)...),
			call:   callFor(fastPolicy, stepChargeCard, Action, 1, false), out: manyOutputs(40, "x"), step: stepChargeCard,
			want: manyOutputs(v1.MaxOutputs, "x")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := *tc.before.DeepCopy()
			Record(planOr(tc.plan), &st, Decision{Kind: KindCall, Call: tc.call}, Outcome{Kind: Succeeded, Outputs: tc.out}, t0)
			for _, s := range st.Steps {
				var want map[string]string
				if s.Name == tc.step {
					want = tc.want
				} else {
					want = stepOf(&tc.before, s.Name).Outputs
				}
				if diff := cmp.Diff(want, s.Outputs); diff != "" {
					t.Errorf("\nReason: %s\nsteps[%s].outputs: -want, +got:\n%s", tc.reason, s.Name, diff)
				}
			}
		})
	}
}

// TestSuccessWithAWarningKeepsIt checks that a success that carries a code (a pivot whose
// answer an output could not read) records it in lastError, where a person finds it,
// instead of dropping it.
func TestSuccessWithAWarningKeepsIt(t *testing.T) {
	p := orderPlan()
	st := status(v1.PhaseRunning, okUpTo(v1.StepConfirmOrder)...)
	call := callFor(testPolicy, v1.StepConfirmOrder, Action, 1, false)
	Record(p, &st, Decision{Kind: KindCall, Call: call}, Outcome{Kind: Succeeded, Code: "INVALID_OUTPUT", Message: "output x: no such key"}, t0)
	s := stepOf(&st, v1.StepConfirmOrder)
	if s.State != v1.StepSucceeded || s.LastError != "INVALID_OUTPUT: output x: no such key" {
		t.Errorf("ConfirmOrder after a success with a warning: state %s, lastError %q; want Succeeded and the warning", s.State, s.LastError)
	}
}
