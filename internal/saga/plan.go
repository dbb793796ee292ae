package saga

import (
	"errors"
	"fmt"
	"slices"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Plan is a saga's steps, in the order they run, with the rules the engine runs them by.
// It is data, built by whoever knows the business: the engine only runs it.
// Compensations run in reverse, after the plan's fence if it has one.
type Plan struct {
	Steps []Step
	// AfterRollback is a best-effort call made once a rollback has undone every step,
	// such as a notice that the saga was called off. Nil: none.
	AfterRollback *AfterRollback
	// Reasons maps a service's error code to the condition reason a business failure
	// gives. Codes not listed give StepRejected.
	Reasons map[string]string
	// CompletedMessage is status.message once every step succeeded.
	CompletedMessage string
	// Fence, when set, lets the pivot run without the checkpoint that would otherwise be
	// stored before it (ADR 0011). Nil: the pivot is checkpointed (ADR 0001).
	Fence *Fence
}

// Fence is a compensation that makes the pivot impossible from then on, and that the
// service refuses once the pivot has run: the order saga's cancel of its order, refused
// once the order is confirmed. Every rollback runs it first, before the other
// compensations, so that a rollback whose stored status lost the pivot's success learns
// from the service that the pivot ran, and goes forward instead of undoing the steps
// before it.
type Fence struct {
	// Step is the step whose compensation is the fence. It comes before the pivot and
	// is compensable; its compensation's request depends only on the saga, not on any
	// output a lost write could have taken.
	Step v1.StepName
	// PivotRan lists the business failure codes with which the service refuses the fence
	// because the pivot has run.
	PivotRan []string
}

// Step is one step of a plan.
type Step struct {
	Name v1.StepName
	// Compensable: the step has a compensation. Only steps before the pivot may have one.
	Compensable bool
	// Pivot: once this step may have run, the saga never rolls back. It is retried until
	// it answers, because giving up on it would roll back a saga whose pivot may have run.
	Pivot bool
	// ForwardOnly: a failure of this step (business, or retries exhausted) does not roll
	// the saga back; the saga goes on and finishes Completed with the failure in status.
	ForwardOnly bool
	// Policy is the step's retry policy, defaults applied.
	Policy Policy
	// Timeout bounds one call of the step.
	Timeout time.Duration
	// ResourceOutput names the output that identifies what the step holds in its service,
	// which an abandoned saga lists. Empty: none.
	ResourceOutput string
	// FailedReason and FailedMessage explain a Completed saga whose forward-only step
	// failed. Empty: ForwardStepFailed and "completed; <step> failed".
	FailedReason  string
	FailedMessage string
}

// AfterRollback is the best-effort call after a rollback.
type AfterRollback struct {
	Name v1.StepName
	// RequiresOutput names a step's output without which the call is not made: there is
	// nobody to notify of a saga whose first step never created anything. Empty: always made.
	RequiresOutput OutputRef
	// Skip: the call is not wanted for this saga (a SagaDefinition's onRollback.when is
	// false). The driver decides it, from what it knows, before asking the engine.
	Skip bool
	// Policy paces its retries; it gets CompensationAttemptsFactor times its attempts.
	Policy  Policy
	Timeout time.Duration
}

// OutputRef names one output of one step.
type OutputRef struct {
	Step v1.StepName
	Key  string
}

// ReasonForwardStepFailed is the reason of a Completed saga whose forward-only step failed,
// when the plan names none.
const ReasonForwardStepFailed = "ForwardStepFailed"

// Validate reports a plan the engine cannot run: no steps, a duplicate name, two pivots,
// or a compensation at or after the pivot. The CRD refuses all of these for a
// SagaDefinition; this guards plans built in code.
func (p *Plan) Validate() error {
	if len(p.Steps) == 0 || len(p.Steps) > v1.MaxSteps {
		return fmt.Errorf("plan: want 1 to %d steps, got %d", v1.MaxSteps, len(p.Steps))
	}
	seen := map[v1.StepName]bool{}
	pivot := -1
	for i, s := range p.Steps {
		if s.Name == "" || seen[s.Name] {
			return fmt.Errorf("plan: steps[%d]: name %q is empty or not unique", i, s.Name)
		}
		seen[s.Name] = true
		if s.Pivot {
			if pivot >= 0 {
				return fmt.Errorf("plan: steps[%d] (%s): a second pivot after %s", i, s.Name, p.Steps[pivot].Name)
			}
			pivot = i
		}
		if s.Compensable && pivot >= 0 {
			return fmt.Errorf("plan: steps[%d] (%s): a compensation at or after the pivot", i, s.Name)
		}
		if s.Pivot && s.ForwardOnly {
			return fmt.Errorf("plan: steps[%d] (%s): the pivot cannot be forward-only", i, s.Name)
		}
	}
	if err := p.validateFence(pivot); err != nil {
		return err
	}
	if p.AfterRollback != nil && seen[p.AfterRollback.Name] {
		return fmt.Errorf("plan: afterRollback: name %q is a step's", p.AfterRollback.Name)
	}
	return p.validateCalls()
}

// validateFence refuses a fence the engine could not rely on: one without a pivot to
// fence, on a step that is not compensable (and so not before the pivot), or without a
// code that says the pivot ran.
func (p *Plan) validateFence(pivot int) error {
	f := p.Fence
	if f == nil {
		return nil
	}
	if pivot < 0 {
		return errors.New("plan: fence: the plan has no pivot to fence")
	}
	if s, ok := p.Step(f.Step); !ok || !s.Compensable {
		return fmt.Errorf("plan: fence: step %q is not a compensable step of the plan", f.Step)
	}
	if len(f.PivotRan) == 0 {
		return errors.New("plan: fence: no code says that the pivot ran")
	}
	return nil
}

// validateCalls refuses what would make the engine retry without pause or for nothing:
// a policy without attempts or backoff, an after-rollback call without a name, or one
// that requires the output of a step the plan does not have.
func (p *Plan) validateCalls() error {
	for i, s := range p.Steps {
		if err := s.Policy.validate(); err != nil {
			return fmt.Errorf("plan: steps[%d] (%s): %w", i, s.Name, err)
		}
	}
	ar := p.AfterRollback
	if ar == nil {
		return nil
	}
	if ar.Name == "" {
		return errors.New("plan: afterRollback: the name is empty")
	}
	if req := ar.RequiresOutput.Step; req != "" {
		if _, ok := p.Step(req); !ok {
			return fmt.Errorf("plan: afterRollback: it requires an output of step %q, which the plan does not have", req)
		}
	}
	if err := ar.Policy.validate(); err != nil {
		return fmt.Errorf("plan: afterRollback: %w", err)
	}
	return nil
}

// index returns the position of a step in the plan, or len(p.Steps) when it has none.
func (p *Plan) index(name v1.StepName) int {
	for i, s := range p.Steps {
		if s.Name == name {
			return i
		}
	}
	return len(p.Steps)
}

// Step returns the step named name, and whether the plan has it.
func (p *Plan) Step(name v1.StepName) (Step, bool) {
	i := p.index(name)
	if i == len(p.Steps) {
		return Step{}, false
	}
	return p.Steps[i], true
}

// pivotIndex is the pivot's position, or -1 when the plan has none.
func (p *Plan) pivotIndex() int {
	for i, s := range p.Steps {
		if s.Pivot {
			return i
		}
	}
	return -1
}

// isFence reports whether the compensation of step name is the plan's fence.
func (p *Plan) isFence(name v1.StepName) bool { return p.Fence != nil && name == p.Fence.Step }

// fenceRefused reports whether out is the fence's refusal because the pivot ran.
func (p *Plan) fenceRefused(c Call, out Outcome) bool {
	return p.isFence(c.Step) && c.Direction == Compensate &&
		out.Kind == BusinessFailure && slices.Contains(p.Fence.PivotRan, out.Code)
}

// afterPivot reports whether step i runs after the pivot: it can no longer roll back.
func (p *Plan) afterPivot(i int) bool {
	pivot := p.pivotIndex()
	return pivot >= 0 && i > pivot
}

// CallTimeout bounds one call of step (or the after-rollback call) named name.
func (p *Plan) CallTimeout(name v1.StepName) time.Duration {
	if s, ok := p.Step(name); ok && s.Timeout > 0 {
		return s.Timeout
	}
	if p.AfterRollback != nil && p.AfterRollback.Name == name && p.AfterRollback.Timeout > 0 {
		return p.AfterRollback.Timeout
	}
	return DefaultStepTimeout
}

// LongestTimeout is the longest call any step may make.
func (p *Plan) LongestTimeout() time.Duration {
	var longest time.Duration
	for _, s := range p.Steps {
		longest = max(longest, p.CallTimeout(s.Name))
	}
	if p.AfterRollback != nil {
		longest = max(longest, p.CallTimeout(p.AfterRollback.Name))
	}
	return longest
}

// Direction says whether a call does a step or undoes it.
type Direction string

// Directions of a call.
const (
	Action     Direction = "action"
	Compensate Direction = "compensate"
)

// Key is the idempotency key of a call: the same saga, step and direction always give
// the same key, so a repeated call (restart, lost status write, retry after a timeout)
// is answered with the first result and changes nothing.
func Key(uid string, step v1.StepName, dir Direction) string {
	return fmt.Sprintf("%s/%s/%s", uid, step, dir)
}
