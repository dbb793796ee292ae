package controllers

import (
	"context"
	"testing"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// ownsAll is a Shard that owns every saga and never changes.
type ownsAll struct{}

func (ownsAll) Owns(string) bool         { return true }
func (ownsAll) Changes() <-chan struct{} { return nil }

// TestRebalancerWakesOnlyKindsWithAReconciler: a manager that runs only the OrderSaga
// reconciler (as the sharding specs do) must not have its wake-ups stuck behind a Saga
// that nobody receives. That hang stranded a killed replica's sagas in CI.
func TestRebalancerWakesOnlyKindsWithAReconciler(t *testing.T) {
	order := testgen.OrderSaga("order-1", testgen.WithNamespace("shop"))
	other := &v1.Saga{}
	other.Name, other.Namespace = "bucket-1", "shop"
	c := fake.NewClientBuilder().WithScheme(newSchemeForUnitTests(t)).WithObjects(order, other).Build()
	rb := NewRebalancer(c, ownsAll{}, time.Minute)
	wakes := rb.orderSagaWakes()

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- rb.wake(ctx) }()
	select {
	case ev := <-wakes:
		if ev.Object.GetName() != order.Name {
			t.Errorf("woke %s, want %s", ev.Object.GetName(), order.Name)
		}
	case <-ctx.Done():
		t.Fatal("the OrderSaga was not woken")
	}
	if err := <-done; err != nil || ctx.Err() != nil {
		t.Errorf("wake = %v (context: %v); want it to return at once, leaving the Saga no reconciler runs", err, ctx.Err())
	}
}
