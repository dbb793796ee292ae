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

// Reason is a condition reason: CamelCase, at most 64 characters.
// +kubebuilder:validation:Pattern=`^[A-Z][A-Za-z0-9]*$`
// +kubebuilder:validation:MaxLength=64
type Reason string

// Expression is a CEL expression.
// +kubebuilder:validation:MinLength=1
// +kubebuilder:validation:MaxLength=1024
type Expression string

// HTTPMethod is the method of a step's call.
// +kubebuilder:validation:Enum=GET;POST;PUT;PATCH;DELETE
type HTTPMethod string

// SagaDefinitionSpec declares a saga: the steps, in the order they run, and how each is
// called and undone. It is immutable: a change is a new definition, as a Job's template
// is, so that every Saga runs start to end on the definition it started with.
//
// Caveats: immutability is checked field by field, here and on each step, comparing
// durations as durations, an absent boolean as false and an absent map as empty. The rule
// self == oldSelf refused a Go client's Update of nothing but labels, because the client
// re-serialises the spec ("1m" comes back as "1m0s", pivot: false is dropped). A new spec
// field needs its own rule; test/api checks that every field has one.
// +kubebuilder:validation:XValidation:rule="self.input == oldSelf.input",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".input"
// +kubebuilder:validation:XValidation:rule="has(self.retryPolicy) == has(oldSelf.retryPolicy) && (!has(self.retryPolicy) || (self.retryPolicy.maxAttempts == oldSelf.retryPolicy.maxAttempts && duration(self.retryPolicy.initialBackoff) == duration(oldSelf.retryPolicy.initialBackoff) && duration(self.retryPolicy.maxBackoff) == duration(oldSelf.retryPolicy.maxBackoff)))",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".retryPolicy"
// +kubebuilder:validation:XValidation:rule="has(self.stepTimeout) == has(oldSelf.stepTimeout) && (!has(self.stepTimeout) || duration(self.stepTimeout) == duration(oldSelf.stepTimeout))",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".stepTimeout"
// +kubebuilder:validation:XValidation:rule="self.steps.map(s, s.name) == oldSelf.steps.map(s, s.name)",message="spec is immutable: steps cannot be added, removed, renamed or reordered; create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".steps"
// +kubebuilder:validation:XValidation:rule="has(self.onRollback) == has(oldSelf.onRollback) && (!has(self.onRollback) || self.onRollback == oldSelf.onRollback)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".onRollback"
// +kubebuilder:validation:XValidation:rule="has(self.failureReasons) && has(oldSelf.failureReasons) ? self.failureReasons == oldSelf.failureReasons : (!has(self.failureReasons) || self.failureReasons.size() == 0) && (!has(oldSelf.failureReasons) || oldSelf.failureReasons.size() == 0)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".failureReasons"
// +kubebuilder:validation:XValidation:rule="self.steps.filter(s, has(s.pivot) && s.pivot).size() <= 1",messageExpression="'spec.steps[%d] (%s) is a second pivot, after spec.steps[%d] (%s): at most one step may set pivot: true; keep it on one of them'.format([self.steps.map(s, has(s.pivot) && s.pivot).lastIndexOf(true), self.steps[self.steps.map(s, has(s.pivot) && s.pivot).lastIndexOf(true)].name, self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true), self.steps[self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true)].name])",fieldPath=".steps"
// +kubebuilder:validation:XValidation:rule="!self.steps.exists(s, has(s.pivot) && s.pivot) || self.steps.map(s, has(s.compensation)).lastIndexOf(true) < self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true)",messageExpression="self.steps.map(s, has(s.compensation)).lastIndexOf(true) == self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true) ? 'spec.steps[%d] (%s) is the pivot and has a compensation: nothing is undone once the pivot has run; remove the compensation'.format([self.steps.map(s, has(s.compensation)).lastIndexOf(true), self.steps[self.steps.map(s, has(s.compensation)).lastIndexOf(true)].name]) : 'spec.steps[%d] (%s) has a compensation but comes after the pivot, spec.steps[%d] (%s): nothing is undone once the pivot has run; remove the compensation, or move the step before the pivot'.format([self.steps.map(s, has(s.compensation)).lastIndexOf(true), self.steps[self.steps.map(s, has(s.compensation)).lastIndexOf(true)].name, self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true), self.steps[self.steps.map(s, has(s.pivot) && s.pivot).indexOf(true)].name])",fieldPath=".steps",reason=FieldValueForbidden
// +kubebuilder:validation:XValidation:rule="!has(self.onRollback) || !has(self.onRollback.name) || !self.steps.exists(s, s.name == self.onRollback.name)",message="onRollback.name is the name of a step, and status and Events name them alike: choose another name",fieldPath=".onRollback.name"
type SagaDefinitionSpec struct {
	// input is the schema that every Saga's spec.input must satisfy.
	// +required
	Input DefinitionInput `json:"input"`

	// retryPolicy is the default retry policy of every step.
	// +optional
	// +kubebuilder:default={maxAttempts:5,initialBackoff:"1s",maxBackoff:"1m"}
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`

	// stepTimeout is the default bound of one call, for example 10s. Between 100ms and 5m.
	// +optional
	// +kubebuilder:default="10s"
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="stepTimeout must be a duration between 100ms and 5m, such as 10s or 1m30s"
	StepTimeout *metav1.Duration `json:"stepTimeout,omitempty"`

	// steps run in this order; compensations run in reverse. 1 to 20 steps, names unique.
	// +required
	// +listType=map
	// +listMapKey=name
	// +kubebuilder:validation:MinItems=1
	// +kubebuilder:validation:MaxItems=20
	Steps []DefinitionStep `json:"steps"`

	// onRollback is a best-effort call made once after a rollback has undone every step,
	// such as a notice to the customer. It is retried like a compensation.
	// +optional
	OnRollback *RollbackCall `json:"onRollback,omitempty"`

	// failureReasons maps a service's error code (the "code" of its error body, or
	// HTTP_<status>) to the reason that the Succeeded condition and Events show when a
	// step fails with it, for example OUT_OF_STOCK: OutOfStock. Others give StepRejected.
	// +optional
	// +kubebuilder:validation:MaxProperties=32
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) >= 1 && size(k) <= 64)",message="failureReasons keys are error codes of 1 to 64 characters, for example OUT_OF_STOCK or HTTP_409"
	FailureReasons map[string]Reason `json:"failureReasons,omitempty"`
}

// DefinitionInput is the schema of a Saga's input.
type DefinitionInput struct {
	// openAPIV3Schema is a structural OpenAPI v3 schema, in the subset a CRD accepts. The
	// controller checks it is structural and reports Ready=False if it is not.
	// +required
	// +kubebuilder:validation:Type=object
	// +kubebuilder:validation:Schemaless
	// +kubebuilder:pruning:PreserveUnknownFields
	OpenAPIV3Schema runtime.RawExtension `json:"openAPIV3Schema"` //nolint:tagliatelle // the name a CRD gives its schema (apiextensions.k8s.io), which users copy from
}

// DefinitionStep is one step: its call, its compensation, and what it keeps of the answer.
// Its rules that read oldSelf make the step immutable; the API server pairs old and new
// steps by name (listType=map), and the spec's rule refuses a new, removed or renamed step.
// +kubebuilder:validation:XValidation:rule="!(has(self.pivot) && self.pivot && has(self.forwardOnly) && self.forwardOnly)",message="a step cannot be both the pivot and forwardOnly: the pivot decides whether the saga rolls back; remove one of them",fieldPath=".forwardOnly"
// +kubebuilder:validation:XValidation:rule="self.service == oldSelf.service",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".service"
// +kubebuilder:validation:XValidation:rule="self.action == oldSelf.action",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".action"
// +kubebuilder:validation:XValidation:rule="has(self.compensation) == has(oldSelf.compensation) && (!has(self.compensation) || self.compensation == oldSelf.compensation)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".compensation"
// +kubebuilder:validation:XValidation:rule="(has(self.pivot) && self.pivot) == (has(oldSelf.pivot) && oldSelf.pivot)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".pivot"
// +kubebuilder:validation:XValidation:rule="(has(self.forwardOnly) && self.forwardOnly) == (has(oldSelf.forwardOnly) && oldSelf.forwardOnly)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".forwardOnly"
// +kubebuilder:validation:XValidation:rule="has(self.outputs) && has(oldSelf.outputs) ? self.outputs == oldSelf.outputs : (!has(self.outputs) || self.outputs.size() == 0) && (!has(oldSelf.outputs) || oldSelf.outputs.size() == 0)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".outputs"
// +kubebuilder:validation:XValidation:rule="has(self.businessFailure) == has(oldSelf.businessFailure) && (!has(self.businessFailure) || self.businessFailure == oldSelf.businessFailure)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".businessFailure"
// +kubebuilder:validation:XValidation:rule="has(self.transient) == has(oldSelf.transient) && (!has(self.transient) || self.transient == oldSelf.transient)",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".transient"
// +kubebuilder:validation:XValidation:rule="has(self.retryPolicy) == has(oldSelf.retryPolicy) && (!has(self.retryPolicy) || (self.retryPolicy.maxAttempts == oldSelf.retryPolicy.maxAttempts && duration(self.retryPolicy.initialBackoff) == duration(oldSelf.retryPolicy.initialBackoff) && duration(self.retryPolicy.maxBackoff) == duration(oldSelf.retryPolicy.maxBackoff)))",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".retryPolicy"
// +kubebuilder:validation:XValidation:rule="has(self.timeout) == has(oldSelf.timeout) && (!has(self.timeout) || duration(self.timeout) == duration(oldSelf.timeout))",message="spec is immutable: create a new SagaDefinition (running Sagas finish on the one they started with)",fieldPath=".timeout"
type DefinitionStep struct {
	// name identifies the step in status and in expressions (steps.<name>.outputs).
	// +required
	Name StepName `json:"name"`

	// service is the service called, resolved like the order saga's: the manager's
	// service URL template, or a per-service override.
	// +required
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`

	// action is the call that does the step.
	// +required
	Action HTTPCall `json:"action"`

	// compensation is the call that undoes the step. Only steps before the pivot may have
	// one. Without it, the step is not undone when the saga rolls back.
	// +optional
	Compensation *CompensationCall `json:"compensation,omitempty"`

	// pivot marks the step after whose success the saga never rolls back. It is retried
	// until it answers. At most one step is the pivot.
	// +optional
	Pivot bool `json:"pivot,omitempty"`

	// forwardOnly: when the step fails (a business failure, or retries exhausted), the saga
	// does not roll back; it goes on and finishes Completed with the failure in status.
	// +optional
	ForwardOnly bool `json:"forwardOnly,omitempty"`

	// outputs are kept in status.steps[].outputs: each is a CEL expression over response
	// (status, body) that gives a string. Names are identifiers of at most 63 characters,
	// as later expressions read them as steps.<step>.outputs.<name>.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 63 && k.matches('^[A-Za-z][A-Za-z0-9_]*$'))",message="outputs names must be identifiers of at most 63 characters (a letter, then letters, digits or _), as expressions read them as steps.<step>.outputs.<name>"
	Outputs map[string]Expression `json:"outputs,omitempty"`

	// businessFailure is a CEL expression over response that overrides the default
	// classification: true makes the answer a business failure (not retried).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	BusinessFailure string `json:"businessFailure,omitempty"`

	// transient is a CEL expression over response that overrides the default
	// classification: true makes the answer transient (retried).
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Transient string `json:"transient,omitempty"`

	// retryPolicy overrides the definition's for this step.
	// +optional
	RetryPolicy *RetryPolicy `json:"retryPolicy,omitempty"`

	// timeout overrides the definition's stepTimeout for this step.
	// +optional
	// +kubebuilder:validation:Type=string
	// +kubebuilder:validation:MaxLength=32
	// +kubebuilder:validation:XValidation:rule="self.matches('^([0-9]+([.][0-9]+)?(ns|us|µs|ms|s|m|h))+$') && duration(self) >= duration('100ms') && duration(self) <= duration('5m')",message="timeout must be a duration between 100ms and 5m, such as 10s or 1m30s"
	Timeout *metav1.Duration `json:"timeout,omitempty"`
}

// HTTPCall is one call to a service. Every call carries the header
// Idempotency-Key: <saga uid>/<step>/<action|compensate>.
type HTTPCall struct {
	// method is GET, POST, PUT, PATCH or DELETE.
	// +required
	Method HTTPMethod `json:"method"`

	// path is a CEL expression that gives the request path, starting with "/".
	// +required
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	Path string `json:"path"`

	// body is a CEL expression that gives the JSON request body. Without it the request
	// has no body.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=4096
	Body string `json:"body,omitempty"`
}

// CompensationCall is the call that undoes a step, and what its answer adds to the step's
// outputs.
type CompensationCall struct {
	HTTPCall `json:",inline"`

	// outputs are added to the step's outputs from a successful compensation's answer, by
	// name (each one of the step's own outputs): an undo that found what it undid proves
	// the step ran, even when the status write that recorded its action's outputs was lost
	// (a customer whose order existed must hear that it was cancelled). Each is a CEL
	// expression over response that gives a string; an empty string adds nothing.
	// +optional
	// +kubebuilder:validation:MaxProperties=16
	Outputs map[string]Expression `json:"outputs,omitempty"`
}

// RollbackCall is the best-effort call after a rollback.
type RollbackCall struct {
	// name is how status and Events name the call.
	// +optional
	// +kubebuilder:default=OnRollback
	Name StepName `json:"name,omitempty"`

	// service is the service called.
	// +required
	// +kubebuilder:validation:MaxLength=63
	// +kubebuilder:validation:Pattern=`^[a-z]([-a-z0-9]*[a-z0-9])?$`
	Service string `json:"service"`

	// action is the call.
	// +required
	Action HTTPCall `json:"action"`

	// when is a CEL expression that decides whether the call is made, for example
	// has(steps.CreateOrder.outputs.orderId): a customer whose order was never created
	// needs no cancellation notice. Without it the call is always made.
	// +optional
	// +kubebuilder:validation:MinLength=1
	// +kubebuilder:validation:MaxLength=1024
	When string `json:"when,omitempty"`
}

// SagaDefinitionStatus says whether the definition can run Sagas.
type SagaDefinitionStatus struct {
	// observedGeneration is the metadata.generation this status was computed for.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// conditions: Ready is True once every expression compiled against the input schema,
	// and False with reason InvalidSchema or InvalidExpression otherwise.
	// +optional
	// +listType=map
	// +listMapKey=type
	// +kubebuilder:validation:MaxItems=8
	Conditions []metav1.Condition `json:"conditions,omitempty"`
}

// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:scope=Namespaced,shortName=sagadef
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Pivot",type=string,JSONPath=`.spec.steps[?(@.pivot==true)].name`,priority=1
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
// +kubebuilder:printcolumn:name="Message",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].message`,priority=1

// SagaDefinition declares a saga that Sagas run: any team's business process, with the
// order saga as one example.
type SagaDefinition struct {
	metav1.TypeMeta `json:",inline"`

	// metadata is the standard object metadata.
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// spec is the saga's plan.
	// +required
	Spec SagaDefinitionSpec `json:"spec"`

	// status says whether Sagas can run on it.
	// +optional
	Status SagaDefinitionStatus `json:"status,omitempty"`
}

// +kubebuilder:object:root=true

// SagaDefinitionList is a list of SagaDefinitions.
type SagaDefinitionList struct {
	metav1.TypeMeta `json:",inline"`
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SagaDefinition `json:"items"`
}
