package bench

import (
	"context"
	"fmt"
	"slices"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Keeping up, in an open loop: over the second half of the arrival window (the first half
// lets latency and backlog settle), completions are at least keepUpRatio of arrivals, and
// the backlog (created, not yet ended) at the end of the window is no more than
// backlogSlack above the backlog at its middle.
const (
	keepUpRatio = 0.95
	// backlogSlack allows the noise of random arrivals: 5 % of the half's arrivals, at
	// least 3 sagas.
	backlogSlackShare = 0.05
	backlogSlackMin   = 3
)

// backlogVerdict is whether completions kept up with an open loop's arrivals.
type backlogVerdict struct {
	Rate                       float64 // asked arrivals per second
	Arrivals                   int
	ArrivalsHalf, EndedHalf    int     // in the window's second half
	BacklogMid, BacklogEnd     float64 // mean backlog over [0.4T, 0.5T] and [0.9T, T]
	KeptUp                     bool
	CompletionRatio, Allowance float64
}

// openLoopOptions set the open loop.
type openLoopOptions struct {
	controllerOptions
	Window   time.Duration
	Arrivals Arrivals
	Seed     uint64
}

// measureOpenLoop runs the controller under rate arrivals per second for o.Window, waits
// for the backlog to drain and judges whether completions kept up.
func (s *Stack) measureOpenLoop(ctx context.Context, o openLoopOptions, rate float64) (ControllerRun, error) {
	co := o.controllerOptions
	co.Name = fmt.Sprintf("open-%.1f", rate)
	co.Judge = func(cr *created, ended map[string]ending) *backlogVerdict {
		return judgeBacklog(rate, cr, ended)
	}
	gen := func(ctx context.Context, c client.Client, ns string, _ *completionWatch) *created {
		return createOpenLoop(ctx, c, ns, rate, o.Window, o.Arrivals, o.Seed)
	}
	return s.measureController(ctx, co, gen)
}

func judgeBacklog(rate float64, cr *created, ended map[string]ending) *backlogVerdict {
	sent, done := make([]time.Time, 0, len(cr.sent)), make([]time.Time, 0, len(cr.sent))
	for name, at := range cr.sent {
		sent = append(sent, at)
		if e, ok := ended[name]; ok {
			done = append(done, e.at)
		}
	}
	slices.SortFunc(sent, time.Time.Compare)
	slices.SortFunc(done, time.Time.Compare)
	start, window := cr.windowStart, cr.window
	at := func(f float64) time.Time { return start.Add(time.Duration(f * float64(window))) }
	v := &backlogVerdict{Rate: rate, Arrivals: len(sent)}
	v.ArrivalsHalf = countIn(sent, at(0.5), at(1))
	v.EndedHalf = countIn(done, at(0.5), at(1))
	v.BacklogMid = meanBacklog(sent, done, at(0.4), at(0.5))
	v.BacklogEnd = meanBacklog(sent, done, at(0.9), at(1))
	if v.ArrivalsHalf > 0 {
		v.CompletionRatio = float64(v.EndedHalf) / float64(v.ArrivalsHalf)
	}
	v.Allowance = max(backlogSlackMin, backlogSlackShare*float64(v.ArrivalsHalf))
	v.KeptUp = v.ArrivalsHalf > 0 && v.CompletionRatio >= keepUpRatio && v.BacklogEnd-v.BacklogMid <= v.Allowance
	return v
}

// countIn counts the sorted times in [from, to).
func countIn(sorted []time.Time, from, to time.Time) int {
	return countBefore(sorted, to) - countBefore(sorted, from)
}

func countBefore(sorted []time.Time, t time.Time) int {
	i, _ := slices.BinarySearchFunc(sorted, t, time.Time.Compare)
	return i
}

// meanBacklog averages created-minus-ended over 50 points of [from, to).
func meanBacklog(sent, done []time.Time, from, to time.Time) float64 {
	const points = 50
	step := to.Sub(from) / points
	var sum int
	for i := range points {
		t := from.Add(time.Duration(i) * step)
		sum += countBefore(sent, t) - countBefore(done, t)
	}
	return float64(sum) / points
}

// Saturation is the open loop's search for the highest rate the controller keeps up with.
type Saturation struct {
	Start  float64 // the closed loop's throughput, where the search began
	Rate   float64 // the highest rate that kept up
	Capped bool    // no probed rate failed: the saturation is at least Rate
	Probes []ControllerRun
}

// Search limits: how far the rate grows or shrinks by growFactor before the bisection,
// and when the bisection stops.
const (
	growFactor    = 1.5
	maxGrowSteps  = 4
	bisectEnough  = 1.1 // stop when the failing rate is within 10 % of the passing one
	maxTotalSteps = 12
)

// searchSaturation finds the saturation rate: from start, grow (or shrink) by growFactor
// until one rate keeps up and another does not, then bisect steps times.
func (s *Stack) searchSaturation(ctx context.Context, o openLoopOptions, start float64, steps int) (Saturation, error) {
	sat := Saturation{Start: start}
	probe := func(rate float64) (bool, error) {
		run, err := s.measureOpenLoop(ctx, o, rate)
		if err != nil {
			return false, err
		}
		sat.Probes = append(sat.Probes, run)
		return run.Backlog.KeptUp && run.Other == 0, nil
	}
	lo, hi, err := bracket(start, probe)
	if err != nil {
		return sat, err
	}
	for i := 0; i < steps && lo > 0 && hi > 0 && hi/lo > bisectEnough && len(sat.Probes) < maxTotalSteps; i++ {
		mid := (lo + hi) / 2
		ok, err := probe(mid)
		if err != nil {
			return sat, err
		}
		if ok {
			lo = mid
		} else {
			hi = mid
		}
	}
	if lo == 0 {
		return sat, fmt.Errorf("no rate down to %.2f/s kept up", hi)
	}
	sat.Rate, sat.Capped = lo, hi == 0
	return sat, nil
}

// bracket returns a rate that kept up (lo) and one that did not (hi); either is 0 when
// maxGrowSteps did not find it.
func bracket(start float64, probe func(float64) (bool, error)) (lo, hi float64, err error) {
	ok, err := probe(start)
	if err != nil {
		return 0, 0, err
	}
	if ok {
		lo = start
	} else {
		hi = start
	}
	for range maxGrowSteps {
		if lo > 0 && hi > 0 {
			break
		}
		r := lo * growFactor
		if lo == 0 {
			r = hi / growFactor
		}
		if ok, err = probe(r); err != nil {
			return lo, hi, err
		}
		if ok {
			lo = r
		} else {
			hi = r
		}
	}
	return lo, hi, nil
}

// loadShares are the fractions of the saturation rate the open loop reports latency at.
var loadShares = []float64{0.25, 0.50, 0.75, 0.90} //nolint:gochecknoglobals // a constant table; Go has no constant slices
