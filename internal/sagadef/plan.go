package sagadef

import (
	"maps"
	"slices"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// buildPlan is the engine's plan of a definition: its steps in order, each with the
// definition's retry policy and step timeout unless the step overrides them.
func buildPlan(spec *v1.SagaDefinitionSpec) *saga.Plan {
	policy := saga.PolicyOf(spec.RetryPolicy)
	timeout := saga.DurationOr(spec.StepTimeout, saga.DefaultStepTimeout)
	plan := &saga.Plan{}
	for _, s := range spec.Steps {
		plan.Steps = append(plan.Steps, saga.Step{
			Name:           s.Name,
			Compensable:    s.Compensation != nil,
			Pivot:          s.Pivot,
			ForwardOnly:    s.ForwardOnly,
			Policy:         policy.Override(s.RetryPolicy),
			Timeout:        saga.DurationOr(s.Timeout, timeout),
			ResourceOutput: resourceOutput(s.Outputs),
		})
	}
	if len(spec.FailureReasons) > 0 {
		plan.Reasons = make(map[string]string, len(spec.FailureReasons))
		for code, reason := range spec.FailureReasons {
			plan.Reasons[code] = string(reason)
		}
	}
	if r := spec.OnRollback; r != nil {
		// onRollback.when is evaluated by the driver (RollbackWanted), which sets Skip: it
		// is an expression, not the one output RequiresOutput can name.
		plan.AfterRollback = &saga.AfterRollback{Name: rollbackName(r), Policy: policy, Timeout: timeout}
	}
	return plan
}

// resourceOutput is the output that identifies what a step holds in its service, which an
// abandoned saga lists: the step's only output. With several, none is known to be it.
func resourceOutput(outputs map[string]v1.Expression) string {
	if len(outputs) != 1 {
		return ""
	}
	for name := range outputs {
		return name
	}
	return ""
}

// Plan returns the definition's plan: the steps in order, with Compensable (the step has a
// compensation), Pivot, ForwardOnly, Policy (retryPolicy with defaults, overridden by the
// step's), Timeout (the step's timeout, else stepTimeout, else saga.DefaultStepTimeout),
// ResourceOutput (the step's only output), Reasons (failureReasons) and AfterRollback
// (onRollback, with the definition's policy and stepTimeout). Each call returns a copy the
// caller may change.
//
// Caveats: AfterRollback.Skip is left false: onRollback.when reads the saga's status, so the
// driver asks RollbackWanted and sets it.
func (p *Program) Plan() *saga.Plan {
	plan := p.plan
	plan.Steps = slices.Clone(p.plan.Steps)
	plan.Reasons = maps.Clone(p.plan.Reasons)
	if p.plan.AfterRollback != nil {
		ar := *p.plan.AfterRollback
		plan.AfterRollback = &ar
	}
	return &plan
}
