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
	// Elapsed is from the first create sent to the last request returned.
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
	ceilingCreate       = "ceiling: create only"
	ceilingCreateStatus = "ceiling: create + 1 status patch"
)

// Ceilings are both ceilings of one run.
type Ceilings struct {
	Create, CreateStatus CeilingRun
}

// measureCeilings measures both ceilings with n sagas from clients clients. status is the
// status the second ceiling writes: a Completed saga's, from the controller's run, so that
// the patch carries the same bytes as the controller's last write.
func (s *Stack) measureCeilings(ctx context.Context, n, clients int, status *v1.OrderSagaStatus) (Ceilings, error) {
	var out Ceilings
	if status == nil {
		return out, errNoStatus
	}
	var err error
	if out.Create, err = s.measureCeiling(ctx, ceilingCreate, n, clients, nil); err != nil {
		return out, err
	}
	out.CreateStatus, err = s.measureCeiling(ctx, ceilingCreateStatus, n, clients, patchStatus(s.Client, status))
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

func (s *Stack) measureCeiling(ctx context.Context, name string, n, clients int, then afterCreate) (CeilingRun, error) {
	run := CeilingRun{Name: name}
	ns, err := s.NewNamespace(ctx, "ceiling")
	if err != nil {
		return run, err
	}
	before, err := s.takeSample(ctx, nil)
	if err != nil {
		return run, err
	}
	cr := createClosedLoop(ctx, s.Client, ns, n, clients, then)
	after, err := s.takeSample(ctx, nil)
	if err != nil {
		return run, err
	}
	if err := cr.err(); err != nil {
		return run, err
	}
	run.Sagas = len(cr.sent)
	run.Elapsed = cr.lastReturned.Sub(cr.firstSent)
	run.Usage = usageBetween(before, after, labelClientsOnly)
	run.Latency = summarize(cr.ops)
	return run, nil
}
