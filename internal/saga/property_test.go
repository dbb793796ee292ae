package saga

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// randomScript draws the answers of every call up to the 12th of each step and direction;
// later calls succeed, so every run can end.
func randomScript(rng *rand.Rand) script {
	s := script{outcomes: map[callKey]Outcome{}}
	plan := Plan()
	steps := append(plan[:], NotifyCancellation)
	codes := []string{"OUT_OF_STOCK", "PAYMENT_DECLINED", "UNSUPPORTED_DESTINATION", "UNKNOWN_PRODUCT", "HTTP_409"}
	for _, step := range steps {
		for _, dir := range []Direction{Action, Compensate} {
			for n := int32(1); n <= 12; n++ {
				var out Outcome
				switch x := rng.Float64(); {
				case x < 0.55:
					continue // success
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
	n := rng.Intn(40)
	if rng.Intn(8) == 0 {
		n = 200 + rng.Intn(600)
	}
	var b strings.Builder
	for range n {
		b.WriteString(parts[rng.Intn(len(parts))])
	}
	return b.String()
}

// TestRandomScripts runs 500 seeded random scripts and checks what must hold whatever
// the services answer.
func TestRandomScripts(t *testing.T) {
	rng := rand.New(rand.NewSource(20261128))
	for i := range 500 {
		s := randomScript(rng)
		p := Policy{MaxAttempts: 1 + rng.Int31n(4), InitialBackoff: time.Second, MaxBackoff: 30 * time.Second}
		v := view(withPolicy(p), func(v *View) { v.UID = fmt.Sprintf("uid-%d", i) })

		var problems []string
		r := runObserved(v, s, callChecker(p, &problems))
		if !r.ended {
			problems = append(problems, fmt.Sprintf("did not end within %d iterations", maxIterations))
		} else if !r.view.Status.Phase.IsTerminal() && r.end.Kind != KindHold {
			problems = append(problems, fmt.Sprintf("ended (%s) in phase %q, want Completed, Compensated or Failed", r.end.Kind, r.view.Status.Phase))
		}
		if gaveUp := r.view.Status.Failure != nil && r.view.Status.Failure.Reason == v1.ReasonRetriesExhausted; s.deleteAfterCalls == 0 && !gaveUp {
			problems = append(problems, uncalledCompensations(r.calls)...)
		}
		problems = append(problems, r.errs...)
		if len(problems) > 0 {
			t.Errorf("script %d (maxAttempts %d, redrives %d, deleteAfterCalls %d): calls %v\n%s",
				i, p.MaxAttempts, s.redrives, s.deleteAfterCalls, r.calls, strings.Join(problems, "\n"))
		}
	}
}

// callChecker returns an observer of one run that adds to problems every call that breaks
// the engine's rules: nothing undone after the pivot succeeded, compensations in reverse
// plan order, attempts within their limit, and status within its bounds.
func callChecker(p Policy, problems *[]string) func(View, Decision, Outcome) {
	pivotDone := false
	var lastComp v1.StepName
	return func(v View, d Decision, out Outcome) {
		*problems = append(*problems, statusBoundViolations(v.Status)...)
		if d.Kind != KindCall {
			return
		}
		c := d.Call
		switch {
		case c.Step == v1.StepConfirmOrder && c.Direction == Action && out.Kind == Succeeded:
			pivotDone = true
		case pivotDone && (c.Direction == Compensate || c.Step == NotifyCancellation):
			*problems = append(*problems, fmt.Sprintf("%s %s called after ConfirmOrder succeeded", c.Step, c.Direction))
		}
		if c.Direction == Compensate {
			if lastComp != "" && indexOf(c.Step) > indexOf(lastComp) {
				*problems = append(*problems, fmt.Sprintf("compensation of %s after compensation of %s: not reverse plan order", c.Step, lastComp))
			}
			lastComp = c.Step
		}
		limit := p.MaxAttempts
		if c.Direction == Compensate || c.Step == NotifyCancellation {
			limit *= CompensationAttemptsFactor
		}
		if c.Step != Pivot && c.Attempt > limit {
			*problems = append(*problems, fmt.Sprintf("%s %s attempt %d > limit %d", c.Step, c.Direction, c.Attempt, limit))
		}
	}
}

// uncalledCompensations lists compensations of steps whose action was never called:
// after a business failure, and without a deletion, only what ran is undone (a step that
// gave up on transient failures undoes every step before the pivot).
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
