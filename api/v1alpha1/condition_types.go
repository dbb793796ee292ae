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

// Condition types of an OrderSaga. kubectl wait --for=condition=Succeeded works on them.
const (
	// ConditionSucceeded is Unknown while the saga is in flight, True once it is
	// Completed, and False once it is Compensated or Failed, with the reason.
	ConditionSucceeded = "Succeeded"

	// ConditionSuspended is True while spec.suspend holds new calls back.
	ConditionSuspended = "Suspended"

	// ConditionReady is the condition that kstatus, Flux, Argo CD and
	// `kubectl wait --for=condition=Ready` read: True once the saga is Completed or
	// Compensated (it ended as designed), False with the reason when it is Failed, and
	// Unknown in flight.
	ConditionReady = "Ready"

	// ConditionReconciling is kstatus' abnormal-true condition for work in progress: True
	// while the saga is in flight, absent once it has ended.
	ConditionReconciling = "Reconciling"

	// ConditionStalled is kstatus' abnormal-true condition for "will not progress without
	// a person": True while the saga is Failed or its spec cannot be run, absent otherwise.
	ConditionStalled = "Stalled"
)

// Reasons used on conditions and Events. CamelCase, stable: scripts may match on them.
const (
	// ReasonPending: the saga has not started yet.
	ReasonPending = "Pending"
	// ReasonProgressing: a forward step is being run.
	ReasonProgressing = "Progressing"
	// ReasonStepBackoff: a step failed transiently and waits for its next attempt.
	ReasonStepBackoff = "StepBackoff"
	// ReasonCompensating: the saga is undoing the steps that ran.
	ReasonCompensating = "Compensating"
	// ReasonCompleted: every step succeeded.
	ReasonCompleted = "Completed"
	// ReasonOutOfStock: the inventory service could not reserve every item.
	ReasonOutOfStock = "OutOfStock"
	// ReasonProductUnavailable: a product is unknown or discontinued.
	ReasonProductUnavailable = "ProductUnavailable"
	// ReasonPaymentDeclined: the payment service declined the charge.
	ReasonPaymentDeclined = "PaymentDeclined"
	// ReasonUnsupportedDestination: the shipping service does not deliver there.
	ReasonUnsupportedDestination = "UnsupportedDestination"
	// ReasonStepRejected: a service refused a step for another business reason.
	ReasonStepRejected = "StepRejected"
	// ReasonRetriesExhausted: a step kept failing transiently past retryPolicy.maxAttempts.
	ReasonRetriesExhausted = "RetriesExhausted"
	// ReasonDeleted: the saga was deleted while in flight and rolled back.
	ReasonDeleted = "Deleted"
	// ReasonCompensationExhausted: a compensation kept failing; a person must act.
	ReasonCompensationExhausted = "CompensationExhausted"
	// ReasonCompensationRejected: a service refused a compensation; a person must act.
	ReasonCompensationRejected = "CompensationRejected"
	// ReasonRedriven: the retry annotation re-drove a Failed saga.
	ReasonRedriven = "Redriven"
	// ReasonSuspended: spec.suspend is true.
	ReasonSuspended = "Suspended"
	// ReasonResumed: spec.suspend is false again.
	ReasonResumed = "Resumed"
	// ReasonInvalidSpec: the spec cannot be run (only objects that bypassed validation).
	ReasonInvalidSpec = "InvalidSpec"
	// ReasonAbandoned: a person released a Failed saga with the abandon annotation.
	ReasonAbandoned = "Abandoned"
	// ReasonAbandonIgnored: the abandon annotation was set on a saga that is not Failed
	// and being deleted; nothing was done.
	ReasonAbandonIgnored = "AbandonIgnored"
	// ReasonNotificationFailed: the confirmation notice could not be sent; the order stands.
	ReasonNotificationFailed = "NotificationFailed"
)
