package watch

import (
	"context"
	"runtime"
	"testing"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

func saga(ns, name, rv string) *v1.OrderSaga {
	s := &v1.OrderSaga{}
	s.Namespace, s.Name, s.ResourceVersion = ns, name, rv
	return s
}

func TestSubscriptionKeepsTheNewestVersionOfEachSagaInItsScope(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	b := NewBroker()
	all := b.Subscribe(ctx, "shop", "")
	one := b.Subscribe(ctx, "shop", "a")
	h := b.Handler()
	h.OnAdd(saga("shop", "a", "1"), false)
	h.OnUpdate(nil, saga("shop", "b", "2"))
	h.OnUpdate(nil, saga("shop", "a", "3"))
	h.OnAdd(saga("other", "a", "4"), false)
	h.OnDelete(saga("shop", "b", "5"))

	<-all.Wake()
	got := all.Drain()
	if len(got) != 2 || got[0].Key.Name != "a" || got[0].Saga.ResourceVersion != "3" || got[1].Key.Name != "b" || !got[1].Gone {
		t.Fatalf("namespace subscriber drained %+v, want a@3 then b gone", got)
	}
	<-one.Wake()
	if got := one.Drain(); len(got) != 1 || got[0].Saga.ResourceVersion != "3" {
		t.Fatalf("saga subscriber drained %+v, want only a@3", got)
	}
	cancel()
	// context.AfterFunc unsubscribes on a goroutine of its own.
	for left := -1; left != 0; {
		b.mu.Lock()
		left = len(b.subs)
		b.mu.Unlock()
		runtime.Gosched()
	}
}
