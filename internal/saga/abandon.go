package saga

import (
	"cmp"
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// abandonDecision handles a new value of the abandon annotation. Only a Failed saga that
// is being deleted may be abandoned: its compensations gave up, and the person deleting it
// accepts what is left undone. Any other saga still has a way to end on its own, so the
// request is refused, once per annotation value, and the saga goes on as before.
func abandonDecision(v View, st *v1.SagaStatus) (Decision, bool) {
	token := RetryToken(v.AbandonRequest)
	if token == "" || token == st.LastHandledAbandon {
		return Decision{}, false
	}
	switch {
	case st.Phase == v1.PhaseFailed && v.Deleting:
		return Decision{Kind: KindAbandon, RetryToken: token, LeftUndone: LeftUndone(v.Plan, v.UID, st), Message: fenceUnanswered(v.Plan, st)}, true
	case st.Phase == v1.PhaseFailed:
		return Decision{Kind: KindIgnoreAbandon, RetryToken: token, Message: fmt.Sprintf(
			"ignored the %s annotation: the saga is Failed but not being deleted; delete it, then set the annotation again. Nothing was done",
			v1.AbandonAnnotation)}, true
	default:
		return Decision{Kind: KindIgnoreAbandon, RetryToken: token, Message: fmt.Sprintf(
			"ignored the %s annotation: it releases only a Failed saga that is being deleted, and this saga is %s. Nothing was done",
			v1.AbandonAnnotation, cmp.Or(st.Phase, v1.PhasePending))}, true
	}
}

// LeftUndone lists the steps whose compensation did not succeed, in plan order, with what
// a person needs to find them in the services.
func LeftUndone(p *Plan, uid string, st *v1.SagaStatus) []v1.UndoneStep {
	var out []v1.UndoneStep
	for _, step := range p.Steps {
		s := stepOf(st, step.Name)
		if s.Compensation == nil || s.Compensation.State == v1.CallSucceeded {
			continue
		}
		out = append(out, v1.UndoneStep{
			Name:              step.Name,
			State:             s.State,
			ResourceID:        s.Outputs[step.ResourceOutput],
			IdempotencyKey:    Key(uid, step.Name, Action),
			CompensationError: s.Compensation.LastError,
		})
	}
	return out
}

// fenceUnanswered is what an abandoned saga's message adds when its plan's fence never
// succeeded: until it does, the pivot may have run, and then the steps listed as left
// undone must stay as they are. A person undoing them by hand must look first.
func fenceUnanswered(p *Plan, st *v1.SagaStatus) string {
	if p.Fence == nil {
		return ""
	}
	pivot := p.Steps[p.pivotIndex()].Name
	if c := stepOf(st, p.Fence.Step).Compensation; c != nil && c.State != v1.CallSucceeded {
		return fmt.Sprintf(". The compensation of %s, which tells whether %s ran, never succeeded: if %s ran, nothing here may be undone; look at it before undoing anything by hand",
			p.Fence.Step, pivot, pivot)
	}
	return ""
}

func abandon(st *v1.SagaStatus, d Decision, t metav1.MicroTime) {
	st.LastHandledAbandon = d.RetryToken
	st.Abandoned = &v1.AbandonStatus{At: t, LeftUndone: d.LeftUndone}
	st.Message = Truncate(AbandonSummary(d.LeftUndone)+d.Message, maxMessage)
	setSucceeded(st, metav1.ConditionFalse, v1.ReasonAbandoned, st.Message, t)
}

// AbandonSummary is the sentence that status.message and the Warning Event give.
func AbandonSummary(undone []v1.UndoneStep) string {
	if len(undone) == 0 {
		return "abandoned: every compensation had succeeded; nothing is left undone"
	}
	parts := make([]string, 0, len(undone))
	for _, u := range undone {
		id := u.ResourceID
		if id == "" {
			id = "id unknown"
		}
		parts = append(parts, fmt.Sprintf("%s (%s, key %s)", u.Name, id, u.IdempotencyKey))
	}
	return fmt.Sprintf("abandoned with %d step(s) possibly left undone: %s", len(undone), strings.Join(parts, "; "))
}
