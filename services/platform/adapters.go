package platform

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"
)

// The adapters below turn a store's typed methods into the functions the generic handlers
// (Create, Transition, Get, List) take, so that services do not repeat the same glue.

// Compensated is a document a compensation answers with: the undone document, or a
// tombstone. Documents that embed Idem are Compensated.
type Compensated interface{ IsTombstone() bool }

// GetView adapts a store's get to Get: the answer is the view of the document found.
func GetView[D, V any](get func(ctx context.Context, id string) (D, error), view func(D) V) func(ctx context.Context, id string) (any, error) {
	return func(ctx context.Context, id string) (any, error) {
		d, err := get(ctx, id)
		if err != nil {
			return nil, err
		}
		return view(d), nil
	}
}

// ListView adapts a store's list to List: the answer is the page of views (see ViewPage).
func ListView[D, V any](list func(ctx context.Context, p ListParams) ([]D, string, error), view func(D) V) func(ctx context.Context, p ListParams) (any, error) {
	return func(ctx context.Context, p ListParams) (any, error) {
		docs, next, err := list(ctx, p)
		if err != nil {
			return nil, err
		}
		return ViewPage(docs, next, view), nil
	}
}

// OnFirstAnswer wraps create so that record sees each first answer: one that is neither
// an error nor a replay. Services count their create outcomes with it.
func OnFirstAnswer[Spec any](create CreateFunc[Spec], record func(StoredResponse)) CreateFunc[Spec] {
	return func(ctx context.Context, id string, spec Spec, key string) (StoredResponse, bool, error) {
		resp, replayed, err := create(ctx, id, spec, key)
		if err == nil && !replayed {
			record(resp)
		}
		return resp, replayed, err
	}
}

// CreateOutcome is the metric label of a create's first answer: succeeded, or refused when
// the stored answer is an error (a decline or rejection that sticks).
func CreateOutcome(resp StoredResponse, succeeded, refused string) string {
	if resp.ErrorCode() != "" {
		return refused
	}
	return succeeded
}

// tombstoneOutcome is the CompensationOutcome label of a compensation that found nothing to
// undo and left a tombstone.
const tombstoneOutcome = "tombstone"

// CompensationOutcome is the metric label of a compensation's result: "tombstone" when it
// left a tombstone (there was nothing to undo), changed when this call undid the resource,
// unchanged when it was already undone or never needed undoing.
func CompensationOutcome(tombstone, didChange bool, changed, unchanged string) string {
	switch {
	case tombstone:
		return tombstoneOutcome
	case didChange:
		return changed
	default:
		return unchanged
	}
}

// CompensationView adapts a store's compensation (such as Undo.Run) to Transition: the
// answer is the view of the document it returns, and outcomes counts each success by its
// CompensationOutcome label.
func CompensationView[D Compensated, V any](undo func(ctx context.Context, id, reason string) (D, bool, error), view func(D) V,
	outcomes *prometheus.CounterVec, changed, unchanged string,
) func(ctx context.Context, id, reason string) (any, error) {
	return func(ctx context.Context, id, reason string) (any, error) {
		d, didChange, err := undo(ctx, id, reason)
		if err != nil {
			return nil, err
		}
		outcomes.WithLabelValues(CompensationOutcome(d.IsTombstone(), didChange, changed, unchanged)).Inc()
		return view(d), nil
	}
}
