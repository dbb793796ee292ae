package controllers

import (
	"fmt"
	"strings"
	"sync"

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
	o := cache.Options{DefaultTransform: transformForCache(cache.TransformStripManagedFields(), newInterner(maxInterned))}
	if namespace != "" {
		o.DefaultNamespaces = map[string]cache.Config{namespace: {}}
	}
	return o
}

// transformForCache runs strip, then shares the repeated strings of sagas through in.
func transformForCache(strip toolscache.TransformFunc, in *interner) toolscache.TransformFunc {
	return func(obj any) (any, error) {
		obj, err := strip(obj)
		if err != nil {
			return obj, fmt.Errorf("strip managedFields: %w", err)
		}
		switch o := obj.(type) {
		case *v1.OrderSaga:
			in.orderSaga(o)
		case *v1.Saga:
			in.saga(o)
		}
		return obj, nil
	}
}

// The cache holds every saga for as long as it exists, and a finished one never changes
// again. Each decoded copy has strings of its own, yet most of a saga's short strings are
// the same in every saga: its namespace and finalizer, phase, step names and states,
// condition types, reasons and messages, the catalog's products and prices. Sharing them
// takes about a tenth off the manager's live heap per finished saga (make bench-memory).
// Customer data and identifiers differ per saga and are left as they are.

// maxInterned bounds the interner: the shared values are a vocabulary (enumerations, the
// plan's messages, a catalog), but messages can also carry per-saga text, which must not
// grow it for ever. Past the bound, a new value is kept as decoded.
const maxInterned = 4096

// interner keeps one copy of each value it has seen, up to max values. It is used by the
// informers of several kinds at once.
type interner struct {
	mu     sync.Mutex
	max    int
	values map[string]string
}

func newInterner(maxValues int) *interner {
	return &interner{max: maxValues, values: map[string]string{}}
}

// intern returns the shared copy of s, making s that copy when there is room.
func (in *interner) intern(s string) string {
	if s == "" {
		return s
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if v, ok := in.values[s]; ok {
		return v
	}
	if len(in.values) < in.max {
		// A copy of its own, so that the map never holds a larger buffer s may share.
		s = strings.Clone(s)
		in.values[s] = s
	}
	return s
}

func (in *interner) orderSaga(o *v1.OrderSaga) {
	in.meta(&o.ObjectMeta)
	s := &o.Spec
	intern(in, &s.Currency)
	intern(in, &s.PaymentMethod)
	intern(in, &s.Shipping.Method)
	intern(in, &s.Shipping.Address.Country)
	for i := range s.Items {
		intern(in, &s.Items[i].ProductID)
		intern(in, &s.Items[i].UnitPrice)
	}
	st := &o.Status
	intern(in, &st.Phase)
	intern(in, &st.CurrentStep)
	intern(in, &st.Message)
	for i := range st.Steps {
		in.step(&st.Steps[i])
	}
	in.failure(st.Failure)
	in.call(st.CancellationNotice)
	in.conditions(st.Conditions)
}

func (in *interner) saga(o *v1.Saga) {
	in.meta(&o.ObjectMeta)
	intern(in, &o.Spec.DefinitionRef.Name)
	st := &o.Status
	if st.Definition != nil {
		intern(in, &st.Definition.Name)
		intern(in, &st.Definition.UID)
	}
	intern(in, &st.Phase)
	intern(in, &st.CurrentStep)
	intern(in, &st.Message)
	for i := range st.Steps {
		in.step(&st.Steps[i].StepStatus)
	}
	in.failure(st.Failure)
	in.call(st.OnRollback)
	in.conditions(st.Conditions)
}

func (in *interner) meta(m *metav1.ObjectMeta) {
	intern(in, &m.Namespace)
	for i := range m.Finalizers {
		intern(in, &m.Finalizers[i])
	}
}

func (in *interner) step(s *v1.StepStatus) {
	intern(in, &s.Name)
	intern(in, &s.State)
	in.call(s.Compensation)
}

func (in *interner) call(c *v1.CallStatus) {
	if c != nil {
		intern(in, &c.State)
	}
}

func (in *interner) failure(f *v1.FailureStatus) {
	if f != nil {
		intern(in, &f.Step)
		intern(in, &f.Reason)
	}
}

func (in *interner) conditions(cs []metav1.Condition) {
	for i := range cs {
		c := &cs[i]
		intern(in, &c.Type)
		intern(in, &c.Status)
		intern(in, &c.Reason)
		intern(in, &c.Message)
	}
}

// intern replaces *s with in's shared copy of its value.
func intern[S ~string](in *interner, s *S) { *s = S(in.intern(string(*s))) }
