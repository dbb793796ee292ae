package graph

import (
	"context"
	"fmt"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// sharedCache lists as the informer cache does with UnsafeDisableDeepCopy: each stored
// object is copied into the list by value, its maps and slices shared.
type sharedCache struct {
	client.Reader
	objects []*v1.OrderSaga
}

func (c *sharedCache) List(_ context.Context, list client.ObjectList, _ ...client.ListOption) error {
	l, ok := list.(*v1.OrderSagaList)
	if !ok {
		return fmt.Errorf("list %T", list)
	}
	l.Items = make([]v1.OrderSaga, 0, len(c.objects))
	for _, o := range c.objects {
		l.Items = append(l.Items, *o)
	}
	return nil
}

func tenThousandSagas() *sharedCache {
	c := &sharedCache{}
	start := time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)
	phases := []v1.Phase{v1.PhaseCompleted, v1.PhaseCompleted, v1.PhaseCompleted, v1.PhaseCompensated, v1.PhaseRunning}
	for i := range 10_000 {
		s := testgen.OrderSaga(fmt.Sprintf("o-%05d", i), testgen.WithNamespace("shop"))
		s.CreationTimestamp = metav1.NewTime(start.Add(time.Duration(i) * time.Second))
		s.Status.Phase = phases[i%len(phases)]
		c.objects = append(c.objects, s)
	}
	return c
}

// BenchmarkOrdersPageOf10000 is the dashboard's list with 10,000 sagas in the cache: the
// first page of 50, a page deep in the list, and a phase filter, each against the floor
// of copying the 10,000 out of the cache (its peer in the same run).
func BenchmarkOrdersPageOf10000(b *testing.B) {
	cache := tenThousandSagas()
	r := &Resolver{Cache: cache}
	b.Run("floor: list 10000 from the cache", func(b *testing.B) {
		for b.Loop() {
			var l v1.OrderSagaList
			if err := cache.List(b.Context(), &l); err != nil {
				b.Fatal(err)
			}
		}
	})
	deep := cursorOf(cache.objects[5000])
	compensated := model.PhaseCompensated
	b.Run("first page of 50", func(b *testing.B) { benchPage(b, r, nil, nil, 10_000) })
	b.Run("page of 50 after the 5000th", func(b *testing.B) { benchPage(b, r, nil, &deep, 10_000) })
	b.Run("Compensated only, first page", func(b *testing.B) { benchPage(b, r, &compensated, nil, 2_000) })
}

func benchPage(b *testing.B, r *Resolver, phase *model.Phase, cursor *string, total int) {
	b.Helper()
	for b.Loop() {
		sagas, err := r.listSagas(b.Context(), "shop", nil, ordersFilter(phase, nil))
		if err != nil {
			b.Fatal(err)
		}
		conn, err := page(sagas, 50, cursor)
		if err != nil || len(conn.Edges) != 50 || conn.TotalCount != total {
			b.Fatalf("page: %v, %d edges of %d", err, len(conn.Edges), conn.TotalCount)
		}
	}
}
