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

// Package testgen builds valid test objects that a test changes only where it matters,
// in the style of cert-manager's test/unit/gen:
//
//	saga := testgen.OrderSaga("o-1", testgen.WithNamespace(ns), testgen.WithQuantity(3))
//
// OrderSaga returns a typed object; OrderSagaUnstructured returns the same saga as an
// unstructured object, so that a test can also write values the typed struct cannot hold
// (a string quantity, a numeric price, a missing required field).
package testgen

import (
	"maps"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Values of the default saga that OrderSaga returns.
const (
	DefaultCustomerID = "cust-0001"
	DefaultProductID  = "LAP-001"
	DefaultUnitPrice  = "999.99"
	DefaultCountry    = "GB"
)

// OrderSagaOption changes one aspect of a saga under construction.
type OrderSagaOption func(*sagav1alpha1.OrderSaga)

// OrderSaga returns a valid saga named name: customer cust-0001 orders one LAP-001 at
// "999.99", paid by CREDIT_CARD, shipped to London, GB. Optional fields (currency, shipping
// method, retryPolicy, stepTimeout) are left unset so that the API server defaults them;
// opts are applied in order.
func OrderSaga(name string, opts ...OrderSagaOption) *sagav1alpha1.OrderSaga {
	saga := &sagav1alpha1.OrderSaga{
		TypeMeta: metav1.TypeMeta{
			APIVersion: sagav1alpha1.GroupVersion.String(),
			Kind:       "OrderSaga",
		},
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: sagav1alpha1.OrderSagaSpec{
			CustomerID:    DefaultCustomerID,
			Items:         []sagav1alpha1.OrderItem{Item(DefaultProductID, 1, DefaultUnitPrice)},
			PaymentMethod: sagav1alpha1.PaymentMethodCreditCard,
			Shipping: sagav1alpha1.Shipping{
				Address: sagav1alpha1.Address{
					Name:       "Ada Lovelace",
					Line1:      "12 Example Street",
					City:       "London",
					PostalCode: "N1 9GU",
					Country:    DefaultCountry,
				},
			},
		},
	}
	for _, opt := range opts {
		opt(saga)
	}
	return saga
}

// OrderSagaUnstructured returns OrderSaga(name, opts...) as an unstructured object. It
// panics if the saga cannot be converted, which only a broken option can cause.
func OrderSagaUnstructured(name string, opts ...OrderSagaOption) *unstructured.Unstructured {
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(OrderSaga(name, opts...))
	if err != nil {
		panic("testgen: convert OrderSaga to unstructured: " + err.Error())
	}
	u := &unstructured.Unstructured{Object: content}
	// The converter writes the zero creationTimestamp as null; the API server ignores it,
	// but tests that compare or mutate metadata should not see it.
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	unstructured.RemoveNestedField(u.Object, "status")
	return u
}

// Item returns one order line.
func Item(productID string, quantity int32, unitPrice string) sagav1alpha1.OrderItem {
	return sagav1alpha1.OrderItem{ProductID: productID, Quantity: quantity, UnitPrice: unitPrice}
}

// WithItems replaces the order lines.
func WithItems(items ...sagav1alpha1.OrderItem) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) {
		s.Spec.Items = append([]sagav1alpha1.OrderItem(nil), items...)
	}
}

// WithQuantity sets the quantity of every order line.
func WithQuantity(quantity int32) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) {
		for i := range s.Spec.Items {
			s.Spec.Items[i].Quantity = quantity
		}
	}
}

// WithNamespace sets the namespace.
func WithNamespace(namespace string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Namespace = namespace }
}

// WithCustomerID sets the customer.
func WithCustomerID(customerID string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.CustomerID = customerID }
}

// WithCurrency sets the ISO 4217 currency code.
func WithCurrency(currency string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.Currency = currency }
}

// WithPaymentMethod sets the payment method.
func WithPaymentMethod(method sagav1alpha1.PaymentMethod) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.PaymentMethod = method }
}

// WithShippingMethod sets the shipping method.
func WithShippingMethod(method sagav1alpha1.ShippingMethod) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.Shipping.Method = method }
}

// WithCountry sets the ISO 3166-1 alpha-2 country of the shipping address.
func WithCountry(country string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.Shipping.Address.Country = country }
}

// WithRetryPolicy sets the retry policy.
func WithRetryPolicy(maxAttempts int32, initialBackoff, maxBackoff time.Duration) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) {
		s.Spec.RetryPolicy = &sagav1alpha1.RetryPolicy{
			MaxAttempts:    maxAttempts,
			InitialBackoff: &metav1.Duration{Duration: initialBackoff},
			MaxBackoff:     &metav1.Duration{Duration: maxBackoff},
		}
	}
}

// WithStepTimeout sets the timeout of one service call.
func WithStepTimeout(timeout time.Duration) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.StepTimeout = &metav1.Duration{Duration: timeout} }
}

// WithSuspend sets spec.suspend.
func WithSuspend(suspend bool) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.Suspend = suspend }
}

// WithTTL sets spec.ttlSecondsAfterFinished.
func WithTTL(seconds int32) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Spec.TTLSecondsAfterFinished = &seconds }
}

// WithLabels adds labels.
func WithLabels(labels map[string]string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) {
		if s.Labels == nil {
			s.Labels = map[string]string{}
		}
		maps.Copy(s.Labels, labels)
	}
}

// WithAnnotations adds annotations, for example sagav1alpha1.RetryAnnotation.
func WithAnnotations(annotations map[string]string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) {
		if s.Annotations == nil {
			s.Annotations = map[string]string{}
		}
		maps.Copy(s.Annotations, annotations)
	}
}

// WithFinalizers adds finalizers.
func WithFinalizers(finalizers ...string) OrderSagaOption {
	return func(s *sagav1alpha1.OrderSaga) { s.Finalizers = append(s.Finalizers, finalizers...) }
}
