package controllers

import (
	"context"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// sagaOnDefinition is a Saga as the batch loop drives it: its definition's plan, its calls
// built by the definition's expressions, and its status as the engine's own.
type sagaOnDefinition struct {
	obj     *v1.Saga
	program *sagadef.Program // nil while the saga cannot start (invalid says why)
	steps   Exchanger
	// invalid says why a saga that has not started cannot: no call is made.
	invalid string
	// pin is the definition a saga that has not started will start on.
	pin *v1.SagaDefinition
	// gone: the definition a running saga started on has vanished.
	gone bool
	// unpinned: the pin of a saga that had not started was taken back; look again.
	unpinned bool
}

var _ sagaRun = (*sagaOnDefinition)(nil)

func (s *sagaOnDefinition) vars() sagadef.Vars {
	return sagadef.Vars{UID: string(s.obj.UID), Name: s.obj.Name, Namespace: s.obj.Namespace, Input: s.obj.Spec.Input, Status: &s.obj.Status}
}

func (s *sagaOnDefinition) view() saga.View {
	plan := &saga.Plan{} // a saga held before its start, or a finished one whose definition went
	if s.program != nil {
		plan = s.program.Plan()
		if plan.AfterRollback != nil {
			// An expression that fails to say whether the call is wanted makes it: it is
			// best effort, and a call too many is safer than a notice never sent.
			wanted, err := s.program.RollbackWanted(s.vars())
			plan.AfterRollback.Skip = err == nil && !wanted
		}
	}
	v := saga.View{
		UID:            string(s.obj.UID),
		Plan:           plan,
		Suspend:        s.obj.Spec.Suspend,
		Deleting:       !s.obj.DeletionTimestamp.IsZero(),
		Invalid:        s.invalid,
		RetryRequest:   s.obj.Annotations[v1.RetryAnnotation],
		AbandonRequest: s.obj.Annotations[v1.AbandonAnnotation],
		Status:         *s.obj.Status.DeepCopy(),
	}
	if ttl := s.obj.Spec.TTLSecondsAfterFinished; ttl != nil {
		d := time.Duration(*ttl) * time.Second
		v.TTL = &d
	}
	return v
}

// call builds the request from the definition's expressions and classifies the answer by
// its rules. An expression that fails is the definition's bug: a business failure of the
// call, which the saga rolls back from, rather than a retry that cannot succeed.
func (s *sagaOnDefinition) call(ctx context.Context, plan *saga.Plan, c saga.Call) saga.Outcome {
	vars := s.vars()
	req, err := s.program.Request(c, vars)
	if err != nil {
		return saga.Outcome{Kind: saga.BusinessFailure, Code: "INVALID_REQUEST", Message: err.Error()}
	}
	resp, failure, answered := s.steps.Exchange(ctx, req, c, plan.CallTimeout(c.Step))
	if !answered {
		return failure
	}
	return s.program.Outcome(c, vars, resp)
}

func (s *sagaOnDefinition) store(run *v1.SagaStatus) { s.obj.Status = *run }

func (s *sagaOnDefinition) object() client.Object { return s.obj }

func (s *sagaOnDefinition) words() vocabulary {
	return vocabulary{
		completed:           func(st *v1.SagaStatus) string { return "completed: " + st.Message },
		afterRollbackFailed: EventOnRollbackFailed,
		afterRollbackWhat:   "the onRollback call",
	}
}

func (s *sagaOnDefinition) metric() string { return s.obj.Spec.DefinitionRef.Name }
