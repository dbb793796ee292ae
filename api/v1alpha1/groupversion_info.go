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

// Package v1alpha1 contains the OrderSaga API, group saga.ordersaga.io, version v1alpha1.
// +kubebuilder:object:generate=true
// +groupName=saga.ordersaga.io
package v1alpha1

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// The scheme builder is apimachinery's, not controller-runtime's, so that the saga engine,
// which imports these types, stays free of controller-runtime.
//
//nolint:gochecknoglobals // the registration every Kubernetes API package exports (kubebuilder's layout); never mutated
var (
	// GroupVersion is the group and version of the OrderSaga API.
	GroupVersion = schema.GroupVersion{Group: "saga.ordersaga.io", Version: "v1alpha1"}

	// SchemeBuilder registers the API types with a runtime.Scheme.
	SchemeBuilder = runtime.NewSchemeBuilder(addKnownTypes)

	// AddToScheme adds the types in this group-version to a scheme.
	AddToScheme = SchemeBuilder.AddToScheme
)

func addKnownTypes(s *runtime.Scheme) error {
	s.AddKnownTypes(GroupVersion,
		&OrderSaga{}, &OrderSagaList{},
		&SagaDefinition{}, &SagaDefinitionList{},
		&Saga{}, &SagaList{},
	)
	metav1.AddToGroupVersion(s, GroupVersion)
	return nil
}
