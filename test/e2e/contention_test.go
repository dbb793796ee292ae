package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Twenty shoppers want the last ten units at once: exactly ten get one, the other ten are
// rolled back, and the stock never shows less than zero.
var _ = Describe("Contention", Label("e2e", labelCluster), func() {
	It("sells exactly the stock to 20 concurrent sagas and never oversells", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-contention")
		setProduct(ctx, "E2E-CNT-1", "5.00", 10)
		watch := watchStock(ctx, "E2E-CNT-1", 20*time.Millisecond)
		DeferCleanup(func() { watch.stop() })

		applySagas(ctx, ns, many(20, "buyer", "E2E-CNT-1", 1, "5.00", retry{})...)
		sagas := waitAllTerminal(ctx, ns, 20, 2*time.Minute)
		obs := watch.stop()
		GinkgoWriter.Printf("contention: %v; stock observed %d times, lowest %d, values %v\n",
			byPhase(sagas), obs.count, obs.min, obs.distinct)

		Expect(obs.errors).To(BeEmpty(), "every stock observation answered")
		Expect(obs.min).To(BeNumerically(">=", 0), "stock never negative")
		Expect(byPhase(sagas)).To(Equal(map[v1.Phase]int{v1.PhaseCompleted: 10, v1.PhaseCompensated: 10}))
		Expect(failureReasons(sagas)).To(Equal([]string{v1.ReasonOutOfStock}))
		Expect(stockOf(ctx, "E2E-CNT-1")).To(Equal(0))
		expectConsistent(ctx, sagas)
	}, SpecTimeout(3*time.Minute))
})

// stockObservations is what a stock watcher saw.
type stockObservations struct {
	count    int
	min      int
	distinct []int
	errors   []string
}

type stockWatcher struct {
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	obs    stockObservations
}

// watchStock reads a product's stock every interval until stop is called.
func watchStock(ctx context.Context, productID string, interval time.Duration) *stockWatcher {
	ctx, cancel := context.WithCancel(ctx)
	w := &stockWatcher{cancel: cancel, done: make(chan struct{}), obs: stockObservations{min: 1 << 30}}
	go func() {
		defer close(w.done)
		seen := map[int]bool{}
		for ctx.Err() == nil {
			code, b, err := call(ctx, http.MethodGet, "inventory", "/v1/products/"+productID, nil)
			var p product
			switch {
			case ctx.Err() != nil:
				return
			case err != nil:
				w.record(func(o *stockObservations) { o.errors = append(o.errors, err.Error()) })
			case code != http.StatusOK || json.Unmarshal(b, &p) != nil:
				w.record(func(o *stockObservations) { o.errors = append(o.errors, string(b)) })
			default:
				w.record(func(o *stockObservations) {
					o.count++
					o.min = min(o.min, p.Stock)
					if !seen[p.Stock] {
						seen[p.Stock] = true
						o.distinct = append(o.distinct, p.Stock)
					}
				})
			}
			select {
			case <-ctx.Done():
			case <-time.After(interval):
			}
		}
	}()
	return w
}

func (w *stockWatcher) record(f func(*stockObservations)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	f(&w.obs)
}

// stop ends the watch and returns what it saw.
func (w *stockWatcher) stop() stockObservations {
	w.cancel()
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.obs
}
