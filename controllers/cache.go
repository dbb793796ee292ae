package controllers

import (
	"fmt"
	"unique"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/cache"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// CacheOptions are the informer cache settings the reconcilers (and the gateway) are built
// for: they read every saga from the cache, so the cache holds each saga once, without its
// managedFields — server-side apply's bookkeeping, which no reconciler reads and which can
// be as large as the saga — and with the strings that every saga repeats shared.
// namespace, when set, limits the cache to one namespace.
func CacheOptions(namespace string) cache.Options {
	o := cache.Options{DefaultTransform: transformForCache(cache.TransformStripManagedFields())}
	if namespace != "" {
		o.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	return o
}

// transformForCache runs strip, then shares the repeated strings of sagas.
func transformForCache(strip toolscache.TransformFunc) toolscache.TransformFunc {
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if err != nil {
			return obj, fmt.Errorf("strip managedFields: %w", err)
		}
		switch o := obj.(type) {
		case *v1.OrderSaga:
			internOrderSaga(o)
		case *v1.Saga:
			internSaga(o)
		}
		return obj, nil
	}
}

// The cache holds every saga for as long as it exists, and a finished one never changes
// again. Each decoded copy has strings of its own, yet most of a saga's short strings are
// the same in every saga: its namespace and finalizer, phase, step names and states,
// condition types, reasons and messages, the catalog's products and prices. Interning
// them (unique.Make keeps one copy of each value while any is in use) takes about a
// quarter off the manager's heap per finished saga (make bench-memory). Customer data and
// identifiers differ per saga and are left as they are.

func internOrderSaga(o *v1.OrderSaga) {
	internMeta(&o.ObjectMeta)
	s := &o.Spec
	intern(&s.Currency)
	intern(&s.PaymentMethod)
	intern(&s.Shipping.Method)
	intern(&s.Shipping.Address.Country)
	for i := range s.Items {
		intern(&s.Items[i].ProductID)
		intern(&s.Items[i].UnitPrice)
	}
	st := &o.Status
	intern(&st.Phase)
	intern(&st.CurrentStep)
	intern(&st.Message)
	for i := range st.Steps {
		internStep(&st.Steps[i])
	}
	internFailure(st.Failure)
	internCall(st.CancellationNotice)
	internConditions(st.Conditions)
}

func internSaga(o *v1.Saga) {
	internMeta(&o.ObjectMeta)
	intern(&o.Spec.DefinitionRef.Name)
	st := &o.Status
	if st.Definition != nil {
		intern(&st.Definition.Name)
		intern(&st.Definition.UID)
	}
	intern(&st.Phase)
	intern(&st.CurrentStep)
	intern(&st.Message)
	for i := range st.Steps {
		internStep(&st.Steps[i].StepStatus)
	}
	internFailure(st.Failure)
	internCall(st.OnRollback)
	internConditions(st.Conditions)
}

func internMeta(m *metav1.ObjectMeta) {
	intern(&m.Namespace)
	for i := range m.Finalizers {
		intern(&m.Finalizers[i])
	}
}

func internStep(s *v1.StepStatus) {
	intern(&s.Name)
	intern(&s.State)
	internCall(s.Compensation)
}

func internCall(c *v1.CallStatus) {
	if c != nil {
		intern(&c.State)
	}
}

func internFailure(f *v1.FailureStatus) {
	if f != nil {
		intern(&f.Step)
		intern(&f.Reason)
	}
}

func internConditions(cs []metav1.Condition) {
	for i := range cs {
		c := &cs[i]
		intern(&c.Type)
		intern(&c.Status)
		intern(&c.Reason)
		intern(&c.Message)
	}
}

// intern replaces *s with the canonical copy of its value.
func intern[S ~string](s *S) {
	if *s != "" {
		*s = S(unique.Make(string(*s)).Value())
	}
}
