package saga

import (
	"time"

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
// undo is worth more patience than a step, because giving up leaves money or stock behind.
const CompensationAttemptsFactor = 2

// View is everything the engine looks at: the saga's identity, the parts of its spec that
// steer the run, its status, and whether it is being deleted.
type View struct {
	UID      string
	Items    []v1.OrderItem
	Policy   Policy
	Suspend  bool
	TTL      *time.Duration
	Deleting bool
	// RetryRequest is the value of the retry annotation, if any.
	RetryRequest string
	// AbandonRequest is the value of the abandon annotation, if any.
	AbandonRequest string
	Status         v1.OrderSagaStatus
	// Stored is the status as the API server last stored it, which is what survives a
	// lost write or a crash; Status may be ahead of it within a reconcile. Nil means
	// Status is stored.
	Stored *v1.OrderSagaStatus
}

// durable is the status that a lost write cannot take back.
func (v *View) durable() *v1.OrderSagaStatus {
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

// ViewOf builds the engine's view of a saga. The status is shared, not copied: the engine
// only reads it.
func ViewOf(obj *v1.OrderSaga) View {
	v := View{
		UID:            string(obj.UID),
		Items:          obj.Spec.Items,
		Policy:         PolicyOf(obj.Spec.RetryPolicy),
		Suspend:        obj.Spec.Suspend,
		Deleting:       !obj.DeletionTimestamp.IsZero(),
		RetryRequest:   obj.Annotations[v1.RetryAnnotation],
		AbandonRequest: obj.Annotations[v1.AbandonAnnotation],
		Status:         obj.Status,
	}
	if obj.Spec.TTLSecondsAfterFinished != nil {
		ttl := time.Duration(*obj.Spec.TTLSecondsAfterFinished) * time.Second
		v.TTL = &ttl
	}
	return v
}

// PolicyOf applies the defaults to a retry policy.
func PolicyOf(rp *v1.RetryPolicy) Policy {
	p := Policy{MaxAttempts: DefaultMaxAttempts, InitialBackoff: DefaultInitialBackoff, MaxBackoff: DefaultMaxBackoff}
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

// StepTimeout returns spec.stepTimeout, or its default.
func StepTimeout(spec *v1.OrderSagaSpec) time.Duration {
	if spec.StepTimeout != nil && spec.StepTimeout.Duration > 0 {
		return spec.StepTimeout.Duration
	}
	return DefaultStepTimeout
}

// stepOf returns the status entry of a step, or a Pending entry when there is none.
func stepOf(st *v1.OrderSagaStatus, name v1.StepName) v1.StepStatus {
	for _, s := range st.Steps {
		if s.Name == name {
			return s
		}
	}
	return v1.StepStatus{Name: name, State: v1.StepPending}
}
