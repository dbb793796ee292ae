package graph

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// orderOf is the GraphQL view of a saga. It only reads saga, which may be the informer's
// shared copy.
func orderOf(saga *v1.OrderSaga) *model.Order {
	spec, st := &saga.Spec, &saga.Status
	o := &model.Order{
		ID:            saga.Name,
		Namespace:     saga.Namespace,
		CustomerID:    spec.CustomerID,
		CreatedAt:     saga.CreationTimestamp.Time,
		Currency:      spec.Currency,
		Total:         optional(st.Total),
		PaymentMethod: model.PaymentMethod(spec.PaymentMethod),
		Saga:          sagaRunOf(saga),
		Cancellable:   cancellable(saga) == "",
		Retryable:     phaseOf(saga) == v1.PhaseFailed,
		Source:        saga,
	}
	if spec.Shipping.Method != "" {
		m := model.ShippingMethod(spec.Shipping.Method)
		o.ShippingMethod = &m
	}
	for _, it := range spec.Items {
		o.Items = append(o.Items, &model.OrderItem{ProductID: it.ProductID, Quantity: int(it.Quantity), UnitPrice: it.UnitPrice})
	}
	return o
}

// phaseOf is the saga's phase; a saga the controller has not seen yet is Pending.
func phaseOf(saga *v1.OrderSaga) v1.Phase {
	if saga.Status.Phase == "" {
		return v1.PhasePending
	}
	return saga.Status.Phase
}

// cancellable returns "" when deleting the saga rolls the order back, else the code that
// says why not.
func cancellable(saga *v1.OrderSaga) model.ErrorCode {
	switch phaseOf(saga) {
	case v1.PhaseCompleted:
		return model.ErrorCodeAlreadyConfirmed
	case v1.PhaseCompensated, v1.PhaseFailed:
		return model.ErrorCodeAlreadyFinished
	case v1.PhasePending, v1.PhaseRunning, v1.PhaseCompensating:
	}
	for _, step := range saga.Status.Steps {
		// A pivot call in flight may already have confirmed the order: the saga will not
		// roll it back, so the gateway must not promise a cancellation.
		if step.Name == ordersaga.Pivot && step.State != v1.StepPending && step.State != v1.StepSkipped {
			return model.ErrorCodeAlreadyConfirmed
		}
	}
	return ""
}

// retrying reports whether a step or compensation of a saga in flight waits for its next
// attempt.
func retrying(saga *v1.OrderSaga) bool {
	return !phaseOf(saga).IsTerminal() && nextAttempt(saga) != nil
}

// nextAttempt is the earliest next attempt of any step, compensation or notice.
func nextAttempt(saga *v1.OrderSaga) *metav1.MicroTime {
	var next *metav1.MicroTime
	consider := func(t *metav1.MicroTime) {
		if t != nil && (next == nil || t.Before(next)) {
			next = t
		}
	}
	for i := range saga.Status.Steps {
		consider(saga.Status.Steps[i].NextAttemptAt)
		if c := saga.Status.Steps[i].Compensation; c != nil {
			consider(c.NextAttemptAt)
		}
	}
	if c := saga.Status.CancellationNotice; c != nil {
		consider(c.NextAttemptAt)
	}
	return next
}

func sagaRunOf(saga *v1.OrderSaga) *model.SagaRun {
	st := &saga.Status
	run := &model.SagaRun{
		Phase:              model.Phase(phaseOf(saga)),
		CurrentStep:        optional(string(st.CurrentStep)),
		Message:            optional(st.Message),
		StartedAt:          timeOf(st.StartedAt),
		FinishedAt:         timeOf(st.FinishedAt),
		Deleting:           saga.DeletionTimestamp != nil,
		CancellationNotice: callOf(st.CancellationNotice),
		NextAttemptAt:      timeOf(nextAttempt(saga)),
		Steps:              make([]*model.Step, 0, len(st.Steps)),
	}
	for i := range st.Steps {
		s := &st.Steps[i]
		run.Steps = append(run.Steps, &model.Step{
			Name:          string(s.Name),
			State:         string(s.State),
			Attempts:      int(s.Attempts),
			StartedAt:     timeOf(s.StartedAt),
			FinishedAt:    timeOf(s.FinishedAt),
			NextAttemptAt: timeOf(s.NextAttemptAt),
			LastError:     optional(s.LastError),
			Compensation:  callOf(s.Compensation),
		})
	}
	if f := st.Failure; f != nil {
		run.Failure = &model.Failure{Step: optional(string(f.Step)), Reason: f.Reason, Message: optional(f.Message)}
	}
	if a := st.Abandoned; a != nil {
		run.Abandoned = []*model.UndoneStep{}
		for _, u := range a.LeftUndone {
			run.Abandoned = append(run.Abandoned, &model.UndoneStep{
				Name: string(u.Name), State: string(u.State),
				ResourceID: optional(u.ResourceID), CompensationError: optional(u.CompensationError),
			})
		}
	}
	return run
}

func callOf(c *v1.CallStatus) *model.Call {
	if c == nil {
		return nil
	}
	return &model.Call{
		State: string(c.State), Attempts: int(c.Attempts),
		StartedAt: timeOf(c.StartedAt), FinishedAt: timeOf(c.FinishedAt), NextAttemptAt: timeOf(c.NextAttemptAt),
		LastError: optional(c.LastError),
	}
}

func timeOf(t *metav1.MicroTime) *time.Time {
	if t == nil {
		return nil
	}
	v := t.Time
	return &v
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
