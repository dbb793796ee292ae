package bench

import (
	"context"
	"errors"
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// CeilingRun is the API server's own limit for OrderSagas with no controller running: the
// same clients create the same sagas, and (in the second ceiling) write each one's status
// once, as the controller's write does.
type CeilingRun struct {
	Name  string
	Sagas int
	// Elapsed is from the first create sent to the last request returned or, for a watched
	// status ceiling, to the watch event that showed the last saga's status, as a
	// controller run's ends.
	Elapsed time.Duration
	// Latency is of one client's create (and its status patch), send to return.
	Latency latencySummary
	Usage   Usage
}

// Rate is sagas per second.
func (r CeilingRun) Rate() float64 { return perSecond(r.Sagas, r.Elapsed) }

// errNoStatus is returned when a ceiling needs a Completed status and no run gave one.
var errNoStatus = errors.New("no Completed status to write: run the controller first")

// Ceiling names.
const (
	ceilingCreate                = "ceiling: create only"
	ceilingCreateStatus          = "ceiling: create + 1 status patch"
	ceilingCreateStatusUnwatched = "ceiling: create + 1 status patch, unwatched"
)

// Ceilings are the ceilings of one run. Create and CreateStatus carry the benchmark's
// completion watch, as every controller run does, so that the watch's cost (the API server
// encodes and sends each event once more; this process decodes it) weighs on both sides of
// a ratio. CreateStatusUnwatched is the same ceiling without it, the method before, kept
// so that a reader sees what the watch costs.
type Ceilings struct {
	Create, CreateStatus, CreateStatusUnwatched CeilingRun
}

// all are the ceilings measured, in the order of the tables.
func (c Ceilings) all() []CeilingRun {
	var out []CeilingRun
	for _, cr := range []CeilingRun{c.Create, c.CreateStatus, c.CreateStatusUnwatched} {
		if cr.Sagas > 0 {
			out = append(out, cr)
		}
	}
	return out
}

// measureCeilings measures the ceilings with n sagas from clients clients. status is the
// status the status ceilings write: a Completed saga's, from the controller's run, so that
// the patch carries the same bytes as the controller's last write.
func (s *Stack) measureCeilings(ctx context.Context, n, clients int, status *v1.OrderSagaStatus) (Ceilings, error) {
	var out Ceilings
	if status == nil {
		return out, errNoStatus
	}
	var err error
	if out.Create, err = s.measureCeiling(ctx, ceilingCreate, n, clients, nil, true); err != nil {
		return out, err
	}
	if out.CreateStatus, err = s.measureCeiling(ctx, ceilingCreateStatus, n, clients, patchStatus(s.Client, status), true); err != nil {
		return out, err
	}
	out.CreateStatusUnwatched, err = s.measureCeiling(ctx, ceilingCreateStatusUnwatched, n, clients, patchStatus(s.Client, status), false)
	return out, err
}

// patchStatus writes status as the controller does: one merge patch of the status
// subresource, with the resource version the create returned (optimistic lock).
func patchStatus(c client.Client, status *v1.OrderSagaStatus) afterCreate {
	return func(ctx context.Context, saga *v1.OrderSaga) error {
		base := saga.DeepCopy()
		saga.Status = *status.DeepCopy()
		if err := c.Status().Patch(ctx, saga, client.MergeFromWithOptions(base, client.MergeFromWithOptimisticLock{})); err != nil {
			return fmt.Errorf("patch status of %s: %w", saga.Name, err)
		}
		return nil
	}
}

// measureCeiling runs one ceiling: n creates (each followed by then) in a new namespace,
// with the benchmark's completion watch open on it when watched.
func (s *Stack) measureCeiling(ctx context.Context, name string, n, clients int, then afterCreate, watched bool) (CeilingRun, error) {
	run := CeilingRun{Name: name}
	ns, err := s.NewNamespace(ctx, "ceiling")
	if err != nil {
		return run, err
	}
	var cw *completionWatch
	if watched {
		if cw, err = watchCompletions(ctx, s.Client, ns); err != nil {
			return run, err
		}
		defer cw.Stop()
	}
	before, err := s.takeSample(ctx, nil)
	if err != nil {
		return run, err
	}
	cr := createClosedLoop(ctx, s.Client, ns, n, clients, then)
	if err := cr.err(); err != nil {
		return run, err
	}
	end := cr.lastReturned
	if cw != nil {
		if then != nil {
			if end, err = lastEnding(ctx, cw, len(cr.sent)); err != nil {
				return run, fmt.Errorf("%s: %w", name, err)
			}
		}
		// As a controller run's window closes: the watch stops first, so that the API
		// server counts it, and the sample waits until the API server is quiet.
		cw.Stop()
		if err := s.quiesce(ctx); err != nil {
			return run, err
		}
	}
	after, err := s.takeSample(ctx, nil)
	if err != nil {
		return run, err
	}
	run.Sagas = len(cr.sent)
	run.Elapsed = end.Sub(cr.firstSent)
	run.Usage = usageBetween(before, after, labelClientsOnly)
	run.Latency = summarize(cr.ops)
	return run, nil
}

// ceilingWatchTimeout bounds the wait for a status ceiling's last event, which follows its
// last patch by milliseconds.
const ceilingWatchTimeout = time.Minute

// lastEnding waits until the watch has seen n sagas end and returns when the last did.
func lastEnding(ctx context.Context, cw *completionWatch, n int) (time.Time, error) {
	ctx, cancel := context.WithTimeout(ctx, ceilingWatchTimeout)
	defer cancel()
	if err := cw.waitFor(ctx, n); err != nil {
		return time.Time{}, err
	}
	var last time.Time
	for _, e := range cw.endings() {
		if e.at.After(last) {
			last = e.at
		}
	}
	return last, nil
}
