package saga

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Fixtures shared by the engine's tests. A test changes a fixture only where it matters.

// t0 is the fake "now" of every table test.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

const testUID = "3f1c9a52-uid"

// testPolicy is the retry policy of the test view: small numbers keep tables readable.
var testPolicy = Policy{MaxAttempts: 3, InitialBackoff: time.Second, MaxBackoff: 8 * time.Second}

// testItems total 2 × 999.99 + 3 × 0.01 = 2000.01.
var testItems = []v1.OrderItem{
	{ProductID: "LAP-001", Quantity: 2, UnitPrice: "999.99"},
	{ProductID: "PEN-001", Quantity: 3, UnitPrice: "0.01"},
}

const testTotal = "2000.01"

// at is a status timestamp.
func at(t time.Time) *metav1.MicroTime {
	m := metav1.NewMicroTime(t)
	return &m
}

// viewOption changes one aspect of a test view.
type viewOption func(*View)

// view returns the view of a saga that has not started, changed by opts in order.
func view(opts ...viewOption) View {
	v := View{UID: testUID, Items: testItems, Policy: testPolicy}
	for _, o := range opts {
		o(&v)
	}
	return v
}

func withStatus(st v1.OrderSagaStatus) viewOption { return func(v *View) { v.Status = st } }
func deleting() viewOption                        { return func(v *View) { v.Deleting = true } }

// withStored sets the status the API server holds, when a reconcile has moved ahead of it.
func withStored(st v1.OrderSagaStatus) viewOption { return func(v *View) { v.Stored = &st } }
func suspended() viewOption                       { return func(v *View) { v.Suspend = true } }
func withRetry(token string) viewOption           { return func(v *View) { v.RetryRequest = token } }
func withPolicy(p Policy) viewOption              { return func(v *View) { v.Policy = p } }
func withTTL(d time.Duration) viewOption          { return func(v *View) { v.TTL = &d } }

// status returns a status in phase with all six steps, Pending unless overridden by steps.
func status(phase v1.Phase, steps ...v1.StepStatus) v1.OrderSagaStatus {
	st := v1.OrderSagaStatus{Phase: phase}
	for _, name := range Plan() {
		s := v1.StepStatus{Name: name, State: v1.StepPending}
		for _, o := range steps {
			if o.Name == name {
				s = o
			}
		}
		st.Steps = append(st.Steps, s)
	}
	return st
}

// statusOption changes one aspect of a test status.
type statusOption func(*v1.OrderSagaStatus)

func with(st v1.OrderSagaStatus, opts ...statusOption) v1.OrderSagaStatus {
	for _, o := range opts {
		o(&st)
	}
	return st
}

func orderID(id string) statusOption { return func(st *v1.OrderSagaStatus) { st.OrderID = id } }
func finishedAt(t time.Time) statusOption {
	return func(st *v1.OrderSagaStatus) { st.FinishedAt = at(t) }
}
func lastHandled(token string) statusOption {
	return func(st *v1.OrderSagaStatus) { st.LastHandledRetry = token }
}
func notice(c *v1.CallStatus) statusOption {
	return func(st *v1.OrderSagaStatus) { st.CancellationNotice = c }
}
func current(step v1.StepName) statusOption {
	return func(st *v1.OrderSagaStatus) { st.CurrentStep = step }
}

// ok is a step that succeeded on its first attempt.
func ok(name v1.StepName) v1.StepStatus {
	return v1.StepStatus{Name: name, State: v1.StepSucceeded, Attempts: 1, StartedAt: at(t0.Add(-time.Minute)), FinishedAt: at(t0.Add(-time.Minute))}
}

// okUpTo returns every step of the plan before stop, succeeded.
func okUpTo(stop v1.StepName) []v1.StepStatus {
	var out []v1.StepStatus
	for _, name := range Plan() {
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

// intent is a step whose next attempt, after attempts calls, is recorded as under way.
//
//nolint:unparam // the step is named so that a case reads like the status it describes; only the pivot is checkpointed today
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

// callFor is the call the engine is expected to make with testPolicy (or p): the key
// and backoff follow from the saga UID, the step, the direction and the attempt.
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

// stepsOf returns st.Steps with f applied to a copy of each.
func stepsOf(st v1.OrderSagaStatus, f func(s *v1.StepStatus)) []v1.StepStatus {
	out := make([]v1.StepStatus, len(st.Steps))
	for i, s := range st.Steps {
		f(&s)
		out[i] = s
	}
	return out
}
