package saga

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Reasons, truncation and the bounds of status: what keeps the status write from being
// refused by the API server, whatever the services answer.

// TestReasonFor checks the reason a step's failure gives: the plan's reason for the
// service's code, StepRejected for a code the plan does not list, RetriesExhausted for a
// transient failure. The codes are the plan's data, not the engine's: the same code gives
// different reasons on the two plans.
func TestReasonFor(t *testing.T) {
	cases := map[string]struct {
		reason string
		plan   *Plan
		out    Outcome
		want   string
	}{
		"OutOfStock":          {reason: "Stock ran out.", out: Outcome{Kind: BusinessFailure, Code: "OUT_OF_STOCK"}, want: v1.ReasonOutOfStock},
		"UnknownProduct":      {reason: "Unknown product.", out: Outcome{Kind: BusinessFailure, Code: "UNKNOWN_PRODUCT"}, want: v1.ReasonProductUnavailable},
		"DiscontinuedProduct": {reason: "Discontinued product.", out: Outcome{Kind: BusinessFailure, Code: "PRODUCT_DISCONTINUED"}, want: v1.ReasonProductUnavailable},
		"PaymentDeclined":     {reason: "Declined charge.", out: Outcome{Kind: BusinessFailure, Code: "PAYMENT_DECLINED"}, want: v1.ReasonPaymentDeclined},
		"Destination":         {reason: "No delivery there.", out: Outcome{Kind: BusinessFailure, Code: "UNSUPPORTED_DESTINATION"}, want: v1.ReasonUnsupportedDestination},
		"OtherBusinessCode":   {reason: "Any other refusal.", out: Outcome{Kind: BusinessFailure, Code: "HTTP_422"}, want: v1.ReasonStepRejected},
		"Transient":           {reason: "A transient failure that gave up, whatever its code.", out: Outcome{Kind: Transient, Code: "OUT_OF_STOCK"}, want: v1.ReasonRetriesExhausted},
		"TicketPlanCode": {reason: "The ticket plan names its own reason for its own code.", plan: ticketPlan(),
			out: Outcome{Kind: BusinessFailure, Code: "SOLD_OUT"}, want: reasonSoldOut},
		"TicketPlanIgnoresOrderCodes": {reason: "A code another plan knows is just a refusal on a plan that does not list it.", plan: ticketPlan(),
			out: Outcome{Kind: BusinessFailure, Code: "OUT_OF_STOCK"}, want: v1.ReasonStepRejected},
		"TicketPlanTransient": {reason: "Giving up on transient failures is RetriesExhausted on every plan.", plan: ticketPlan(),
			out: Outcome{Kind: Transient, Code: "SOLD_OUT"}, want: v1.ReasonRetriesExhausted},
		"PlanWithoutReasons": {reason: "A plan with no reasons at all gives StepRejected.", plan: &Plan{Steps: []Step{{Name: "A"}}},
			out: Outcome{Kind: BusinessFailure, Code: "OUT_OF_STOCK"}, want: v1.ReasonStepRejected},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := planOr(tc.plan)
			if diff := cmp.Diff(tc.want, p.reasonFor(tc.out)); diff != "" {
				t.Errorf("\nReason: %s\nReasonFor(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	cases := map[string]struct {
		reason string
		s      string
		max    int
		want   string
	}{
		"Short":            {reason: "A string that fits is kept.", s: "HTTP_503", max: 512, want: "HTTP_503"},
		"Exact":            {reason: "A string of exactly max bytes is kept.", s: strings.Repeat("a", 512), max: 512, want: strings.Repeat("a", 512)},
		"ASCII":            {reason: "A long ASCII string keeps max-3 bytes and an ellipsis.", s: strings.Repeat("a", 600), max: 512, want: strings.Repeat("a", 509) + "…"},
		"TwoByteBoundary":  {reason: "A 2-byte rune across the cut is dropped whole.", s: "a" + strings.Repeat("é", 10), max: 10, want: "a" + strings.Repeat("é", 3) + "…"},
		"ThreeByteRunes":   {reason: "3-byte runes are never split.", s: strings.Repeat("€", 10), max: 10, want: strings.Repeat("€", 2) + "…"},
		"FourByteRunes":    {reason: "4-byte runes are never split.", s: strings.Repeat("🛒", 5), max: 10, want: "🛒…"},
		"OnlyEllipsisFits": {reason: "With room for the ellipsis only, the ellipsis.", s: "abcdef", max: 3, want: "…"},
		"TinyMax":          {reason: "A bound below the ellipsis's 3 bytes must not panic and must still hold.", s: "abcdef", max: 2, want: "ab"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var got string
			func() {
				defer func() {
					if r := recover(); r != nil {
						got = fmt.Sprintf("panic: %v", r)
					}
				}()
				got = Truncate(tc.s, tc.max)
			}()
			diff := cmp.Diff(tc.want, got)
			if diff != "" {
				t.Errorf("\nReason: %s\nTruncate(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestRecordBoundsStatus checks the contract "status size is bounded whatever a service
// answers": every text Record writes stays within the CRD's maxLength, so that the status
// write is never refused by the API server.
func TestRecordBoundsStatus(t *testing.T) {
	long := strings.Repeat("x", 2000)
	cases := map[string]struct {
		reason string
		plan   *Plan
		before v1.SagaStatus
		d      Decision
		out    Outcome
	}{
		"LongMessageOnTransientFailure": {
			reason: "A long service message is cut in lastError and the condition.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Transient, Code: "HTTP_503", Message: long},
		},
		"LongMessageOnBusinessFailure": {
			reason: "A long refusal is cut in lastError, failure.message and message.",
			before: status(v1.PhaseRunning, okUpTo(v1.StepProcessPayment)...),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: "PAYMENT_DECLINED", Message: long},
		},
		"LongMessageOnCompensationExhausted": {
			reason: "A long message of a compensation that gave up is cut.",
			before: rollingBack(v1.StepProcessPayment),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 6, true)},
			out:    Outcome{Kind: Transient, Code: "HTTP_500", Message: long},
		},
		"LongCodeOnTransientStepFailure": {
			reason: "The error code comes from the service's JSON body; a long one must not push status.message past 1024.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Transient, Code: long, Message: "boom"},
		},
		"LongCodeOnTransientCompensationFailure": {
			reason: "Same for a compensation that will be retried.",
			before: rollingBack(v1.StepProcessPayment),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 1, false)},
			out:    Outcome{Kind: Transient, Code: long, Message: "boom"},
		},
		"LongRetryAnnotation": {
			reason: "The retry annotation may hold any value; lastHandledRetry has maxLength 256.",
			before: finished(v1.PhaseFailed, setComp(v1.StepProcessPayment, failedCall(6))),
			d:      Decision{Kind: KindRedrive, RetryToken: strings.Repeat("r", 300)},
		},
		"ManyLongOutputsOnSuccess": {
			reason: "A service may answer with any number of outputs of any length; a step keeps 16, each within 256 bytes.",
			before: status(v1.PhaseRunning),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepCreateOrder, Action, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: manyOutputs(40, long)},
		},
		"ManyLongOutputsOnCompensation": {
			reason: "The outputs of a compensation's answer are bounded the same way.",
			before: rollingBack(v1.StepProcessPayment),
			d:      Decision{Kind: KindCall, Call: callFor(testPolicy, v1.StepProcessPayment, Compensate, 1, false)},
			out:    Outcome{Kind: Succeeded, Outputs: manyOutputs(40, long)},
		},
		"LongMessageOnTicketPlanStepAfterThePivot": {
			reason: "A step after the pivot that is retried without limit still bounds what it records.",
			plan:   ticketPlan(),
			before: statusOn(ticketPlan(), v1.PhaseRunning, okUpToOn(ticketPlan(), stepEmailTicket)...),
			d:      Decision{Kind: KindCall, Call: callFor(fastPolicy, stepEmailTicket, Action, 1, false)},
			out:    Outcome{Kind: BusinessFailure, Code: long, Message: long},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := planOr(tc.plan)
			st := *tc.before.DeepCopy()
			Record(p, &st, tc.d, tc.out, t0)
			problems := statusBoundViolations(p, st)
			for _, p := range problems {
				t.Errorf("\nReason: %s\n%s", tc.reason, p)
			}
		})
	}
}

// manyOutputs returns n outputs, each value the given text.
func manyOutputs(n int, value string) map[string]string {
	out := map[string]string{}
	for i := range n {
		out[fmt.Sprintf("output%02d", i)] = value
	}
	return out
}

// statusBoundViolations lists every text of st longer than the CRD allows, or not valid
// UTF-8 after truncation, and every list longer than its bound, for a saga that runs p.
func statusBoundViolations(p *Plan, st v1.SagaStatus) []string {
	var out []string
	check := func(what, s string, limit int) {
		if len(s) > limit {
			out = append(out, fmt.Sprintf("%s is %d bytes, want at most %d", what, len(s), limit))
		}
		if !utf8.ValidString(s) {
			out = append(out, what+" is not valid UTF-8")
		}
	}
	check("status.message", st.Message, 1024)
	check("status.lastHandledRetry", st.LastHandledRetry, 256)
	if len(st.Steps) > len(p.Steps) || len(st.Steps) > v1.MaxSteps {
		out = append(out, fmt.Sprintf("status.steps has %d entries, want at most the plan's %d", len(st.Steps), len(p.Steps)))
	}
	for _, s := range st.Steps {
		if _, known := p.Step(s.Name); !known {
			out = append(out, fmt.Sprintf("status.steps has an entry %q for no step of the plan", s.Name))
		}
		check("steps["+string(s.Name)+"].lastError", s.LastError, v1.MaxErrorLength)
		if s.Compensation != nil {
			check("steps["+string(s.Name)+"].compensation.lastError", s.Compensation.LastError, v1.MaxErrorLength)
		}
		if len(s.Outputs) > v1.MaxOutputs {
			out = append(out, fmt.Sprintf("steps[%s].outputs has %d names, want at most %d", s.Name, len(s.Outputs), v1.MaxOutputs))
		}
		for name, value := range s.Outputs {
			check("steps["+string(s.Name)+"].outputs["+name+"]", value, v1.MaxOutputLength)
		}
	}
	if st.OnRollback != nil {
		check("onRollback.lastError", st.OnRollback.LastError, v1.MaxErrorLength)
	}
	if st.Failure != nil {
		check("failure.message", st.Failure.Message, 512)
		check("failure.reason", st.Failure.Reason, 64)
	}
	for _, c := range st.Conditions {
		check("conditions["+c.Type+"].message", c.Message, 32768)
		check("conditions["+c.Type+"].reason", c.Reason, 1024)
	}
	return out
}

// TestRedriveIsHandledOnce checks that a retry annotation re-drives a Failed saga once:
// after the re-driven compensation gives up again, the same annotation value does nothing.
func TestRedriveIsHandledOnce(t *testing.T) {
	cases := map[string]struct {
		reason string
		token  string
	}{
		"ShortToken": {reason: "A timestamp, as the docs suggest.", token: "2026-11-28T13:00:00Z"},
		"LongToken": {reason: "Any value is allowed by the annotation; the status field is bounded to 256.",
			token: strings.Repeat("r", 300)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			v := view(withRetry(tc.token), withStatus(finished(v1.PhaseFailed, setComp(v1.StepProcessPayment, failedCall(6)))))
			d := Next(v, t0)
			if d.Kind != KindRedrive {
				t.Fatalf("Next(Failed + new annotation).Kind = %s, want %s", d.Kind, KindRedrive)
			}
			Record(v.Plan, &v.Status, d, Outcome{}, t0)
			problems := statusBoundViolations(v.Plan, v.Status)
			// The re-driven compensation gives up again.
			v.Status.Phase = v1.PhaseFailed
			if got := Next(v, t0.Add(time.Minute)); got.Kind != KindDone {
				problems = append(problems, fmt.Sprintf("Next(Failed, same annotation).Kind = %s, want %s", got.Kind, KindDone))
			}
			for _, p := range problems {
				t.Errorf("\nReason: %s\n%s", tc.reason, p)
			}
		})
	}
}

// TestBackoffSurvivesStatusWrite checks that the backoff Record decides is the backoff
// Next applies after the status went through the API server. metav1.Time is written to
// JSON with whole seconds, so nextAttemptAt must not be one (it is a MicroTime now), or a
// retry decided at 12:00:00.999 for 12:00:01.9 would be stored as 12:00:01 and fire at once.
func TestBackoffSurvivesStatusWrite(t *testing.T) {
	now := t0.Add(999 * time.Millisecond) // the failure happens just before a whole second
	cases := map[string]struct {
		reason string
		before v1.SagaStatus
		call   *Call
	}{
		"Step": {
			reason: "A step's transient failure waits about RetryAfter, also after a status round trip.",
			before: status(v1.PhaseRunning),
			call:   callFor(testPolicy, v1.StepCreateOrder, Action, 1, false),
		},
		"Compensation": {
			reason: "A compensation's transient failure waits about RetryAfter, also after a status round trip.",
			before: rollingBack(v1.StepProcessPayment),
			call:   callFor(testPolicy, v1.StepProcessPayment, Compensate, 1, false),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			st := *tc.before.DeepCopy()
			Record(orderPlan(), &st, Decision{Kind: KindCall, Call: tc.call}, Outcome{Kind: Transient, Code: "TIMEOUT"}, now)
			raw, err := json.Marshal(st)
			if err != nil {
				t.Fatal(err)
			}
			var stored v1.SagaStatus
			if err := json.Unmarshal(raw, &stored); err != nil {
				t.Fatal(err)
			}
			// The status write itself triggers a reconcile a few milliseconds later.
			later := now.Add(5 * time.Millisecond)
			d := Next(view(withStatus(stored)), later)
			// Storage may round to the millisecond at worst; whole seconds would eat the backoff.
			minWait := tc.call.RetryAfter - 5*time.Millisecond - time.Millisecond
			if d.Kind != KindWait || d.Wait < minWait || d.Wait > tc.call.RetryAfter {
				t.Errorf("\nReason: %s\nafter a status round trip Next(...) = {Kind: %s, Wait: %s}, want Wait within [%s, %s] "+
					"(RetryAfter %s decided at %s; nextAttemptAt stored as %s)", tc.reason, d.Kind, d.Wait, minWait, tc.call.RetryAfter,
					tc.call.RetryAfter, now.Format(time.RFC3339Nano), raw)
			}
		})
	}
}

// TestInvalidSpecIsVisible checks that a saga that can never start says why in its
// status (house style rule 6: a spec that can never run gets a condition).
func TestInvalidSpecIsVisible(t *testing.T) {
	v := view(withInvalid(`items[0].unitPrice: parse amount "1.999": want digits with at most two decimals`))
	d := Next(v, t0)
	Record(v.Plan, &v.Status, d, Outcome{}, t0)
	if d.Kind != KindHold || d.Message == "" {
		t.Fatalf("Next(invalid spec) = %+v, want a Hold that says why", d)
	}
	visible := strings.Contains(v.Status.Message, d.Message)
	for _, c := range v.Status.Conditions {
		visible = visible || (c.Type == v1.ConditionSucceeded && c.Status == metav1.ConditionFalse && strings.Contains(c.Message, d.Message))
	}
	if !visible || v.Status.Phase != v1.PhasePending {
		t.Errorf("Record(Hold with a message) left phase %q, message %q and conditions %v; want a Pending saga with %q "+
			"in status.message or a Succeeded=False condition", v.Status.Phase, v.Status.Message, v.Status.Conditions, d.Message)
	}
}
