package ordersaga

import (
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// The identifiers an OrderSaga's status names, and the step whose outputs hold each: the
// engine keeps them as outputs per step, OrderSaga's contract as fields.
func outputFields(st *v1.OrderSagaStatus) map[v1.StepName]map[string]*string {
	return map[v1.StepName]map[string]*string{
		v1.StepCreateOrder:      {outputOrderID: &st.OrderID, outputTotal: &st.Total},
		v1.StepReserveInventory: {outputReservationID: &st.ReservationID},
		v1.StepProcessPayment:   {outputPaymentID: &st.PaymentID},
		v1.StepScheduleShipment: {outputShipmentID: &st.ShipmentID, outputTrackingNumber: &st.TrackingNumber},
	}
}

// ToRun returns an OrderSaga's status as the engine runs it. It shares nothing with st.
func ToRun(st *v1.OrderSagaStatus) v1.SagaStatus {
	c := st.DeepCopy()
	run := v1.SagaStatus{
		ObservedGeneration: c.ObservedGeneration,
		Phase:              c.Phase,
		CurrentStep:        c.CurrentStep,
		Attempts:           c.Attempts,
		Failure:            c.Failure,
		OnRollback:         c.CancellationNotice,
		Conditions:         c.Conditions,
		StartedAt:          c.StartedAt,
		FinishedAt:         c.FinishedAt,
		Message:            c.Message,
		LastHandledRetry:   c.LastHandledRetry,
		LastHandledAbandon: c.LastHandledAbandon,
		Abandoned:          c.Abandoned,
	}
	fields := outputFields(c)
	for _, s := range c.Steps {
		entry := v1.SagaStepStatus{StepStatus: s}
		for name, field := range fields[s.Name] {
			if *field != "" {
				if entry.Outputs == nil {
					entry.Outputs = map[string]string{}
				}
				entry.Outputs[name] = *field
			}
		}
		run.Steps = append(run.Steps, entry)
	}
	return run
}

// FromRun writes the engine's status of the saga with spec into st. The total is the
// order service's once CreateOrder answered, and computed from spec.items from the start
// (the payment charges it, and the order service must agree with it).
func FromRun(spec *v1.OrderSagaSpec, run *v1.SagaStatus, st *v1.OrderSagaStatus) {
	c := run.DeepCopy()
	*st = v1.OrderSagaStatus{
		ObservedGeneration: c.ObservedGeneration,
		Phase:              c.Phase,
		CurrentStep:        c.CurrentStep,
		Attempts:           c.Attempts,
		Failure:            c.Failure,
		CancellationNotice: c.OnRollback,
		Conditions:         c.Conditions,
		StartedAt:          c.StartedAt,
		FinishedAt:         c.FinishedAt,
		Message:            c.Message,
		LastHandledRetry:   c.LastHandledRetry,
		LastHandledAbandon: c.LastHandledAbandon,
		Abandoned:          c.Abandoned,
	}
	fields := outputFields(st)
	for _, s := range c.Steps {
		st.Steps = append(st.Steps, s.StepStatus)
		for name, value := range s.Outputs {
			if field, ok := fields[s.Name][name]; ok {
				*field = value
			}
		}
	}
	if st.Total == "" && c.Phase != "" && c.Phase != v1.PhasePending {
		st.Total, _ = Total(spec.Items) // an error leaves it empty: the saga is held as invalid
	}
}

// ViewOf builds the engine's view of an OrderSaga.
func ViewOf(obj *v1.OrderSaga) saga.View {
	v := saga.View{
		UID:            string(obj.UID),
		Plan:           Plan(&obj.Spec),
		Suspend:        obj.Spec.Suspend,
		Deleting:       !obj.DeletionTimestamp.IsZero(),
		RetryRequest:   obj.Annotations[v1.RetryAnnotation],
		AbandonRequest: obj.Annotations[v1.AbandonAnnotation],
		Status:         ToRun(&obj.Status),
	}
	if _, err := Total(obj.Spec.Items); err != nil { // the CRD's validation makes this unreachable for stored objects
		v.Invalid = err.Error()
	}
	if obj.Spec.TTLSecondsAfterFinished != nil {
		ttl := time.Duration(*obj.Spec.TTLSecondsAfterFinished) * time.Second
		v.TTL = &ttl
	}
	return v
}

// Record writes decision d and the outcome of its call into obj's status, through the
// engine's status.
func Record(obj *v1.OrderSaga, d saga.Decision, out saga.Outcome, now time.Time) {
	run := ToRun(&obj.Status)
	saga.Record(Plan(&obj.Spec), &run, d, out, now)
	FromRun(&obj.Spec, &run, &obj.Status)
}
