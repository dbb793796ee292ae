package saga

import (
	"testing"
	"time"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// TestRecordDatesTheStartOfACall checks that a step's and a compensation's startedAt is
// when the call began, not when it returned, so that their durations mean something.
func TestRecordDatesTheStartOfACall(t *testing.T) {
	p := orderPlan()
	st := v1.SagaStatus{}
	Record(p, &st, Decision{Kind: KindStart}, Outcome{}, t0)
	took := 250 * time.Millisecond
	call := &Call{Step: v1.StepCreateOrder, Direction: Action, Attempt: 1}
	Record(p, &st, Decision{Kind: KindCall, Call: call}, Outcome{Kind: Succeeded, Took: took}, t0.Add(time.Second))
	s := stepOf(&st, v1.StepCreateOrder)
	if got := s.FinishedAt.Sub(s.StartedAt.Time); got != took {
		t.Errorf("step duration = %s, want %s (the call's own time)", got, took)
	}

	Record(p, &st, Decision{Kind: KindCall, Call: &Call{Step: v1.StepReserveInventory, Direction: Action, Attempt: 1, Final: true}},
		Outcome{Kind: BusinessFailure, Code: "OUT_OF_STOCK"}, t0.Add(2*time.Second))
	comp := &Call{Step: v1.StepReserveInventory, Direction: Compensate, Attempt: 1}
	Record(p, &st, Decision{Kind: KindCall, Call: comp}, Outcome{Kind: Succeeded, Took: took}, t0.Add(3*time.Second))
	c := stepOf(&st, v1.StepReserveInventory).Compensation
	if got := c.FinishedAt.Sub(c.StartedAt.Time); got != took {
		t.Errorf("compensation duration = %s, want %s", got, took)
	}
}
