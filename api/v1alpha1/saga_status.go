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

// MaxSteps bounds the steps of a plan, and so every per-step list in status.
const MaxSteps = 20

// MaxOutputs bounds the outputs one step keeps; MaxOutputLength bounds each value.
const (
	MaxOutputs      = 16
	MaxOutputLength = 256
)

// SagaStatus is what the operator knows of a generic saga, and the state the engine
// (internal/saga) runs every saga on: an OrderSaga's status is converted to it and back.
// It has the shape of OrderSaga's status, with the identifiers the services assigned kept
// as outputs per step instead of named fields.
type SagaStatus struct {
	// observedGeneration is the metadata.generation this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// definition is the SagaDefinition this saga runs on, pinned by UID when it started:
	// the saga finishes on it even if the definition is deleted or replaced.
	// +optional
	Definition *PinnedDefinition `json:"definition,omitempty"`

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

	// steps holds one entry per step, in plan order, with its compensation and outputs.
	// +optional
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MaxItems=20
	Steps []SagaStepStatus `json:"steps,omitempty"`

	// failure says why the saga rolled back, once it does.
	// +optional
	Failure *FailureStatus `json:"failure,omitempty"`

	// onRollback records the best-effort call made after a rollback (the definition's
	// onRollback; an OrderSaga's cancellation notice).
	// +optional
	OnRollback *CallStatus `json:"onRollback,omitempty"`

	// conditions: Succeeded, Suspended, Ready, Reconciling and Stalled, as on OrderSaga.
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

	// abandoned is set when a person abandoned this Failed saga while deleting it.
	// +optional
	Abandoned *AbandonStatus `json:"abandoned,omitempty"`
}

// PinnedDefinition identifies the exact SagaDefinition a saga started on.
type PinnedDefinition struct {
	// name is the SagaDefinition's name.
	// +required
	// +kubebuilder:validation:MaxLength=253
	Name string `json:"name"`

	// uid is the SagaDefinition's UID: a definition deleted and created again under the
	// same name is another definition.
	// +required
	// +kubebuilder:validation:MaxLength=64
	UID string `json:"uid"`
}

// SagaStepStatus is the record of one step, its compensation and its outputs.
type SagaStepStatus struct {
	StepStatus `json:",inline"`

	// outputs are the values the step's outputs expressions took from its answer (and,
	// for a compensation that found what it undid, from that answer).
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Outputs map[string]string `json:"outputs,omitempty"`
}
