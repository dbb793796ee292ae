/*
Copyright 2026 The OrderSaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Phase is where a saga is in its life.
// +kubebuilder:validation:Enum=Pending;Running;Completed;Compensating;Compensated;Failed
type Phase string

// Phases of a saga. Pending → Running → Completed; on failure Running → Compensating →
// Compensated; Failed only when a compensation gave up and a person must act.
const (
	PhasePending      Phase = "Pending"
	PhaseRunning      Phase = "Running"
	PhaseCompleted    Phase = "Completed"
	PhaseCompensating Phase = "Compensating"
	PhaseCompensated  Phase = "Compensated"
	PhaseFailed       Phase = "Failed"
)

// IsTerminal reports whether no further call will be made without a person's action.
func (p Phase) IsTerminal() bool {
	return p == PhaseCompleted || p == PhaseCompensated || p == PhaseFailed
}

// StepName names a saga step: the order saga's six, or a SagaDefinition's. It is an
// identifier, because expressions name earlier steps as steps.<name>.outputs.
// +kubebuilder:validation:MaxLength=63
// +kubebuilder:validation:Pattern=`^[A-Za-z][A-Za-z0-9_]*$`
type StepName string

// The six steps of an order saga, in plan order.
const (
	StepCreateOrder      StepName = "CreateOrder"
	StepReserveInventory StepName = "ReserveInventory"
	StepProcessPayment   StepName = "ProcessPayment"
	StepScheduleShipment StepName = "ScheduleShipment"
	StepConfirmOrder     StepName = "ConfirmOrder"
	StepSendNotification StepName = "SendNotification"
)

// StepState is the state of one step.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed;Compensating;Compensated;Skipped
type StepState string

// Step states. Running means called at least once with no final answer yet: the step
// may have happened, which is why a Running or Failed step is compensated too.
const (
	StepPending      StepState = "Pending"
	StepRunning      StepState = "Running"
	StepSucceeded    StepState = "Succeeded"
	StepFailed       StepState = "Failed"
	StepCompensating StepState = "Compensating"
	StepCompensated  StepState = "Compensated"
	StepSkipped      StepState = "Skipped"
)

// CallState is the state of a call that is retried on its own: a compensation, or the
// order-cancelled notice.
// +kubebuilder:validation:Enum=Pending;Running;Succeeded;Failed
type CallState string

// Call states.
const (
	CallPending   CallState = "Pending"
	CallRunning   CallState = "Running"
	CallSucceeded CallState = "Succeeded"
	CallFailed    CallState = "Failed"
)

// Timestamps in status are MicroTime: sagas finish in milliseconds and backoffs start at
// one, so second precision would hide durations and fire retries early.

// MaxErrorLength bounds every error message kept in status, so that status size is
// bounded whatever a service answers.
const MaxErrorLength = 512

// OrderSagaStatus is what the operator knows of the saga: every step, every compensation
// and the identifiers the services assigned.
type OrderSagaStatus struct {
	// observedGeneration is the metadata.generation this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// phase is where the saga is: Pending, Running, Completed, Compensating, Compensated
	// or Failed (a compensation gave up; a person must act, then set the retry annotation).
	// +optional
	Phase Phase `json:"phase,omitempty"`

	// currentStep is the step being run or compensated; on a compensated or failed saga,
	// the step that failed.
	// +optional
	CurrentStep StepName `json:"currentStep,omitempty"`

	// attempts is the number of calls made so far for the current step or compensation.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// orderId is the order service's identifier of the order.
	// +optional
	OrderID string `json:"orderId,omitempty"`

	// reservationId is the inventory service's identifier of the stock reservation.
	// +optional
	ReservationID string `json:"reservationId,omitempty"`

	// paymentId is the payment service's identifier of the charge.
	// +optional
	PaymentID string `json:"paymentId,omitempty"`

	// shipmentId is the shipping service's identifier of the shipment.
	// +optional
	ShipmentID string `json:"shipmentId,omitempty"`

	// trackingNumber is the carrier's tracking number.
	// +optional
	TrackingNumber string `json:"trackingNumber,omitempty"`

	// total is the order total as a decimal string in spec.currency, for example "1999.98".
	// +optional
	Total string `json:"total,omitempty"`

	// steps holds one entry per step, in plan order, with its compensation.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=6
	Steps []StepStatus `json:"steps,omitempty"`

	// failure says why the saga rolled back, once it does.
	// +optional
	Failure *FailureStatus `json:"failure,omitempty"`

	// cancellationNotice records the best-effort order-cancelled notification sent
	// after a rollback.
	// +optional
	CancellationNotice *CallStatus `json:"cancellationNotice,omitempty"`

	// conditions: Succeeded (Unknown while in flight, True when Completed, False when
	// Compensated or Failed, with the reason), Suspended, and the kstatus conditions Ready
	// (True once Completed or Compensated, False when Failed, Unknown in flight),
	// Reconciling (True in flight) and Stalled (True when Failed: a person must act).
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// startedAt is when the first step was started.
	// +optional
	StartedAt *metav1.MicroTime `json:"startedAt,omitempty"`

	// finishedAt is when the saga reached Completed, Compensated or Failed.
	// +optional
	FinishedAt *metav1.MicroTime `json:"finishedAt,omitempty"`

	// message is a one-sentence summary for people.
	// +optional
	// +kubebuilder:validation:MaxLength=1024
	Message string `json:"message,omitempty"`

	// lastHandledRetry is the last value of the saga.ordersaga.io/retry annotation
	// that re-drove this saga.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledRetry string `json:"lastHandledRetry,omitempty"`

	// lastHandledAbandon is the last value of the saga.ordersaga.io/abandon annotation
	// that this saga acted on or refused.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	LastHandledAbandon string `json:"lastHandledAbandon,omitempty"`

	// abandoned is set when a person abandoned this Failed saga while deleting it: the
	// finalizer was released with the steps below possibly left undone.
	// +optional
	Abandoned *AbandonStatus `json:"abandoned,omitempty"`
}

// AbandonStatus is what a person gave up on when abandoning a Failed saga.
type AbandonStatus struct {
	// at is when the saga was abandoned.
	// +required
	At metav1.MicroTime `json:"at"`

	// leftUndone lists every step whose compensation did not succeed, in plan order.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	LeftUndone []UndoneStep `json:"leftUndone,omitempty"`
}

// UndoneStep is a step that may still hold stock, money or a shipment after abandonment.
type UndoneStep struct {
	// name is the step.
	// +required
	Name StepName `json:"name"`

	// state is the step's own state when the saga was abandoned.
	// +required
	State StepState `json:"state"`

	// resourceId is the identifier the service assigned (orderId, reservationId,
	// paymentId or shipmentId), when the saga learned it.
	// +optional
	// +kubebuilder:validation:MaxLength=256
	ResourceID string `json:"resourceId,omitempty"`

	// idempotencyKey is the key the step's action was sent with: the service finds the
	// resource by it even when resourceId was never learned.
	// +required
	// +kubebuilder:validation:MaxLength=256
	IdempotencyKey string `json:"idempotencyKey"`

	// compensationError is the last failure of the step's compensation, if any.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	CompensationError string `json:"compensationError,omitempty"`
}

// StepStatus is the record of one step and its compensation.
type StepStatus struct {
	// name is the step.
	// +required
	Name StepName `json:"name"`

	// state is Pending, Running, Succeeded, Failed, Compensating, Compensated or Skipped.
	// +required
	State StepState `json:"state"`

	// attempts is the number of calls made for the step's action.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// startedAt is when the action was first called.
	// +optional
	StartedAt *metav1.MicroTime `json:"startedAt,omitempty"`

	// finishedAt is when the action succeeded or was given up.
	// +optional
	FinishedAt *metav1.MicroTime `json:"finishedAt,omitempty"`

	// nextAttemptAt is when a transient failure will be retried.
	// +optional
	NextAttemptAt *metav1.MicroTime `json:"nextAttemptAt,omitempty"`

	// lastError is the last failure of the action, as "CODE: message", bounded in length.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastError string `json:"lastError,omitempty"`

	// compensation records the undo of this step, when the saga rolls back.
	// +optional
	Compensation *CallStatus `json:"compensation,omitempty"`
}

// FailureStatus is the cause of a rollback.
type FailureStatus struct {
	// step is the step that failed, or the step in flight when the saga was deleted.
	// +optional
	Step StepName `json:"step,omitempty"`

	// reason is a CamelCase reason such as OutOfStock, PaymentDeclined or Deleted.
	// +required
	// +kubebuilder:validation:MaxLength=64
	Reason string `json:"reason"`

	// message says what happened, bounded in length.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	Message string `json:"message,omitempty"`
}

// CallStatus is the record of a call retried on its own: a compensation or a notice.
type CallStatus struct {
	// state is Pending, Running, Succeeded or Failed.
	// +required
	State CallState `json:"state"`

	// attempts is the number of calls made.
	// +optional
	Attempts int32 `json:"attempts,omitempty"`

	// startedAt is when the first call was made.
	// +optional
	StartedAt *metav1.MicroTime `json:"startedAt,omitempty"`

	// finishedAt is when the call succeeded or was given up.
	// +optional
	FinishedAt *metav1.MicroTime `json:"finishedAt,omitempty"`

	// nextAttemptAt is when a transient failure will be retried.
	// +optional
	NextAttemptAt *metav1.MicroTime `json:"nextAttemptAt,omitempty"`

	// lastError is the last failure, as "CODE: message", bounded in length.
	// +optional
	// +kubebuilder:validation:MaxLength=512
	LastError string `json:"lastError,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=osaga,categories=sagas
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Order",type=string,JSONPath=`.status.orderId`
// +kubebuilder:printcolumn:name="Total",type=string,JSONPath=`.status.total`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Customer",type=string,JSONPath=`.spec.customerId`,priority=1
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.attempts`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1

// OrderSaga is one e-commerce order run as a saga across the order, inventory, payment,
// shipping and notification services.
type OrderSaga struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the order to place.
	// +required
	Spec OrderSagaSpec `json:"spec"`

	// status is what the operator knows of the saga.
	// +optional
	Status OrderSagaStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// OrderSagaList is a list of OrderSagas.
type OrderSagaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []OrderSaga `json:"items"`
}
