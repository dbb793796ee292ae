package sagasim

import (
	"context"
	"slices"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// enqueue asks for a reconcile of name at the latest at t, as the workqueue keeps one
// entry per key with its earliest time.
func (s *sim) enqueue(name string, t time.Time) {
	if due, ok := s.queue[name]; !ok || t.Before(due) {
		s.queue[name] = t
	}
}

// reconcileNext runs the reconcile due first, moving the clock to its time. It reports
// false when nothing is queued.
func (s *sim) reconcileNext(ctx context.Context) bool {
	s.catchUp()
	if len(s.queue) == 0 {
		return false
	}
	names := make([]string, 0, len(s.queue))
	for name := range s.queue {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := s.queue[a].Compare(s.queue[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	name := names[0]
	s.clock.AdvanceTo(s.queue[name])
	delete(s.queue, name)
	s.reconcile(ctx, name)
	return true
}

// reconcile runs the real reconciler once for name (a saga, or definitionKey), perhaps
// crashing the manager at one of its operations.
func (s *sim) reconcile(ctx context.Context, name string) {
	s.reconciles++
	crashAt := 0
	if s.rng.IntN(1000) < s.faults.crash {
		crashAt = 1 + s.rng.IntN(10)
	}
	s.proc.begin(crashAt)
	if name == definitionKey {
		res, err := s.reconcileDefinition(ctx)
		s.settled(ctx, name, res, err)
		return
	}
	res, err := s.kind.reconciler().Reconcile(ctx, ctrl.Request{NamespacedName: types.NamespacedName{Namespace: Namespace, Name: name}})
	if s.proc.dead {
		s.restart(ctx)
		return
	}
	if obj, ok := s.api.get(ctx, name); ok {
		s.trace.addf("%s: reconciled: %s, step %s; %s", name, obj.Status.Phase, obj.Status.CurrentStep, resultText(res, err))
	} else {
		s.trace.addf("%s: reconciled: gone", name)
	}
	s.settled(ctx, name, res, err)
}

// settled restarts the manager if the reconcile crashed it, else queues name again.
func (s *sim) settled(ctx context.Context, name string, res ctrl.Result, err error) {
	if s.proc.dead {
		s.restart(ctx)
		return
	}
	s.requeue(name, res, err)
}

// requeue queues name again as the workqueue does after a reconcile: with the per-item
// backoff after an error, at RequeueAfter, or not at all.
func (s *sim) requeue(name string, res ctrl.Result, err error) {
	switch {
	case err != nil:
		s.failures[name]++
		s.enqueue(name, s.clock.Now().Add(workqueueBackoff(s.failures[name])))
	case res.RequeueAfter > 0:
		delete(s.failures, name)
		s.enqueue(name, s.clock.Now().Add(res.RequeueAfter))
	default:
		delete(s.failures, name)
	}
}

// catchUp delivers the watch's changes, in time order, until the next one is due after
// the first queued reconcile: a change that wakes a saga may come first.
func (s *sim) catchUp() {
	s.informer.deliver()
	for {
		at, ok := s.informer.next()
		if !ok {
			return
		}
		if first, queued := s.firstDue(); queued && first.Before(at) {
			return
		}
		s.clock.AdvanceTo(at)
		s.informer.deliver()
	}
}

// firstDue is the time of the first queued reconcile.
func (s *sim) firstDue() (time.Time, bool) {
	var first time.Time
	ok := false
	for _, due := range s.queue {
		if !ok || due.Before(first) {
			first, ok = due, true
		}
	}
	return first, ok
}

// sagaQueued reports whether a saga's reconcile is queued: the definition's own rechecks
// are not work that a saga waits for.
func (s *sim) sagaQueued() bool {
	if _, pending := s.informer.next(); pending {
		return true // a change on its way may wake a saga
	}
	for name := range s.queue {
		if name != definitionKey {
			return true
		}
	}
	return false
}

func resultText(res ctrl.Result, err error) string {
	switch {
	case err != nil:
		return "error: " + errText(err)
	case res.RequeueAfter > 0:
		return "requeue after " + res.RequeueAfter.String()
	}
	return "done"
}

// workqueueBackoff is controller-runtime's default per-item backoff: 5ms doubling to 1000s.
func workqueueBackoff(failures int) time.Duration {
	d := 5 * time.Millisecond
	for i := 1; i < failures && d < 1000*time.Second; i++ {
		d *= 2
	}
	return min(d, 1000*time.Second)
}

// restart starts a new manager after a crash: its queue starts empty and its informers'
// first lists wake every saga that still exists, and the definition.
func (s *sim) restart(ctx context.Context) {
	s.proc = &process{incarnation: s.proc.incarnation + 1}
	s.trace.addf("--- manager crashed; manager %d starts", s.proc.incarnation)
	s.queue = map[string]time.Time{}
	s.failures = map[string]int{}
	s.clock.Advance(time.Second)
	s.informer.resync()
	for _, sg := range s.sagas {
		if _, ok := s.api.get(ctx, sg.Name); ok {
			s.enqueue(sg.Name, s.clock.Now())
		}
	}
	s.definitionRestarted(ctx)
}

// sagaOfKey names the saga of an idempotency key (uid/step/direction).
func (s *sim) sagaOfKey(key string) string {
	uid, _, _ := strings.Cut(key, "/")
	for _, sg := range s.sagas {
		if string(sg.UID) == uid {
			return sg.Name
		}
	}
	return "?"
}

// timeoutOf is how long the step client waits for the call of an idempotency key
// (uid/step/direction) before it gives up.
func (s *sim) timeoutOf(key string) time.Duration {
	uid, rest, _ := strings.Cut(key, "/")
	step, _, _ := strings.Cut(rest, "/")
	for _, sg := range s.sagas {
		if string(sg.UID) == uid {
			return s.kind.callTimeout(sg, v1.StepName(step))
		}
	}
	return saga.DefaultStepTimeout
}
