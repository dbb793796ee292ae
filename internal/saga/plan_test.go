package saga

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestPlanValidate checks every plan the engine refuses to run, and that the plans the
// tests run on are accepted.
func TestPlanValidate(t *testing.T) {
	steps := func(n int) []Step {
		out := make([]Step, 0, n)
		for i := range n {
			out = append(out, Step{Name: v1.StepName(fmt.Sprintf("Step%02d", i)), Policy: testPolicy})
		}
		return out
	}
	cases := map[string]struct {
		reason string
		plan   *Plan
		// want is a part of the error; empty means the plan is valid.
		want string
	}{
		"OrderPlan":         {reason: "The order saga's plan is valid.", plan: orderPlan()},
		"TicketPlan":        {reason: "The ticket plan is valid.", plan: ticketPlan()},
		"TicketPlanNoPivot": {reason: "A plan without a pivot is valid: it can always roll back.", plan: ticketPlanWithoutPivot()},
		"OneStep":           {reason: "One step is enough.", plan: &Plan{Steps: steps(1)}},
		"MaxSteps":          {reason: "v1.MaxSteps steps fit status.", plan: &Plan{Steps: steps(v1.MaxSteps)}},
		"PivotFirst":        {reason: "A pivot may come first; nothing can be compensated then.", plan: &Plan{Steps: []Step{{Name: "A", Pivot: true, Policy: testPolicy}, {Name: "B", Policy: testPolicy}}}},
		"ForwardOnlyCompBeforePivot": {
			reason: "A forward-only step may have a compensation, before the pivot.",
			plan:   &Plan{Steps: []Step{{Name: "A", ForwardOnly: true, Compensable: true, Policy: testPolicy}, {Name: "B", Pivot: true, Policy: testPolicy}}},
		},
		"NoAttempts": {reason: "A step without attempts would never be called, or retried without a limit.",
			plan: &Plan{Steps: []Step{{Name: "A"}}}, want: "steps[0] (A): retry policy"},
		"ARNoName": {reason: "The after-rollback call needs a name for its key and Events.",
			plan: &Plan{Steps: steps(1), AfterRollback: &AfterRollback{Policy: testPolicy}}, want: "afterRollback: the name is empty"},
		"ARRequiresUnknownStep": {reason: "An output of a step the plan lacks is never there: the call would never be made.",
			plan: &Plan{Steps: steps(1), AfterRollback: &AfterRollback{Name: "N", Policy: testPolicy, RequiresOutput: OutputRef{Step: "Nope", Key: "id"}}},
			want: `requires an output of step "Nope"`},
		"ARNoPolicy": {reason: "The after-rollback call is retried too: it needs attempts and backoff.",
			plan: &Plan{Steps: steps(1), AfterRollback: &AfterRollback{Name: "N"}}, want: "afterRollback: retry policy"},
		"NoSteps":   {reason: "A plan with no steps has nothing to run.", plan: &Plan{}, want: "want 1 to 20 steps, got 0"},
		"TooMany":   {reason: "More steps than status can hold.", plan: &Plan{Steps: steps(v1.MaxSteps + 1)}, want: "want 1 to 20 steps, got 21"},
		"EmptyName": {reason: "A step needs a name: its key and status entry are named by it.", plan: &Plan{Steps: []Step{{Name: "A"}, {}}}, want: `steps[1]: name "" is empty or not unique`},
		"Duplicate": {reason: "Two steps of one name would share a status entry and a key.", plan: &Plan{Steps: []Step{{Name: "A"}, {Name: "A"}}}, want: `steps[1]: name "A" is empty or not unique`},
		"TwoPivots": {reason: "One point of no return.", plan: &Plan{Steps: []Step{{Name: "A", Pivot: true}, {Name: "B", Pivot: true}}}, want: "steps[1] (B): a second pivot after A"},
		"CompPivot": {reason: "The pivot is never undone.", plan: &Plan{Steps: []Step{{Name: "A", Pivot: true, Compensable: true}}}, want: "steps[0] (A): a compensation at or after the pivot"},
		"CompAfter": {reason: "Nothing after the pivot is undone.", plan: &Plan{Steps: []Step{{Name: "A", Pivot: true}, {Name: "B", Compensable: true}}}, want: "steps[1] (B): a compensation at or after the pivot"},
		"FwdPivot":  {reason: "Giving up on the pivot would be a failure that neither rolls back nor is safe to ignore.", plan: &Plan{Steps: []Step{{Name: "A", Pivot: true, ForwardOnly: true}}}, want: "steps[0] (A): the pivot cannot be forward-only"},
		"ARNameClash": {reason: "The after-rollback call's record and key must not be a step's.", plan: &Plan{Steps: []Step{{Name: "A"}}, AfterRollback: &AfterRollback{Name: "A"}},
			want: `afterRollback: name "A" is a step's`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := tc.plan.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("\nReason: %s\nValidate() = %v, want nil", tc.reason, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("\nReason: %s\nValidate() = %v, want an error containing %q", tc.reason, err, tc.want)
			}
		})
	}
}

// TestPlanStep checks the lookup of a step by name.
func TestPlanStep(t *testing.T) {
	p := ticketPlan()
	cases := map[string]struct {
		reason string
		name   v1.StepName
		want   Step
		wantOK bool
	}{
		"Known":         {reason: "A step of the plan.", name: stepChargeCard, want: p.Steps[3], wantOK: true},
		"Unknown":       {reason: "A step of another plan.", name: v1.StepCreateOrder},
		"AfterRollback": {reason: "The after-rollback call is not a step.", name: notifyCancellation},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := p.Step(tc.name)
			if diff := cmp.Diff(tc.want, got); diff != "" || ok != tc.wantOK {
				t.Errorf("\nReason: %s\nStep(%s) = _, %t (want %t): -want, +got:\n%s", tc.reason, tc.name, ok, tc.wantOK, diff)
			}
		})
	}
}

// TestCallTimeout checks the bound of one call: the step's own timeout, the after-rollback
// call's, or the default when none is set.
func TestCallTimeout(t *testing.T) {
	p := &Plan{
		Steps:         []Step{{Name: "Fast", Timeout: 250 * time.Millisecond}, {Name: "Unset"}, {Name: "Slow", Timeout: 30 * time.Second}},
		AfterRollback: &AfterRollback{Name: "Notice", Timeout: 2 * time.Second},
	}
	cases := map[string]struct {
		reason string
		name   v1.StepName
		want   time.Duration
	}{
		"StepSet":       {reason: "A step's own timeout.", name: "Fast", want: 250 * time.Millisecond},
		"StepUnset":     {reason: "A step without one: the default.", name: "Unset", want: DefaultStepTimeout},
		"AfterRollback": {reason: "The after-rollback call's own timeout.", name: "Notice", want: 2 * time.Second},
		"Unknown":       {reason: "A name the plan does not have: the default.", name: "Other", want: DefaultStepTimeout},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, p.CallTimeout(tc.name)); diff != "" {
				t.Errorf("\nReason: %s\nCallTimeout(%s): -want, +got:\n%s", tc.reason, tc.name, diff)
			}
		})
	}
}

// TestLongestTimeout checks the longest call a plan may make, which the controller keeps
// in its budget before each call.
func TestLongestTimeout(t *testing.T) {
	cases := map[string]struct {
		reason string
		plan   *Plan
		want   time.Duration
	}{
		"LongestStep": {reason: "The longest step's timeout.",
			plan: &Plan{Steps: []Step{{Name: "A", Timeout: 30 * time.Second}, {Name: "B", Timeout: time.Second}}}, want: 30 * time.Second},
		"AfterRollbackIsACall": {reason: "The after-rollback call counts.",
			plan: &Plan{Steps: []Step{{Name: "A", Timeout: time.Second}}, AfterRollback: &AfterRollback{Name: "N", Timeout: 40 * time.Second}}, want: 40 * time.Second},
		"UnsetStepHasTheDefault": {reason: "A step without a timeout may take the default.",
			plan: &Plan{Steps: []Step{{Name: "A", Timeout: time.Second}, {Name: "B"}}}, want: DefaultStepTimeout},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.plan.LongestTimeout()); diff != "" {
				t.Errorf("\nReason: %s\nLongestTimeout(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestLongestTimeoutOfShortSteps is the case the old engine met with spec.stepTimeout: an
// order saga whose every call is bounded by 250ms may make no call longer than that, and
// the controller's batch keeps only that much of its budget for the next call.
func TestLongestTimeoutOfShortSteps(t *testing.T) {
	p := &Plan{Steps: []Step{{Name: "A", Timeout: 250 * time.Millisecond}, {Name: "B", Timeout: 250 * time.Millisecond}},
		AfterRollback: &AfterRollback{Name: "N", Timeout: 250 * time.Millisecond}}
	if got := p.LongestTimeout(); got != 250*time.Millisecond {
		t.Errorf("every call of the plan is bounded by 250ms, but LongestTimeout() = %s: it starts from "+
			"CallTimeout(\"\"), the default, so it never returns less than DefaultStepTimeout. The controller's timeLeft keeps that "+
			"much budget per call, where the old saga.StepTimeout(spec) kept spec.stepTimeout", got)
	}
}
