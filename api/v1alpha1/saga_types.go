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
	"k8s.io/apimachinery/pkg/runtime"
)

// MaxInputBytes bounds a Saga's spec.input, serialized as JSON.
const MaxInputBytes = 16 << 10

// SagaSpec is one run of a SagaDefinition. Everything except suspend and
// ttlSecondsAfterFinished is fixed at creation.
// +kubebuilder:validation:XValidation:rule="self.definitionRef == oldSelf.definitionRef",message="definitionRef is immutable: create a new Saga to run another definition",fieldPath=".definitionRef"
// +kubebuilder:validation:XValidation:rule="has(self.input) == has(oldSelf.input) && (!has(self.input) || self.input == oldSelf.input)",message="input is immutable: create a new Saga to run with other input",fieldPath=".input"
type SagaSpec struct {
	// definitionRef names the SagaDefinition, in the Saga's namespace, to run. It is
	// immutable.
	// +required
	DefinitionRef DefinitionReference `json:"definitionRef"`

	// input is the data the definition's expressions read as input: a JSON object (the
	// API server refuses any other value; null is the same as no input). It must satisfy
	// the definition's input schema, and is at most 16 KiB as JSON. It is immutable.
	//
	// Caveats: neither the schema nor the 16 KiB bound can be checked by the CRD (a CRD
	// schema has no size limit for an object); the controller enforces both.
	// +optional
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	Input *runtime.RawExtension `json:"input,omitempty"`

	// suspend, when true, stops the saga from making new calls until it is set back to
	// false. Deleting a suspended saga still compensates.
	// +optional
	Suspend bool `json:"suspend,omitempty"`

	// ttlSecondsAfterFinished, when set, deletes the saga this many seconds after it
	// reaches Completed or Compensated. Failed sagas are kept for a person to act on.
	// +optional
	// +kubebuilder:validation:Minimum=0
	TTLSecondsAfterFinished *int32 `json:"ttlSecondsAfterFinished,omitempty"`
}

// DefinitionReference names a SagaDefinition in the same namespace.
type DefinitionReference struct {
	// name is the SagaDefinition's name.
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=253
	// +kubebuilder:validation:XValidation:rule="self.matches('^[a-z0-9]([-a-z0-9]*[a-z0-9])?([.][a-z0-9]([-a-z0-9]*[a-z0-9])?)*$')",message="definitionRef.name must be the name of a SagaDefinition: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit"
	Name string `json:"name"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=saga,categories=sagas
// +kubebuilder:printcolumn:name="Definition",type=string,JSONPath=`.spec.definitionRef.name`
// +kubebuilder:printcolumn:name="Phase",type=string,JSONPath=`.status.phase`
// +kubebuilder:printcolumn:name="Step",type=string,JSONPath=`.status.currentStep`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Attempts",type=integer,JSONPath=`.status.attempts`,priority=1
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.message`,priority=1

// Saga is one run of a SagaDefinition.
type Saga struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec names the definition and gives the input.
	// +required
	Spec SagaSpec `json:"spec"`

	// status is what the operator knows of the saga.
	// +optional
	Status SagaStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SagaList is a list of Sagas.
type SagaList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []Saga `json:"items"`
}
