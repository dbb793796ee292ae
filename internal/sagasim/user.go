package sagasim

import (
	"context"
	"fmt"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// create stores the next saga, as kubectl apply would: the next order, as an object of
// the schedule's kind. In Saga mode the order's retry policy and step timeout are the
// definition's, which the saga runs with.
func (s *sim) create(ctx context.Context) {
	obj := newSaga(s.rng, len(s.sagas)+1, s.clock.Now())
	if s.def != nil {
		obj.Spec.RetryPolicy, obj.Spec.StepTimeout = s.def.policy()
	}
	if err := s.api.store.Create(ctx, s.kind.fromOrder(obj)); err != nil {
		s.violatef(invSetup, "create %s: %v", obj.Name, err)
		return
	}
	s.sagas = append(s.sagas, obj.DeepCopy())
	s.api.remember(ctx, obj.Name)
	s.trace.addf("%s: created (items %s, %s, to %s, customer %s, stepTimeout %s, maxAttempts %d, suspend %t)", obj.Name,
		itemsText(obj.Spec.Items), obj.Spec.PaymentMethod, obj.Spec.Shipping.Address.Country, obj.Spec.CustomerID,
		obj.Spec.StepTimeout.Duration, obj.Spec.RetryPolicy.MaxAttempts, obj.Spec.Suspend)
}

func itemsText(items []v1.OrderItem) string {
	parts := make([]string, 0, len(items))
	for _, it := range items {
		parts = append(parts, fmt.Sprintf("%dx%s@%s", it.Quantity, it.ProductID, it.UnitPrice))
	}
	return strings.Join(parts, "+")
}

// externalChange is a user's change to a saga at any moment: deletion, a suspend toggle,
// a retry annotation, the abandon annotation, another annotation, or a label. The first four pass the
// controller's predicates and wake the saga; a label change only bumps the version.
func (s *sim) externalChange(ctx context.Context, name, when string) {
	if name == "" {
		return
	}
	what := s.rng.IntN(10)
	suffix := ""
	if when != "" {
		suffix = " " + when
	}
	switch {
	case what < 3:
		s.userDelete(ctx, name, suffix)
	case what < 5:
		s.userChange(ctx, name, "toggles suspend"+suffix, func(o client.Object) {
			suspend := s.kind.suspend(o)
			*suspend = !*suspend
		})
	case what < 7:
		s.userChange(ctx, name, "sets the retry annotation"+suffix, func(o client.Object) {
			setAnnotation(o, v1.RetryAnnotation, s.api.nextToken())
		})
	case what < 8 && s.rng.IntN(2) == 0: // refused unless the saga is Failed and being deleted
		s.userChange(ctx, name, "sets the abandon annotation"+suffix, func(o client.Object) {
			setAnnotation(o, v1.AbandonAnnotation, s.api.nextToken())
		})
	case what < 8:
		s.userChange(ctx, name, "sets another annotation"+suffix, func(o client.Object) {
			setAnnotation(o, "example.com/note", s.api.nextToken())
		})
	default:
		if s.api.mutate(ctx, name, func(o client.Object) {
			setLabel(o, "example.com/touched", s.api.nextToken())
		}) {
			s.trace.addf("%s: user changes a label%s", name, suffix)
		}
	}
}

// userDelete deletes a saga that is not being deleted yet, as kubectl delete would, and
// wakes it; suffix ends the trace line.
func (s *sim) userDelete(ctx context.Context, name, suffix string) {
	obj, ok := s.api.raw(ctx, name)
	if !ok || !obj.GetDeletionTimestamp().IsZero() {
		return
	}
	if err := s.api.store.Delete(ctx, obj); err != nil {
		s.trace.addf("%s: user delete refused: %v", name, err)
		return
	}
	s.api.remember(ctx, name)
	s.trace.addf("%s: user deletes it%s", name, suffix)
}

// userChange applies a user's change; the watch wakes the saga once the manager's cache
// has it, if the change passes the reconcilers' filter.
func (s *sim) userChange(ctx context.Context, name, what string, change func(client.Object)) {
	if s.api.mutate(ctx, name, change) {
		s.trace.addf("%s: user %s", name, what)
	}
}

func setAnnotation(o client.Object, key, value string) {
	annotations := o.GetAnnotations()
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[key] = value
	o.SetAnnotations(annotations)
}

func setLabel(o client.Object, key, value string) {
	labels := o.GetLabels()
	if labels == nil {
		labels = map[string]string{}
	}
	labels[key] = value
	o.SetLabels(labels)
}
