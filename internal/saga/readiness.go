package saga

import (
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// setReadiness derives the conditions that generic tools read from the phase and the
// Succeeded condition, so that they can never disagree with them. kstatus reads Stalled
// (Failed), Reconciling (InProgress) and otherwise Current; Flux, Argo CD and
// `kubectl wait --for=condition=Ready` read Ready. A Compensated saga is Ready: it ended
// as designed, and nothing is left for anyone to do.
func setReadiness(st *v1.SagaStatus, t metav1.MicroTime) {
	reason, msg := v1.ReasonPending, "the saga has not started"
	if c := meta.FindStatusCondition(st.Conditions, v1.ConditionSucceeded); c != nil {
		reason, msg = c.Reason, c.Message
	}
	set := func(typ string, status metav1.ConditionStatus) {
		meta.SetStatusCondition(&st.Conditions, metav1.Condition{Type: typ, Status: status,
			Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(t.Time)})
	}
	switch {
	case st.Phase == v1.PhaseCompleted || st.Phase == v1.PhaseCompensated:
		set(v1.ConditionReady, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionReconciling)
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionStalled)
	case st.Phase == v1.PhaseFailed || reason == v1.ReasonInvalidSpec:
		set(v1.ConditionReady, metav1.ConditionFalse)
		set(v1.ConditionStalled, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionReconciling)
	default:
		set(v1.ConditionReady, metav1.ConditionUnknown)
		set(v1.ConditionReconciling, metav1.ConditionTrue)
		meta.RemoveStatusCondition(&st.Conditions, v1.ConditionStalled)
	}
}
