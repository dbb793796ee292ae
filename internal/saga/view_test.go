package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

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

// TestDurationOr checks the timeouts and backoffs a plan is built from: a set duration,
// or the default when it is unset, zero or negative.
func TestDurationOr(t *testing.T) {
	cases := map[string]struct {
		reason string
		d      *metav1.Duration
		want   time.Duration
	}{
		"Default":  {reason: "Unset: the default.", want: DefaultStepTimeout},
		"Set":      {reason: "Set: as set.", d: &metav1.Duration{Duration: 250 * time.Millisecond}, want: 250 * time.Millisecond},
		"Zero":     {reason: "Zero: the default.", d: &metav1.Duration{}, want: DefaultStepTimeout},
		"Negative": {reason: "Negative: the default.", d: &metav1.Duration{Duration: -time.Second}, want: DefaultStepTimeout},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, DurationOr(tc.d, DefaultStepTimeout)); diff != "" {
				t.Errorf("\nReason: %s\nDurationOr(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestDecisionContinue(t *testing.T) {
	want := map[Kind]bool{KindStart: true, KindRollback: true, KindRedrive: true, KindFinish: true,
		KindCheckpoint: true, KindIgnoreAbandon: true, KindCall: false, KindWait: false, KindHold: false, KindDone: false,
		KindRelease: false, KindDelete: false, KindAbandon: false}
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

// TestPolicyOverride checks that a step's retry policy overrides only what it sets: a
// SagaDefinition step that names only maxAttempts keeps the saga's backoffs.
func TestPolicyOverride(t *testing.T) {
	d := func(x time.Duration) *metav1.Duration { return &metav1.Duration{Duration: x} }
	base := Policy{MaxAttempts: 2, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}
	cases := map[string]struct {
		reason string
		rp     *v1.RetryPolicy
		want   Policy
	}{
		"Nil":          {reason: "No override: the base.", want: base},
		"AttemptsOnly": {reason: "Only maxAttempts set: the base's backoffs stay.", rp: &v1.RetryPolicy{MaxAttempts: 7}, want: Policy{MaxAttempts: 7, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 400 * time.Millisecond}},
		"BackoffsOnly": {reason: "Only the backoffs set: the base's attempts stay.", rp: &v1.RetryPolicy{InitialBackoff: d(time.Second), MaxBackoff: d(time.Minute)}, want: Policy{MaxAttempts: 2, InitialBackoff: time.Second, MaxBackoff: time.Minute}},
		"Invalid":      {reason: "Zero or negative values keep the base's.", rp: &v1.RetryPolicy{MaxAttempts: -1, InitialBackoff: d(0), MaxBackoff: d(-time.Second)}, want: base},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, base.Override(tc.rp)); diff != "" {
				t.Errorf("\nReason: %s\nPolicy.Override(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
