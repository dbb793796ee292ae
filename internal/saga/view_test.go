package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

func TestViewOf(t *testing.T) {
	ttl := 30 * time.Second
	withUID := func(s *v1.OrderSaga) { s.UID = types.UID(testUID) }
	deleted := func(s *v1.OrderSaga) { s.DeletionTimestamp = &metav1.Time{Time: t0} }
	runningStatus := func(s *v1.OrderSaga) { s.Status = status(v1.PhaseRunning, ok(v1.StepCreateOrder)) }
	defaults := Policy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}
	items := []v1.OrderItem{testgen.Item(testgen.DefaultProductID, 1, testgen.DefaultUnitPrice)}
	cases := map[string]struct {
		reason string
		obj    *v1.OrderSaga
		want   View
	}{
		"Defaults": {
			reason: "A saga without retryPolicy gets the defaults; no TTL, not deleting, no retry request.",
			obj:    testgen.OrderSaga("o-1", withUID),
			want:   View{UID: testUID, Items: items, Policy: defaults},
		},
		"Everything": {
			reason: "Policy, suspend, TTL, deletion, the retry annotation and the status are all seen.",
			obj: testgen.OrderSaga("o-1", withUID, deleted, runningStatus, testgen.WithSuspend(true), testgen.WithTTL(30),
				testgen.WithRetryPolicy(7, 2*time.Second, 3*time.Minute),
				testgen.WithAnnotations(map[string]string{v1.RetryAnnotation: "2026-11-28"})),
			want: View{UID: testUID, Items: items, Suspend: true, TTL: &ttl, Deleting: true, RetryRequest: "2026-11-28",
				Policy: Policy{MaxAttempts: 7, InitialBackoff: 2 * time.Second, MaxBackoff: 3 * time.Minute},
				Status: status(v1.PhaseRunning, ok(v1.StepCreateOrder))},
		},
		"ZeroTTL": {
			reason: "ttlSecondsAfterFinished: 0 is a TTL of zero, not no TTL.",
			obj:    testgen.OrderSaga("o-1", withUID, testgen.WithTTL(0)),
			want:   View{UID: testUID, Items: items, Policy: defaults, TTL: new(time.Duration)},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, ViewOf(tc.obj)); diff != "" {
				t.Errorf("\nReason: %s\nViewOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPolicyOf(t *testing.T) {
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	cases := map[string]struct {
		reason string
		rp     *v1.RetryPolicy
		want   Policy
	}{
		"Nil":     {reason: "No policy: defaults.", rp: nil, want: Policy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Minute}},
		"Empty":   {reason: "Empty policy: defaults.", rp: &v1.RetryPolicy{}, want: Policy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Minute}},
		"Set":     {reason: "Set values win.", rp: &v1.RetryPolicy{MaxAttempts: 2, InitialBackoff: d(time.Millisecond), MaxBackoff: d(time.Hour)}, want: Policy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Hour}},
		"Invalid": {reason: "Zero or negative values fall back to the defaults.", rp: &v1.RetryPolicy{MaxAttempts: -1, InitialBackoff: d(0), MaxBackoff: d(-time.Second)}, want: Policy{MaxAttempts: 5, InitialBackoff: time.Second, MaxBackoff: time.Minute}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, PolicyOf(tc.rp)); diff != "" {
				t.Errorf("\nReason: %s\nPolicyOf(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestStepTimeout(t *testing.T) {
	cases := map[string]struct {
		reason string
		spec   v1.OrderSagaSpec
		want   time.Duration
	}{
		"Default": {reason: "Unset: 10s.", want: 10 * time.Second},
		"Set":     {reason: "Set: as set.", spec: v1.OrderSagaSpec{StepTimeout: &metav1.Duration{Duration: 250 * time.Millisecond}}, want: 250 * time.Millisecond},
		"Zero":    {reason: "Zero: the default.", spec: v1.OrderSagaSpec{StepTimeout: &metav1.Duration{}}, want: 10 * time.Second},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, StepTimeout(&tc.spec)); diff != "" {
				t.Errorf("\nReason: %s\nStepTimeout(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDecisionContinue(t *testing.T) {
	want := map[Kind]bool{KindStart: true, KindRollback: true, KindRedrive: true, KindFinish: true,
		KindCheckpoint: true, KindCall: false, KindWait: false, KindHold: false, KindDone: false, KindRelease: false, KindDelete: false}
	got := map[Kind]bool{}
	for k := range want {
		got[k] = Decision{Kind: k}.Continue()
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Decision.Continue() by kind: -want, +got:\n%s", diff)
	}
}

func TestOutcomeError(t *testing.T) {
	cases := map[string]struct {
		reason string
		out    Outcome
		want   string
	}{
		"CodeAndMessage": {reason: "CODE: message.", out: Outcome{Code: "OUT_OF_STOCK", Message: "LAP-001: 0 left"}, want: "OUT_OF_STOCK: LAP-001: 0 left"},
		"CodeOnly":       {reason: "No message: the code.", out: Outcome{Code: "TIMEOUT"}, want: "TIMEOUT"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, tc.out.Failure()); diff != "" {
				t.Errorf("\nReason: %s\nOutcome.Failure(): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPlan(t *testing.T) {
	want := [6]v1.StepName{v1.StepCreateOrder, v1.StepReserveInventory, v1.StepProcessPayment, v1.StepScheduleShipment,
		v1.StepConfirmOrder, v1.StepSendNotification}
	if diff := cmp.Diff(want, Plan()); diff != "" {
		t.Errorf("Plan(): -want, +got:\n%s", diff)
	}
	compensable := map[v1.StepName]bool{}
	for _, s := range append(want[:], NotifyCancellation) {
		compensable[s] = Compensable(s)
	}
	wantComp := map[v1.StepName]bool{v1.StepCreateOrder: true, v1.StepReserveInventory: true, v1.StepProcessPayment: true,
		v1.StepScheduleShipment: true, v1.StepConfirmOrder: false, v1.StepSendNotification: false, NotifyCancellation: false}
	if diff := cmp.Diff(wantComp, compensable); diff != "" {
		t.Errorf("Compensable(...): -want, +got:\n%s", diff)
	}
}
