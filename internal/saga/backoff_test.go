package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestBackoff(t *testing.T) {
	const seed = "3f1c9a52-uid/ReserveInventory/action"
	type want struct {
		// nominal is initial·2^(attempt-1) capped at max: Backoff is within [80%, 100%] of it.
		nominal time.Duration
	}
	cases := map[string]struct {
		reason  string
		initial time.Duration
		max     time.Duration
		attempt int32
		want    want
	}{
		"FirstAttempt":      {reason: "After the first failure: initial.", initial: time.Second, max: time.Minute, attempt: 1, want: want{time.Second}},
		"SecondAttempt":     {reason: "Doubles.", initial: time.Second, max: time.Minute, attempt: 2, want: want{2 * time.Second}},
		"ThirdAttempt":      {reason: "Doubles again.", initial: time.Second, max: time.Minute, attempt: 3, want: want{4 * time.Second}},
		"SixthAttempt":      {reason: "2^5 = 32.", initial: time.Second, max: time.Minute, attempt: 6, want: want{32 * time.Second}},
		"Capped":            {reason: "2^6 s = 64s is capped at maxBackoff.", initial: time.Second, max: time.Minute, attempt: 7, want: want{time.Minute}},
		"CappedFarOut":      {reason: "Large attempts stay at the cap and do not overflow.", initial: time.Second, max: time.Minute, attempt: 1 << 30, want: want{time.Minute}},
		"InitialAboveMax":   {reason: "An initial backoff above the cap is capped.", initial: 2 * time.Minute, max: time.Minute, attempt: 1, want: want{time.Minute}},
		"ZeroAttempt":       {reason: "Attempt < 1 counts as 1.", initial: time.Second, max: time.Minute, attempt: 0, want: want{time.Second}},
		"NegativeAttempt":   {reason: "Attempt < 1 counts as 1.", initial: time.Second, max: time.Minute, attempt: -3, want: want{time.Second}},
		"Milliseconds":      {reason: "Sub-second policies work.", initial: time.Millisecond, max: 5 * time.Millisecond, attempt: 3, want: want{4 * time.Millisecond}},
		"MillisecondsCap":   {reason: "Sub-second policies are capped.", initial: time.Millisecond, max: 5 * time.Millisecond, attempt: 4, want: want{5 * time.Millisecond}},
		"HourCapMaxAllowed": {reason: "The largest policy the CRD allows.", initial: time.Hour, max: time.Hour, attempt: 100, want: want{time.Hour}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := Backoff(tc.initial, tc.max, tc.attempt, seed)
			if low := tc.want.nominal * 8 / 10; got < low || got > tc.want.nominal {
				t.Errorf("\nReason: %s\nBackoff(%s, %s, %d, ...) = %s, want within [%s, %s]",
					tc.reason, tc.initial, tc.max, tc.attempt, got, low, tc.want.nominal)
			}
			if again := Backoff(tc.initial, tc.max, tc.attempt, seed); again != got {
				t.Errorf("\nReason: %s\nBackoff is not deterministic: %s then %s", tc.reason, got, again)
			}
		})
	}
}

// TestBackoffJitter checks the jitter over many seeds: always within [80%, 100%] of the
// nominal delay, deterministic per seed, and actually spread (sagas that failed together
// do not come back together).
func TestBackoffJitter(t *testing.T) {
	seen := map[time.Duration]bool{}
	var lo, hi time.Duration = time.Hour, 0
	for i := range 1000 {
		seed := Key(string(rune('a'+i%26))+time.Duration(i).String(), "ProcessPayment", Compensate)
		d := Backoff(10*time.Second, time.Minute, 1, seed)
		if d < 8*time.Second || d > 10*time.Second {
			t.Fatalf("Backoff(10s, 1m, 1, %q) = %s, want within [8s, 10s]", seed, d)
		}
		if d != Backoff(10*time.Second, time.Minute, 1, seed) {
			t.Fatalf("Backoff(..., %q) differs between two calls", seed)
		}
		seen[d] = true
		lo, hi = min(lo, d), max(hi, d)
	}
	if len(seen) < 900 {
		t.Errorf("1000 seeds gave %d distinct delays, want at least 900", len(seen))
	}
	if hi-lo < 1500*time.Millisecond {
		t.Errorf("1000 seeds spread over [%s, %s], want a spread of at least 1.5s of the 2s jitter window", lo, hi)
	}
	// The attempt takes part in the draw: successive attempts are not jittered alike.
	ratios := map[float64]bool{}
	for attempt := int32(1); attempt <= 5; attempt++ {
		nominal := time.Second << (attempt - 1)
		ratios[float64(Backoff(time.Second, time.Hour, attempt, "seed"))/float64(nominal)] = true
	}
	if diff := cmp.Diff(5, len(ratios)); diff != "" {
		t.Errorf("distinct jitter ratios over 5 attempts: -want, +got:\n%s", diff)
	}
}
