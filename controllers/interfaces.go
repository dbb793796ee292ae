package controllers

import (
	"context"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// StepCaller makes one call of a saga and classifies its outcome.
type StepCaller interface {
	Call(ctx context.Context, obj *v1.OrderSaga, c saga.Call) saga.Outcome
}

// StepCallerFn adapts a function to a StepCaller.
type StepCallerFn func(ctx context.Context, obj *v1.OrderSaga, c saga.Call) saga.Outcome

// Call calls fn.
func (fn StepCallerFn) Call(ctx context.Context, obj *v1.OrderSaga, c saga.Call) saga.Outcome {
	return fn(ctx, obj, c)
}

var (
	_ StepCaller = StepCallerFn(nil)
	_ StepCaller = ordersaga.Caller{}
)

// Clock tells the time; tests replace it.
type Clock interface {
	Now() time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now returns the current time.
func (RealClock) Now() time.Time { return time.Now() }

var _ Clock = RealClock{}
