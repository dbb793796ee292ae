package backend

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// recorder is a fetch that remembers the keys of every call.
type recorder struct {
	mu    sync.Mutex
	calls [][]string
	err   error
}

func (r *recorder) fetch(_ context.Context, keys []string) (map[string][]string, error) {
	r.mu.Lock()
	r.calls = append(r.calls, slices.Clone(keys))
	r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	out := map[string][]string{}
	for _, k := range keys {
		out[k] = []string{"record of " + k}
	}
	return out, nil
}

func loadAll(t *testing.T, b *batcher[string], keys []string) []error {
	t.Helper()
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, k := range keys {
		wg.Go(func() {
			got, err := b.load(t.Context(), k, nil)
			if err == nil && (len(got) != 1 || got[0] != "record of "+k) {
				err = fmt.Errorf("load(%s) = %v", k, got)
			}
			errs[i] = err
		})
	}
	wg.Wait()
	return errs
}

func TestBatcherReadsEachKeyOnceAndAtMostMaxBatchPerCall(t *testing.T) {
	many := make([]string, 0, 150)
	for i := range 150 {
		many = append(many, fmt.Sprintf("o-%03d", i))
	}
	cases := []struct {
		name     string
		keys     []string
		distinct int
	}{
		{"ten fields asking for three orders", []string{"a", "b", "c", "a", "b", "c", "a", "b", "c", "a"}, 3},
		{"150 orders: a full batch, then the rest", many, 150},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			b := newBatcher(t.Context(), r.fetch)
			for _, err := range loadAll(t, b, tc.keys) {
				if err != nil {
					t.Fatal(err)
				}
			}
			seen := readsPerKey(t, r.calls)
			if len(seen) != tc.distinct {
				t.Errorf("%d keys read, want %d", len(seen), tc.distinct)
			}
			// How many calls depends on when the goroutines ask (one that asks after the
			// window opens a batch of its own); every key once is the rule.
			t.Logf("%d keys in %d calls", len(seen), len(r.calls))
		})
	}
}

// readsPerKey counts the reads of each key over calls, failing on a call above MaxBatch or
// a key read twice.
func readsPerKey(t *testing.T, calls [][]string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for _, call := range calls {
		if len(call) > MaxBatch {
			t.Errorf("a call named %d orders, more than %d", len(call), MaxBatch)
		}
		for _, k := range call {
			seen[k]++
			if seen[k] > 1 {
				t.Errorf("%s read %d times", k, seen[k])
			}
		}
	}
	return seen
}

func TestBatcherGivesTheCallsErrorToEveryWaiter(t *testing.T) {
	down := errors.New("payment service down")
	r := &recorder{err: down}
	b := newBatcher(t.Context(), r.fetch)
	for _, err := range loadAll(t, b, []string{"a", "b", "a"}) {
		if !errors.Is(err, down) {
			t.Errorf("error %v, want %v", err, down)
		}
	}
}

func TestBatcherReadsALoneKeyByItsOwnRead(t *testing.T) {
	r := &recorder{}
	b := newBatcher(t.Context(), r.fetch)
	got, err := b.load(t.Context(), "a", func(context.Context) ([]string, error) { return []string{"by ID"}, nil })
	if err != nil || len(got) != 1 || got[0] != "by ID" {
		t.Fatalf("load = %v, %v; want the lone read's answer", got, err)
	}
	if len(r.calls) != 0 {
		t.Errorf("the batch read was called %d times for a lone key", len(r.calls))
	}
}

func TestUnavailableErrorsDoNotNameTheServicesAddress(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// A port nothing listens on: the dial is refused.
	c := NewClient(stepclient.Resolver{Overrides: map[string]string{stepclient.ServicePayment: "http://127.0.0.1:1"}}, time.Second, m)
	_, err = c.Payment(t.Context(), "pay-1")
	if _, ok := errors.AsType[*UnavailableError](err); !ok {
		t.Fatalf("error %v, want an UnavailableError", err)
	}
	if strings.Contains(err.Error(), "127.0.0.1") || strings.Contains(err.Error(), "/v1/") {
		t.Errorf("error %q names the service's address", err)
	}
}
