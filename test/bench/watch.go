package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// ending is how one saga ended, as the watch saw it first.
type ending struct {
	at          time.Time // when the watch event arrived in this process
	phase       v1.Phase
	statusBytes int // size of the JSON of .status in that event
	status      v1.OrderSagaStatus
}

// completionWatch is the benchmark's single watch on the OrderSagas of one namespace. It is
// started before the first create, so that it sees every saga end; the time of the event
// that first shows a saga Completed (or Compensated, or Failed) is the saga's end. The
// watch is re-opened from the last resource version only if the API server closes it.
type completionWatch struct {
	mu      sync.Mutex
	ended   map[string]ending
	changed chan struct{} // closed and replaced at every new ending
	err     error

	cancel context.CancelFunc
	done   chan struct{}
}

// watchCompletions starts the watch and returns once the API server has accepted it.
func watchCompletions(ctx context.Context, c client.WithWatch, ns string) (*completionWatch, error) {
	w, err := c.Watch(ctx, &v1.OrderSagaList{}, client.InNamespace(ns))
	if err != nil {
		return nil, fmt.Errorf("watch ordersagas in %s: %w", ns, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	cw := &completionWatch{ended: map[string]ending{}, changed: make(chan struct{}), cancel: cancel, done: make(chan struct{})}
	go cw.run(ctx, c, ns, w)
	return cw, nil
}

func (cw *completionWatch) run(ctx context.Context, c client.WithWatch, ns string, w watch.Interface) {
	defer close(cw.done)
	rv := ""
	for {
		rv = cw.consume(ctx, w, rv)
		w.Stop()
		if ctx.Err() != nil {
			return
		}
		var err error
		w, err = c.Watch(ctx, &v1.OrderSagaList{}, client.InNamespace(ns),
			&client.ListOptions{Raw: &metav1.ListOptions{ResourceVersion: rv}})
		if err != nil {
			cw.fail(fmt.Errorf("re-open the watch at %q: %w", rv, err))
			return
		}
	}
}

// consume reads events until the watch closes and returns the last resource version seen.
func (cw *completionWatch) consume(ctx context.Context, w watch.Interface, rv string) string {
	for {
		select {
		case <-ctx.Done():
			return rv
		case ev, ok := <-w.ResultChan():
			if !ok {
				return rv
			}
			if ev.Type == watch.Error {
				cw.fail(fmt.Errorf("watch error: %v", ev.Object))
				return rv
			}
			if s, isSaga := ev.Object.(*v1.OrderSaga); isSaga {
				rv = s.ResourceVersion
				cw.observe(time.Now(), s)
			}
		}
	}
}

func (cw *completionWatch) observe(at time.Time, s *v1.OrderSaga) {
	switch s.Status.Phase {
	case v1.PhaseCompleted, v1.PhaseCompensated, v1.PhaseFailed:
	default:
		return
	}
	cw.mu.Lock()
	defer cw.mu.Unlock()
	if _, seen := cw.ended[s.Name]; seen {
		return
	}
	raw, err := json.Marshal(s.Status)
	if err != nil {
		cw.err = fmt.Errorf("marshal the status of %s: %w", s.Name, err)
	}
	cw.ended[s.Name] = ending{at: at, phase: s.Status.Phase, statusBytes: len(raw), status: s.Status}
	close(cw.changed)
	cw.changed = make(chan struct{})
}

func (cw *completionWatch) fail(err error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	cw.err = err
	close(cw.changed)
	cw.changed = make(chan struct{})
}

// count returns how many sagas have ended, and a channel closed at the next ending.
func (cw *completionWatch) count() (int, <-chan struct{}, error) {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return len(cw.ended), cw.changed, cw.err
}

// waitFor waits until n sagas have ended, or ctx ends.
func (cw *completionWatch) waitFor(ctx context.Context, n int) error {
	for {
		got, changed, err := cw.count()
		if err != nil {
			return err
		}
		if got >= n {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d of %d sagas ended: %w", got, n, context.Cause(ctx))
		case <-changed:
		}
	}
}

// endings returns a copy of what the watch has seen.
func (cw *completionWatch) endings() map[string]ending {
	cw.mu.Lock()
	defer cw.mu.Unlock()
	return maps.Clone(cw.ended)
}

// Stop closes the watch and waits for its reader to return.
func (cw *completionWatch) Stop() {
	cw.cancel()
	<-cw.done
}
