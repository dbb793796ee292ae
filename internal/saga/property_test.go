package saga

import (
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// randomScript draws the answers of every call of plan p up to the 12th of each step and
// direction; later calls succeed, so every run can end. Some successes carry more
// outputs, and longer ones, than a step may keep.
func randomScript(rng *rand.Rand, p *Plan) script {
	s := script{outcomes: map[callKey]Outcome{}}
	steps := namesOf(p)
	if p.AfterRollback != nil {
		steps = append(steps, p.AfterRollback.Name)
	}
	codes := make([]string, 0, 1+len(p.Reasons))
	codes = append(codes, "HTTP_409")
	for code := range p.Reasons {
		codes = append(codes, code)
	}
	if p.Fence != nil {
		// A script answers each call on its own, not from the state of a service, so a fence
		// may be refused although the pivot never ran: the engine must still end, and
		// keep every rule below.
		codes = append(codes, p.Fence.PivotRan...)
	}
	slices.Sort(codes) // a seeded draw must not depend on map order
	for _, step := range steps {
		for _, dir := range []Direction{Action, Compensate} {
			for n := int32(1); n <= 12; n++ {
				var out Outcome
				switch x := rng.Float64(); {
				case x < 0.5:
					continue // success, with the step's usual outputs
				case x < 0.55:
					out = Outcome{Kind: Succeeded, Outputs: manyOutputs(1+rng.Intn(30), randomText(rng))}
				case x < 0.9:
					out = Outcome{Kind: Transient, Code: "HTTP_503", Message: randomText(rng)}
				default:
					out = Outcome{Kind: BusinessFailure, Code: codes[rng.Intn(len(codes))], Message: randomText(rng)}
				}
				s.outcomes[callKey{step, dir, n}] = out
			}
		}
	}
	s.redrives = rng.Intn(4)
	if rng.Intn(4) == 0 {
		s.deleteAfterCalls = 1 + rng.Intn(12)
	}
	return s
}

// randomText is a service message, sometimes long and full of multi-byte characters.
func randomText(rng *rand.Rand) string {
	parts := []string{"a", "é", "€", "🛒", " "}
	n := 1 + rng.Intn(40)
	if rng.Intn(8) == 0 {
		n = 200 + rng.Intn(600)
	}
	var b strings.Builder
	for range n {
		b.WriteString(parts[rng.Intn(len(parts))])
	}
	return b.String()
}

// randomPolicies gives every step of p, and its after-rollback call, a policy of its own.
func randomPolicies(rng *rand.Rand, p *Plan) *Plan {
	c := *p
	c.Steps = append([]Step(nil), p.Steps...)
	draw := func() Policy {
		return Policy{MaxAttempts: 1 + rng.Int31n(4), InitialBackoff: time.Duration(1+rng.Intn(3)) * time.Second, MaxBackoff: 30 * time.Second}
	}
	for i := range c.Steps {
		c.Steps[i].Policy = draw()
	}
	if p.AfterRollback != nil {
		ar := *p.AfterRollback
		ar.Policy = draw()
		c.AfterRollback = &ar
	}
	return &c
}

// TestRandomScripts runs 500 seeded random scripts on each plan, each step with a random
// policy of its own, and checks what must hold whatever the services answer.
func TestRandomScripts(t *testing.T) {
	plans := map[string]func() *Plan{"Order": orderPlan, "FencedOrder": fencedOrderPlan, "Ticket": ticketPlan, "TicketWithoutPivot": ticketPlanWithoutPivot}
	for name, plan := range plans {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(20261128))
			for i := range 500 {
				p := randomPolicies(rng, plan())
				s := randomScript(rng, p)
				v := view(withPlan(p), func(v *View) { v.UID = fmt.Sprintf("uid-%d", i) })
				if problems := checkRun(p, v, s); len(problems) > 0 {
					t.Errorf("script %d (redrives %d, deleteAfterCalls %d):\n%s", i, s.redrives, s.deleteAfterCalls, strings.Join(problems, "\n"))
				}
			}
		})
	}
}

// checkRun runs v against s and lists every broken rule.
func checkRun(p *Plan, v View, s script) []string {
	var problems []string
	turned := false
	r := runObserved(v, s, callChecker(p, &problems, &turned))
	switch {
	case !r.ended:
		problems = append(problems, fmt.Sprintf("did not end within %d iterations", maxIterations))
	case !r.view.Status.Phase.IsTerminal() && r.end.Kind != KindHold:
		problems = append(problems, fmt.Sprintf("ended (%s) in phase %q, want Completed, Compensated or Failed", r.end.Kind, r.view.Status.Phase))
	default:
		problems = append(problems, endStateProblems(p, r.view.Status, turned)...)
	}
	if gaveUp := r.view.Status.Failure != nil && r.view.Status.Failure.Reason == v1.ReasonRetriesExhausted; s.deleteAfterCalls == 0 && !gaveUp {
		problems = append(problems, uncalledCompensations(r.calls)...)
	}
	problems = append(problems, r.errs...)
	if len(problems) > 0 {
		problems = append([]string{fmt.Sprintf("calls %v", r.calls)}, problems...)
	}
	return problems
}

// callChecker returns an observer of one run that adds to problems every call that breaks
// the engine's rules: nothing undone after the pivot succeeded, only compensable steps
// undone and in reverse plan order, attempts within their step's own limit, no rollback
// for a step whose failure must not cause one, and status within its bounds.
//
// turned is set once a fence was refused because the pivot ran: the steps before the
// pivot then run again and, like the steps after it, may no longer roll the saga back.
func callChecker(p *Plan, problems *[]string, turned *bool) func(View, Decision, Outcome) {
	pivotDone, fenceDone := false, false
	var lastComp v1.StepName
	return func(v View, d Decision, out Outcome) {
		*problems = append(*problems, statusBoundViolations(p, v.Status)...)
		if d.Kind != KindCall {
			return
		}
		c := d.Call
		step, _ := p.Step(c.Step)
		undoing := c.Direction == Compensate || isAfterRollback(p, c.Step)
		if pivotDone && undoing {
			*problems = append(*problems, fmt.Sprintf("%s %s called after the pivot succeeded", c.Step, c.Direction))
		}
		pivotDone = pivotDone || (step.Pivot && c.Direction == Action && out.Kind == Succeeded)
		if c.Direction == Compensate {
			*problems = append(*problems, compensationProblems(p, step, lastComp, fenceDone)...)
			lastComp = c.Step
			fenced, refused := fenceAnswer(p, c, out)
			fenceDone = fenceDone || fenced
			if refused {
				*turned, lastComp = true, ""
			}
		}
		if limit := attemptLimit(p, c, *turned); limit > 0 && c.Attempt > limit {
			*problems = append(*problems, fmt.Sprintf("%s %s attempt %d > limit %d", c.Step, c.Direction, c.Attempt, limit))
		}
		if mustGoOn(p, c, *turned) && stepOf(&v.Status, c.Step).State == v1.StepFailed && v.Status.Phase != v1.PhaseRunning {
			*problems = append(*problems, fmt.Sprintf("%s failed and the saga is %s: its failure must not roll back", c.Step, v.Status.Phase))
		}
	}
}

// fenceAnswer tells whether call c was the plan's fence and succeeded, or was refused
// because the pivot ran.
func fenceAnswer(p *Plan, c *Call, out Outcome) (succeeded, refused bool) {
	if p.Fence == nil || c.Step != p.Fence.Step || c.Direction != Compensate {
		return false, false
	}
	return out.Kind == Succeeded, out.Kind == BusinessFailure && slices.Contains(p.Fence.PivotRan, out.Code)
}

func isAfterRollback(p *Plan, name v1.StepName) bool {
	return p.AfterRollback != nil && name == p.AfterRollback.Name
}

// compensationProblems checks a compensation of step, made after one of lastComp: only a
// step that has one, in reverse plan order; with a fence, the fence first, and no other
// compensation before it has succeeded (fenceDone).
func compensationProblems(p *Plan, step Step, lastComp v1.StepName, fenceDone bool) []string {
	var out []string
	if !step.Compensable {
		out = append(out, fmt.Sprintf("compensation of %s, which has none", step.Name))
	}
	isFence := func(name v1.StepName) bool { return p.Fence != nil && name == p.Fence.Step }
	switch {
	case isFence(step.Name):
		if lastComp != "" && !isFence(lastComp) {
			out = append(out, fmt.Sprintf("the fence, compensation of %s, after compensation of %s: the fence goes first", step.Name, lastComp))
		}
	case p.Fence != nil && !fenceDone:
		out = append(out, fmt.Sprintf("compensation of %s before the fence succeeded", step.Name))
	case lastComp != "" && !isFence(lastComp) && p.index(step.Name) > p.index(lastComp):
		out = append(out, fmt.Sprintf("compensation of %s after compensation of %s: not reverse plan order", step.Name, lastComp))
	}
	return out
}

// mustGoOn: the failure of call c's step does not roll the saga back (forward-only, after
// the pivot, or before a pivot that a refused fence said had run; the pivot's own refusal
// still rolls back: it is the later word).
func mustGoOn(p *Plan, c *Call, turned bool) bool {
	step, isStep := p.Step(c.Step)
	pivot := p.pivotIndex()
	return isStep && c.Direction == Action && (step.ForwardOnly || (pivot >= 0 && p.index(c.Step) > pivot) || (turned && p.index(c.Step) < pivot))
}

// attemptLimit is the most attempts call c may get, written out from the plan's rules
// rather than the engine's code; 0 means no limit.
func attemptLimit(p *Plan, c *Call, turned bool) int32 {
	if isAfterRollback(p, c.Step) {
		return p.AfterRollback.Policy.MaxAttempts * CompensationAttemptsFactor
	}
	step, _ := p.Step(c.Step)
	if c.Direction == Compensate && p.Fence != nil && c.Step == p.Fence.Step {
		return 0 // the fence is retried until it answers, as the pivot is
	}
	if c.Direction == Compensate {
		return step.Policy.MaxAttempts * CompensationAttemptsFactor
	}
	pivot := p.pivotIndex()
	if step.Pivot || ((turned || (pivot >= 0 && p.index(c.Step) > pivot)) && !step.ForwardOnly) {
		return 0
	}
	return step.Policy.MaxAttempts
}

// endStateProblems checks a finished saga: a Completed one ran every step, except those
// whose failure does not roll back, and its reason says whether one failed; a Compensated
// one undid everything it set out to undo, and nothing without a compensation.
func endStateProblems(p *Plan, st v1.SagaStatus, turned bool) []string {
	var out []string
	anyFailed := false
	for i, step := range p.Steps {
		s := stepOf(&st, step.Name)
		if s.Compensation != nil && !step.Compensable {
			out = append(out, fmt.Sprintf("%s has a compensation record but no compensation", step.Name))
		}
		switch st.Phase {
		case v1.PhaseCompleted:
			mayFail := step.ForwardOnly || p.afterPivot(i) || turned
			if s.State != v1.StepSucceeded && (s.State != v1.StepFailed || !mayFail) {
				out = append(out, fmt.Sprintf("Completed with %s %s", step.Name, s.State))
			}
			anyFailed = anyFailed || s.State == v1.StepFailed
		case v1.PhaseCompensated:
			if s.Compensation != nil && s.Compensation.State != v1.CallSucceeded {
				out = append(out, fmt.Sprintf("Compensated with the compensation of %s %s", step.Name, s.Compensation.State))
			}
		default: // Failed: a person decides what is left
		}
	}
	if c := findCondition(st.Conditions, v1.ConditionSucceeded); st.Phase == v1.PhaseCompleted && c != nil && (c.Reason == v1.ReasonCompleted) == anyFailed {
		out = append(out, fmt.Sprintf("Completed with reason %s, but a step failed: %t", c.Reason, anyFailed))
	}
	return out
}

// uncalledCompensations lists compensations of steps whose action was never called:
// after a business failure, and without a deletion, only what ran is undone (a step that
// gave up on transient failures undoes every compensable step).
func uncalledCompensations(calls []made) []string {
	called := map[v1.StepName]bool{}
	var out []string
	for _, c := range calls {
		switch {
		case c.Dir == Action:
			called[c.Step] = true
		case !called[c.Step]:
			out = append(out, fmt.Sprintf("compensation of %s, whose action was never called", c.Step))
		}
	}
	return out
}
