package graph

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// newSaga is the OrderSaga that placeOrder creates: named by the idempotency key,
// labelled for the customer filter, annotated with the key and the spec's hash.
func newSaga(namespace string, in model.PlaceOrderInput, idempotencyKey string) (*v1.OrderSaga, error) {
	spec := v1.OrderSagaSpec{
		CustomerID:    in.CustomerID,
		Currency:      "USD",
		PaymentMethod: v1.PaymentMethod(in.PaymentMethod),
	}
	if in.Currency != nil {
		spec.Currency = *in.Currency
	}
	for _, it := range in.Items {
		spec.Items = append(spec.Items, v1.OrderItem{ProductID: it.ProductID, Quantity: int32(it.Quantity), UnitPrice: it.UnitPrice}) //nolint:gosec // G115: validated to 1..1000
	}
	spec.Shipping.Method = v1.ShippingMethodStandard
	if m := in.Shipping.Method; m != nil {
		spec.Shipping.Method = v1.ShippingMethod(*m)
	}
	a := in.Shipping.Address
	spec.Shipping.Address = v1.Address{
		Name: a.Name, Line1: a.Line1, Line2: deref(a.Line2), City: a.City,
		Region: deref(a.Region), PostalCode: a.PostalCode, Country: a.Country,
	}
	hash, err := specHash(&spec)
	if err != nil {
		return nil, err
	}
	return &v1.OrderSaga{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:   namespace,
			Name:        NameFor(idempotencyKey),
			Labels:      map[string]string{CustomerLabel: CustomerHash(in.CustomerID), ManagedByLabel: ManagedBy},
			Annotations: map[string]string{IdempotencyKeyAnnotation: idempotencyKey, RequestHashAnnotation: hash},
		},
		Spec: spec,
	}, nil
}

// replay answers a placeOrder whose saga exists: the same order when the key placed the
// same payload, IDEMPOTENCY_KEY_REUSED when not.
func (r *Resolver) replay(ctx context.Context, wanted *v1.OrderSaga) (*model.PlaceOrderPayload, error) {
	existing := &v1.OrderSaga{}
	key := types.NamespacedName{Namespace: wanted.Namespace, Name: wanted.Name}
	if err := r.API.Get(ctx, key, existing); err != nil {
		if apierrors.IsNotFound(err) { // deleted in between: the caller may simply retry
			return nil, fmt.Errorf("order %s was deleted while it was being placed again; retry", key)
		}
		return nil, fmt.Errorf("read order %s: %w", key, err)
	}
	if existing.Annotations[IdempotencyKeyAnnotation] != wanted.Annotations[IdempotencyKeyAnnotation] ||
		existing.Annotations[RequestHashAnnotation] != wanted.Annotations[RequestHashAnnotation] {
		return nil, &codeError{
			code:    model.ErrorCodeIdempotencyKeyReused,
			field:   "idempotencyKey",
			message: fmt.Sprintf("idempotencyKey placed order %q with another payload; use a new key for a new order", existing.Name),
		}
	}
	return &model.PlaceOrderPayload{Order: orderOf(existing), Created: false}, nil
}

// invalidSpec passes the CRD's refusal on, each cause at its input field.
func invalidSpec(ctx context.Context, err error) error {
	status, ok := err.(apierrors.APIStatus)
	if !ok || status.Status().Details == nil || len(status.Status().Details.Causes) == 0 {
		return &codeError{code: model.ErrorCodeBadUserInput, message: "the API server refused the order: " + err.Error()}
	}
	causes := status.Status().Details.Causes
	for _, c := range causes[1:] {
		graphql.AddError(ctx, fieldError(inputField(c.Field), "%s", c.Message))
	}
	return fieldError(inputField(causes[0].Field), "%s", causes[0].Message)
}

// inputField maps a CRD field path to the placeOrder argument it came from.
func inputField(path string) string {
	if rest, ok := strings.CutPrefix(path, "spec."); ok {
		return "input." + rest
	}
	if path == "" || path == "spec" {
		return "input"
	}
	return path
}

func cancelRefusal(code model.ErrorCode, saga *v1.OrderSaga) string {
	if code == model.ErrorCodeAlreadyConfirmed {
		return "it has reached " + string(ordersaga.Pivot) + ", its point of no return, and will not be rolled back"
	}
	return "it is already " + string(phaseOf(saga))
}

func eventsOf(items []corev1.Event) []*model.SagaEvent {
	out := make([]*model.SagaEvent, 0, len(items))
	for i := range items {
		e := &items[i]
		seen := e.LastTimestamp.Time
		if seen.IsZero() {
			seen = e.EventTime.Time
		}
		if seen.IsZero() {
			seen = e.CreationTimestamp.Time
		}
		count := int(e.Count)
		if count == 0 {
			count = 1
		}
		out = append(out, &model.SagaEvent{Type: e.Type, Reason: e.Reason, Message: e.Message, Count: count, LastSeen: seen})
	}
	slices.SortStableFunc(out, func(a, b *model.SagaEvent) int { return a.LastSeen.Compare(b.LastSeen) })
	return out
}

func customerSelector(customerID *string) client.MatchingLabels {
	if customerID == nil || *customerID == "" {
		return nil
	}
	return client.MatchingLabels{CustomerLabel: CustomerHash(*customerID)}
}

func ordersFilter(phase *model.Phase, retryingOnly *bool) func(*v1.OrderSaga) bool {
	return func(s *v1.OrderSaga) bool {
		if phase != nil && string(phaseOf(s)) != string(*phase) {
			return false
		}
		return retryingOnly == nil || retrying(s) == *retryingOnly
	}
}

func page(sagas []*v1.OrderSaga, size int, cursor *string) (*model.OrderConnection, error) {
	start := 0
	if cursor != nil && *cursor != "" {
		var err error
		if start, err = after(sagas, *cursor); err != nil {
			return nil, err
		}
	}
	end := min(start+size, len(sagas))
	conn := &model.OrderConnection{
		Edges:      make([]*model.OrderEdge, 0, end-start),
		PageInfo:   &model.PageInfo{HasNextPage: end < len(sagas)},
		TotalCount: len(sagas),
	}
	for _, s := range sagas[start:end] {
		conn.Edges = append(conn.Edges, &model.OrderEdge{Cursor: cursorOf(s), Node: orderOf(s)})
	}
	if n := len(conn.Edges); n > 0 {
		conn.PageInfo.EndCursor = &conn.Edges[n-1].Cursor
	}
	return conn, nil
}

func send[T any](ctx context.Context, out chan<- T, v T) bool {
	select {
	case out <- v:
		return true
	case <-ctx.Done():
		return false
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
