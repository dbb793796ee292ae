package saga

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Fixtures shared by the engine's tests. A test changes a fixture only where it matters.
// The engine knows no business domain, so its tests bring their plans as data: the order
// saga's (orderPlan, the shape internal/ordersaga builds, which this package must not
// import) and a ticket sale of another shape (ticketPlan, in ticket_test.go).

// t0 is the fake "now" of every table test.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const testUID = "3f1c9a52-uid"

// testPolicy is the retry policy of every step of the test plans unless a case says
// otherwise: small numbers keep tables readable.
var testPolicy = Policy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: 8 * time.Second}

// notifyCancellation names the order plan's after-rollback call, the order-cancelled notice.
const notifyCancellation v1.StepName = "NotifyCancellation"

// orderPivot is the order plan's pivot.
const orderPivot = v1.StepConfirmOrder

// testTotal is the order total CreateOrder answers with, kept as one of its outputs.
const testTotal = "2000.01"

// orderPlan is the order saga's plan as internal/ordersaga builds it, with testPolicy on
// every step: four compensable steps, each naming the output that identifies what it
// holds; ConfirmOrder, the pivot; SendNotification, forward-only; and the order-cancelled
// notice after a rollback, sent only when CreateOrder kept an orderId. It has no fence
// (see fencedOrderPlan).
func orderPlan() *Plan {
	step := func(name v1.StepName, resource string) Step {
		return Step{Name: name, Compensable: resource != "", ResourceOutput: resource, Policy: testPolicy}
	}
	confirm, notify := step(v1.StepConfirmOrder, ""), step(v1.StepSendNotification, "")
	confirm.Pivot = true
	notify.ForwardOnly = true
	notify.FailedReason, notify.FailedMessage = v1.ReasonNotificationFailed, "order confirmed; the confirmation notice failed"
	return &Plan{
		Steps: []Step{
			step(v1.StepCreateOrder, "orderId"),
			step(v1.StepReserveInventory, "reservationId"),
			step(v1.StepProcessPayment, "paymentId"),
			step(v1.StepScheduleShipment, "shipmentId"),
			confirm,
			notify,
		},
		AfterRollback: &AfterRollback{
			Name:           notifyCancellation,
			RequiresOutput: OutputRef{Step: v1.StepCreateOrder, Key: "orderId"},
			Policy:         testPolicy,
		},
		Reasons: map[string]string{
			"OUT_OF_STOCK":            v1.ReasonOutOfStock,
			"UNKNOWN_PRODUCT":         v1.ReasonProductUnavailable,
			"PRODUCT_DISCONTINUED":    v1.ReasonProductUnavailable,
			"PAYMENT_DECLINED":        v1.ReasonPaymentDeclined,
			"UNSUPPORTED_DESTINATION": v1.ReasonUnsupportedDestination,
		},
		CompletedMessage: "order confirmed, paid and scheduled for shipment",
	}
}

// codeOrderConfirmed is the order service's refusal of the fence, the cancel of a
// confirmed order.
const codeOrderConfirmed = "ORDER_CONFIRMED"

// fencedOrderPlan is the order plan with the fence internal/ordersaga gives it (ADR
// 0011): the cancel of the order, refused once the order is confirmed. orderPlan leaves
// it out, so that most tables cover the checkpointed pivot (ADR 0001), as a plan without
// a fence runs; fence_test.go covers the fenced one.
func fencedOrderPlan() *Plan {
	p := orderPlan()
	p.Fence = &Fence{Step: v1.StepCreateOrder, PivotRan: []string{codeOrderConfirmed}}
	return p
}

// planOr returns p, or the order plan when a case names none.
func planOr(p *Plan) *Plan {
	if p == nil {
		return orderPlan()
	}
	return p
}

// namesOf lists the steps of p in plan order.
func namesOf(p *Plan) []v1.StepName {
	names := make([]v1.StepName, 0, len(p.Steps))
	for _, s := range p.Steps {
		names = append(names, s.Name)
	}
	return names
}

// withPolicyOn returns a copy of p whose every step, and the after-rollback call, has pol.
func withPolicyOn(p *Plan, pol Policy) *Plan {
	c := *p
	c.Steps = append([]Step(nil), p.Steps...)
	for i := range c.Steps {
		c.Steps[i].Policy = pol
	}
	if p.AfterRollback != nil {
		ar := *p.AfterRollback
		ar.Policy = pol
		c.AfterRollback = &ar
	}
	return &c
}

// at is a status timestamp.
func at(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t)
	return &m
}

// viewOption changes one aspect of a test view.
type viewOption func(*View)

// view returns the view of an order saga that has not started, changed by opts in order.
func view(opts ...viewOption) View {
	v := View{UID: testUID, Plan: orderPlan()}
	for _, o := range opts {
		o(&v)
	}
	return v
}

func withStatus(st v1.SagaStatus) viewOption { return func(v *View) { v.Status = st } }
func deleting() viewOption                   { return func(v *View) { v.Deleting = true } }

// withStored sets the status the API server holds, when a reconcile has moved ahead of it.
func withStored(st v1.SagaStatus) viewOption { return func(v *View) { v.Stored = &st } }
func suspended() viewOption                  { return func(v *View) { v.Suspend = true } }
func withRetry(token string) viewOption      { return func(v *View) { v.RetryRequest = token } }
func withTTL(d time.Duration) viewOption     { return func(v *View) { v.TTL = &d } }
func withPlan(p *Plan) viewOption            { return func(v *View) { v.Plan = p } }
func withInvalid(why string) viewOption      { return func(v *View) { v.Invalid = why } }

// withPolicy gives every step of the view's plan, and its after-rollback call, policy p.
func withPolicy(p Policy) viewOption { return func(v *View) { v.Plan = withPolicyOn(v.Plan, p) } }

// status returns an order saga status in phase with all six steps, Pending unless
// overridden by steps.
func status(phase v1.Phase, steps ...v1.StepStatus) v1.SagaStatus {
	return statusOn(orderPlan(), phase, steps...)
}

// statusOn returns a status in phase with every step of p, Pending unless overridden by steps.
func statusOn(p *Plan, phase v1.Phase, steps ...v1.StepStatus) v1.SagaStatus {
	st := v1.SagaStatus{Phase: phase}
	for _, name := range namesOf(p) {
		s := v1.StepStatus{Name: name, State: v1.StepPending}
		for _, o := range steps {
			if o.Name == name {
				s = o
			}
		}
		st.Steps = append(st.Steps, v1.SagaStepStatus{StepStatus: s})
	}
	return st
}

// sagaSteps wraps step records, without outputs, as status entries.
func sagaSteps(steps ...v1.StepStatus) []v1.SagaStepStatus {
	out := make([]v1.SagaStepStatus, 0, len(steps))
	for _, s := range steps {
		out = append(out, v1.SagaStepStatus{StepStatus: s})
	}
	return out
}

// statusOption changes one aspect of a test status.
type statusOption func(*v1.SagaStatus)

// with returns a copy of st changed by opts: outputs are maps, so a case that changes
// them must not change the status another case was built from.
func with(st v1.SagaStatus, opts ...statusOption) v1.SagaStatus {
	st = *st.DeepCopy()
	for _, o := range opts {
		o(&st)
	}
	return st
}

// output sets one output of step (an empty value removes it).
func output(step v1.StepName, key, value string) statusOption {
	return func(st *v1.SagaStatus) {
		for i := range st.Steps {
			s := &st.Steps[i]
			if s.Name != step {
				continue
			}
			switch {
			case value != "" && s.Outputs == nil:
				s.Outputs = map[string]string{key: value}
			case value != "":
				s.Outputs[key] = value
			default:
				delete(s.Outputs, key)
				if len(s.Outputs) == 0 {
					s.Outputs = nil
				}
			}
		}
	}
}

// orderID sets the orderId that CreateOrder kept, which the cancellation notice requires.
func orderID(id string) statusOption { return output(v1.StepCreateOrder, "orderId", id) }

func finishedAt(t time.Time) statusOption {
	return func(st *v1.SagaStatus) { st.FinishedAt = at(t) }
}
func lastHandled(token string) statusOption {
	return func(st *v1.SagaStatus) { st.LastHandledRetry = token }
}

// onRollback sets the record of the after-rollback call (the order plan's notice).
func onRollback(c *v1.CallStatus) statusOption {
	return func(st *v1.SagaStatus) { st.OnRollback = c }
}
func current(step v1.StepName) statusOption {
	return func(st *v1.SagaStatus) { st.CurrentStep = step }
}

// ok is a step that succeeded on its first attempt.
func ok(name v1.StepName) v1.StepStatus {
	return v1.StepStatus{Name: name, State: v1.StepSucceeded, Attempts: 1, StartedAt: at(t0.Add(-time.Minute)), FinishedAt: at(t0.Add(-time.Minute))}
}

// okUpTo returns every step of the order plan before stop, succeeded.
func okUpTo(stop v1.StepName) []v1.StepStatus { return okUpToOn(orderPlan(), stop) }

// okUpToOn returns every step of p before stop, succeeded.
func okUpToOn(p *Plan, stop v1.StepName) []v1.StepStatus {
	var out []v1.StepStatus
	for _, name := range namesOf(p) {
		if name == stop {
			break
		}
		out = append(out, ok(name))
	}
	return out
}

// retrying is a step that failed transiently attempts times and waits until next.
func retrying(name v1.StepName, attempts int32, next time.Time) v1.StepStatus {
	return v1.StepStatus{Name: name, State: v1.StepRunning, Attempts: attempts, StartedAt: at(t0.Add(-time.Minute)),
		NextAttemptAt: at(next), LastError: "HTTP_503: Service Unavailable"}
}

// failed is a step that failed for good after attempts calls with lastError.
func failed(name v1.StepName, attempts int32, lastError string) v1.StepStatus {
	return v1.StepStatus{Name: name, State: v1.StepFailed, Attempts: attempts, StartedAt: at(t0.Add(-time.Minute)),
		FinishedAt: at(t0.Add(-time.Second)), LastError: lastError}
}

// intent is a step whose next attempt, after attempts calls, is recorded as under way.
func intent(name v1.StepName, attempts int32) v1.StepStatus {
	return v1.StepStatus{Name: name, State: v1.StepRunning, Attempts: attempts, StartedAt: at(t0.Add(-time.Minute))}
}

// compensated returns step s with a compensation call in state cs.
func compensated(s v1.StepStatus, cs *v1.CallStatus) v1.StepStatus {
	s.Compensation = cs
	if cs != nil && cs.State == v1.CallSucceeded {
		s.State = v1.StepCompensated
	}
	return s
}

func pendingCall() *v1.CallStatus { return &v1.CallStatus{State: v1.CallPending} }
func doneCall() *v1.CallStatus {
	return &v1.CallStatus{State: v1.CallSucceeded, Attempts: 1, StartedAt: at(t0.Add(-time.Second)), FinishedAt: at(t0.Add(-time.Second))}
}
func runningCall(attempts int32, next time.Time) *v1.CallStatus {
	return &v1.CallStatus{State: v1.CallRunning, Attempts: attempts, StartedAt: at(t0.Add(-time.Minute)), NextAttemptAt: at(next),
		LastError: "TIMEOUT: no answer within stepTimeout"}
}
func failedCall(attempts int32) *v1.CallStatus {
	return &v1.CallStatus{State: v1.CallFailed, Attempts: attempts, StartedAt: at(t0.Add(-time.Hour)), FinishedAt: at(t0.Add(-time.Minute)),
		LastError: "TIMEOUT: no answer within stepTimeout"}
}

// callFor is the call the engine is expected to make with policy p: the key and backoff
// follow from the saga UID, the step, the direction and the attempt.
func callFor(p Policy, step v1.StepName, dir Direction, attempt int32, final bool) *Call {
	key := testUID + "/" + string(step) + "/" + string(dir)
	return &Call{Step: step, Direction: dir, Attempt: attempt, Key: key, Final: final,
		RetryAfter: Backoff(p.InitialBackoff, p.MaxBackoff, attempt, key)}
}

// cond is a condition as Record writes it at t0.
func cond(typ string, s metav1.ConditionStatus, reason, msg string) metav1.Condition {
	return metav1.Condition{Type: typ, Status: s, Reason: reason, Message: msg, LastTransitionTime: metav1.NewTime(t0)}
}

func succeededCond(s metav1.ConditionStatus, reason, msg string) []metav1.Condition {
	return []metav1.Condition{cond(v1.ConditionSucceeded, s, reason, msg)}
}

// stepsOf returns st.Steps with f applied to a copy of each step's record.
func stepsOf(st v1.SagaStatus, f func(s *v1.StepStatus)) []v1.SagaStepStatus {
	out := make([]v1.SagaStepStatus, len(st.Steps))
	for i, s := range st.Steps {
		f(&s.StepStatus)
		out[i] = s
	}
	return out
}

// attempts sets status.attempts, the calls made for the current step.
func attempts(n int32) statusOption { return func(st *v1.SagaStatus) { st.Attempts = n } }

// nextCase is one case of a Next table: the view, the decision wanted, and why.
type nextCase struct {
	reason string
	view   View
	want   Decision
}

// runNextCases runs Next at t0 for every case and compares the decision.
func runNextCases(t *testing.T, cases map[string]nextCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, Next(tc.view, t0)); diff != "" {
				t.Errorf("\nReason: %s\nNext(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
