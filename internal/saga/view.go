package saga

import (
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Defaults of spec fields, for objects that reach the engine without API server
// defaulting (unit tests, or a CRD installed without defaults).
const (
	DefaultMaxAttempts    = 5
	DefaultInitialBackoff = time.Second
	DefaultMaxBackoff     = time.Minute
	DefaultStepTimeout    = 10 * time.Second
)

// CompensationAttemptsFactor multiplies retryPolicy.maxAttempts for compensations: an
// undo is worth more patience than a step, because giving up leaves its effect behind.
const CompensationAttemptsFactor = 2

// View is everything the engine looks at: the saga's identity and plan, the parts of its
// spec that steer the run, its status, and whether it is being deleted.
type View struct {
	UID      string
	Plan     *Plan
	Suspend  bool
	TTL      *time.Duration
	Deleting bool
	// Invalid, when set, says why the saga's spec cannot be run (only objects that
	// bypassed validation, or a Saga whose input or definition is wrong): it is held, and
	// no call is made.
	Invalid string
	// RetryRequest is the value of the retry annotation, if any.
	RetryRequest string
	// AbandonRequest is the value of the abandon annotation, if any.
	AbandonRequest string
	Status         v1.SagaStatus
	// Stored is the status as the API server last stored it, which is what survives a
	// lost write or a crash; Status may be ahead of it within a reconcile. Nil means
	// Status is stored.
	Stored *v1.SagaStatus
}

// durable is the status that a lost write cannot take back.
func (v *View) durable() *v1.SagaStatus {
	if v.Stored != nil {
		return v.Stored
	}
	return &v.Status
}

// Policy is the retry policy with defaults applied.
type Policy struct {
	MaxAttempts    int32
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
}

func (p Policy) validate() error {
	if p.MaxAttempts < 1 || p.InitialBackoff <= 0 || p.MaxBackoff < p.InitialBackoff {
		return fmt.Errorf("retry policy %+v: want at least one attempt and 0 < initialBackoff <= maxBackoff", p)
	}
	return nil
}

// PolicyOf applies the defaults to a retry policy.
func PolicyOf(rp *v1.RetryPolicy) Policy {
	p := Policy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}
	return p.Override(rp)
}

// Override returns p with the fields that rp sets.
func (p Policy) Override(rp *v1.RetryPolicy) Policy {
	if rp == nil {
		return p
	}
	if rp.MaxAttempts > 0 {
		p.MaxAttempts = rp.MaxAttempts
	}
	if rp.InitialBackoff != nil && rp.InitialBackoff.Duration > 0 {
		p.InitialBackoff = rp.InitialBackoff.Duration
	}
	if rp.MaxBackoff != nil && rp.MaxBackoff.Duration > 0 {
		p.MaxBackoff = rp.MaxBackoff.Duration
	}
	return p
}

// DurationOr returns d, or fallback when d is unset or not positive.
func DurationOr(d *metav1.Duration, fallback time.Duration) time.Duration {
	if d != nil && d.Duration > 0 {
		return d.Duration
	}
	return fallback
}

// stepOf returns the status entry of a step, or a Pending entry when there is none.
func stepOf(st *v1.SagaStatus, name v1.StepName) v1.SagaStepStatus {
	for _, s := range st.Steps {
		if s.Name == name {
			return s
		}
	}
	return v1.SagaStepStatus{StepStatus: v1.StepStatus{Name: name, State: v1.StepPending}}
}
