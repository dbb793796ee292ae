package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// created is when each saga's create was sent: the start of its latency.
type created struct {
	mu   sync.Mutex
	sent map[string]time.Time
	// ops are each create's (and its afterCreate's) time from send to return.
	ops []time.Duration
	// windowStart and window are an open loop's arrival window.
	windowStart time.Time
	window      time.Duration
	// firstSent and lastReturned bound the creates.
	firstSent, lastReturned time.Time
	errors                  atomic.Int64
	firstErr                atomic.Value
}

func newCreated(n int) *created { return &created{sent: make(map[string]time.Time, n)} }

func (c *created) record(name string, sent, returned time.Time, err error) {
	if err != nil {
		c.errors.Add(1)
		c.firstErr.CompareAndSwap(nil, err)
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent[name] = sent
	c.ops = append(c.ops, returned.Sub(sent))
	if c.firstSent.IsZero() || sent.Before(c.firstSent) {
		c.firstSent = sent
	}
	if returned.After(c.lastReturned) {
		c.lastReturned = returned
	}
}

// err returns the first create error, counted.
func (c *created) err() error {
	if n := c.errors.Load(); n > 0 {
		return fmt.Errorf("%d creates failed, the first: %w", n, c.firstErr.Load().(error)) //nolint:forcetypeassert // only errors are stored
	}
	return nil
}

// afterCreate runs right after a saga's create returned, in the same client: the
// create-and-status ceiling writes the status there.
type afterCreate func(ctx context.Context, saga *v1.OrderSaga) error

// createClosedLoop creates n sagas from clients concurrent clients, each sending its next
// create as soon as the last one (and then) returned.
func createClosedLoop(ctx context.Context, c client.Client, ns string, n, clients int, then afterCreate) *created {
	out := newCreated(n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(n) && ctx.Err() == nil; i = next.Add(1) - 1 {
				name := fmt.Sprintf("s-%06d", i)
				sent := time.Now()
				err := createOne(ctx, c, ns, name, then)
				out.record(name, sent, time.Now(), err)
			}
		})
	}
	wg.Wait()
	return out
}

func createOne(ctx context.Context, c client.Client, ns, name string, then afterCreate) error {
	saga := testgen.OrderSaga(name, testgen.WithNamespace(ns))
	if err := c.Create(ctx, saga); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	if then != nil {
		return then(ctx, saga)
	}
	return nil
}

// Arrivals is how an open loop spaces its creates.
type Arrivals string

// Arrival processes.
const (
	// Poisson draws exponential gaps (seeded), as independent shoppers arrive.
	Poisson Arrivals = "poisson"
	// Uniform spaces the creates exactly 1/rate apart.
	Uniform Arrivals = "uniform"
)

// createOpenLoop creates sagas at rate per second for d, each at its own scheduled time
// and in its own goroutine, whether or not the earlier ones have returned: a slow API
// server does not slow the arrivals. A saga's start is its SCHEDULED time, so that a
// create that could not be sent on time counts its wait too.
func createOpenLoop(ctx context.Context, c client.Client, ns string, rate float64, d time.Duration, arrivals Arrivals, seed uint64) *created {
	out := newCreated(int(rate * d.Seconds()))
	rng := rand.New(rand.NewPCG(seed, seed^0x5a5a)) //nolint:gosec // G404: arrival gaps, not secrets; seeded to be repeatable
	start := time.Now()
	out.windowStart, out.window = start, d
	var wg sync.WaitGroup
	at := time.Duration(0)
	for i := 0; ; i++ {
		gap := time.Duration(float64(time.Second) / rate)
		if arrivals == Poisson {
			gap = time.Duration(rng.ExpFloat64() * float64(time.Second) / rate)
		}
		at += gap
		if at >= d || ctx.Err() != nil {
			break
		}
		scheduled := start.Add(at)
		time.Sleep(time.Until(scheduled))
		name := fmt.Sprintf("s-%06d", i)
		wg.Go(func() {
			err := createOne(ctx, c, ns, name, nil)
			out.record(name, scheduled, time.Now(), err)
		})
	}
	wg.Wait()
	return out
}
