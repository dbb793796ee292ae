package controllers

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestCoalesceSuccesses(t *testing.T) {
	ok := func(msg string) event { return event{"Normal", EventStepSucceeded, "S", msg} }
	failed := event{"Warning", EventStepFailed, "ProcessPayment", "ProcessPayment failed"}
	cases := map[string]struct {
		reason string
		in     []event
		want   []event
	}{
		"HappyPath": {reason: "Successes in a row become one Event naming each step.",
			in:   []event{ok("CreateOrder succeeded"), ok("ReserveInventory succeeded"), {"Normal", "Completed", "Reconcile", "done"}},
			want: []event{{"Normal", EventStepSucceeded, "Steps", "CreateOrder succeeded; ReserveInventory succeeded"}, {"Normal", "Completed", "Reconcile", "done"}}},
		"FailureInBetween": {reason: "A failure keeps its own Event and splits the successes around it.",
			in:   []event{ok("a"), failed, ok("b")},
			want: []event{ok("a"), failed, ok("b")}},
		"Empty": {reason: "Nothing in, nothing out.", in: nil, want: nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, coalesceSuccesses(tc.in), cmp.AllowUnexported(event{})); diff != "" {
				t.Errorf("\nReason: %s\ncoalesceSuccesses(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
