package saga

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestReadiness checks the conditions that kstatus, Flux, Argo CD and kubectl wait read,
// after each kind of transition: Ready follows the end state, Reconciling marks work in
// flight, Stalled marks a saga that waits for a person.
func TestReadiness(t *testing.T) {
	type want struct{ Ready, Reconciling, Stalled metav1.ConditionStatus } // "" = absent
	transient := Outcome{Kind: Transient, Code: "TIMEOUT", Message: "no answer"}
	cases := map[string]struct {
		before v1.SagaStatus
		d      Decision
		out    Outcome
		want   want
		reason string
	}{
		"NotStarted": {
			d: Decision{Kind: KindWait}, want: want{metav1.ConditionUnknown, metav1.ConditionTrue, ""}, reason: v1.ReasonPending,
		},
		"Started": {
			d: Decision{Kind: KindStart}, want: want{metav1.ConditionUnknown, metav1.ConditionTrue, ""}, reason: v1.ReasonProgressing,
		},
		"Completed": {
			before: status(v1.PhaseRunning, append(okUpTo(""), ok(v1.StepSendNotification))...),
			d:      Decision{Kind: KindFinish, Phase: v1.PhaseCompleted, Reason: v1.ReasonCompleted, Message: "done"},
			want:   want{metav1.ConditionTrue, "", ""}, reason: v1.ReasonCompleted,
		},
		"CompensatedByDesignIsReady": {
			before: with(allCompensated(), func(st *v1.SagaStatus) {
				st.Failure = &v1.FailureStatus{Step: v1.StepProcessPayment, Reason: v1.ReasonPaymentDeclined, Message: "declined"}
			}),
			d:    Decision{Kind: KindFinish, Phase: v1.PhaseCompensated},
			want: want{metav1.ConditionTrue, "", ""}, reason: v1.ReasonPaymentDeclined,
		},
		"CompensationGaveUpIsStalled": {
			before: rollingBack(v1.StepProcessPayment, setComp(v1.StepReserveInventory, runningCall(5, t0))),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepReserveInventory, Compensate, 6, true)},
			out:    transient,
			want:   want{metav1.ConditionFalse, "", metav1.ConditionTrue}, reason: v1.ReasonCompensationExhausted,
		},
		"RedriveClearsStalled": {
			before: with(finished(v1.PhaseFailed), func(st *v1.SagaStatus) {
				Record(orderPlan(), st, Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepReserveInventory, Compensate, 6, true)}, transient, t0)
			}),
			d:    Decision{Kind: KindRedrive, RetryToken: "1"},
			want: want{metav1.ConditionUnknown, metav1.ConditionTrue, ""}, reason: v1.ReasonRedriven,
		},
		"InvalidSpecIsStalled": {
			d: Decision{Kind: KindHold, Message: "spec.items[0].unitPrice: bad"}, want: want{metav1.ConditionFalse, "", metav1.ConditionTrue},
			reason: v1.ReasonInvalidSpec,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := *tc.before.DeepCopy()
			Record(orderPlan(), &st, tc.d, tc.out, t0)
			got := want{statusOf(st.Conditions, v1.ConditionReady), statusOf(st.Conditions, v1.ConditionReconciling),
				statusOf(st.Conditions, v1.ConditionStalled)}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Ready, Reconciling, Stalled: -want, +got:\n%s", diff)
			}
			ready := findCondition(st.Conditions, v1.ConditionReady)
			succeeded := findCondition(st.Conditions, v1.ConditionSucceeded)
			if ready.Reason != tc.reason || succeeded == nil || ready.Message != succeeded.Message {
				t.Errorf("Ready = %+v, want reason %s and the message of Succeeded (%+v)", ready, tc.reason, succeeded)
			}
		})
	}
}

func statusOf(conds []metav1.Condition, typ string) metav1.ConditionStatus {
	if c := findCondition(conds, typ); c != nil {
		return c.Status
	}
	return ""
}
