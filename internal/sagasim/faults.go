package sagasim

import "math/rand/v2"

// fault is one thing that can go wrong at a point of the schedule; none is the first of
// each kind.
type fault int

const (
	none fault = iota

	// Faults of a write of the reconciler to the API server.
	writeLost      // never reaches the API server
	writeReplyLost // applied, but the reconciler hears an error
	writeRaced     // a user changes the object first, so an optimistic-lock write conflicts
	writeOverlap   // another replica of the manager reconciles the saga first (sharding)

	// Faults of a call to a service.
	callUnavailableBefore // 503, no effect
	callThrottledBefore   // 429, no effect
	callUnavailableAfter  // took effect, then 503
	callTimeoutBefore     // no answer and no effect
	callTimeoutAfter      // took effect, answer lost
	callTimeoutLate       // no answer; takes effect at some later point

	// Other draws.
	duplicateLater // the network will deliver this request once more, later
	changeNow      // a user changes the saga while a batch of calls runs

	// Draws of Saga mode, at each write of a Saga.
	definitionDeleted    // a user deletes the SagaDefinition
	definitionReconciled // the SagaDefinition's controller runs first, once it is being deleted

	// Lags of the watch, at each change of a saga: how long until the cache has it.
	watchLagShort // milliseconds
	watchLagLong  // up to seconds
)

// lastFault is the last fault declared: draw visits none to lastFault.
const lastFault = watchLagLong

// weights is a distribution over faults: the weight of none first, then of the others.
type weights map[fault]int

// faultRates are the chances of each fault in one schedule. Each seed draws its own
// profile, from calm to stormy, so that the long runs cover both the rare fault amid
// healthy traffic and the pile-up of many.
type faultRates struct {
	write, call, duplicate, midBatchChange weights
	// definition and definitionActs are drawn in Saga mode only.
	definition, definitionActs weights
	// watchLag is how late a saga's change reaches the manager's cache.
	watchLag weights
	// crash is the chance in a thousand that a reconcile crashes at one of its operations.
	crash int
	// external is the chance in a hundred that a step of the schedule is a user's change.
	external int
	// jump is the chance in a hundred that a step of the schedule jumps the clock.
	jump int
}

func drawRates(rng *rand.Rand) faultRates {
	storm := rng.IntN(4) // 0 calm .. 3 stormy
	w := func(base int) int { return base * storm }
	return faultRates{
		write:          weights{none: 100, writeLost: w(3), writeReplyLost: w(3), writeRaced: w(4), writeOverlap: w(2)},
		call:           weights{none: 100, callUnavailableBefore: w(2), callThrottledBefore: w(1), callUnavailableAfter: w(2), callTimeoutBefore: w(2), callTimeoutAfter: w(2), callTimeoutLate: w(1)},
		duplicate:      weights{none: 100, duplicateLater: w(2)},
		midBatchChange: weights{none: 100, changeNow: w(2)},
		definition:     weights{none: 150, definitionDeleted: 1},
		definitionActs: weights{none: 1, definitionReconciled: 1},
		watchLag:       weights{none: 100, watchLagShort: 50 + w(10), watchLagLong: w(3)},
		crash:          w(30),
		external:       5 + w(5),
		jump:           5 + w(3),
	}
}

// healed are the rates after the faults stop: nothing goes wrong any more.
func healed() faultRates {
	return faultRates{write: weights{none: 1}, call: weights{none: 1}, duplicate: weights{none: 1}, midBatchChange: weights{none: 1},
		definition: weights{none: 1}, definitionActs: weights{none: 1},
		// A cache behind the API server is how a manager always is, not a fault.
		watchLag: weights{none: 1, watchLagShort: 1}}
}

// draw picks a fault from w. Faults are visited in their declared order, never in map
// order, so that a seed replays exactly.
func (s *sim) draw(w weights) fault {
	total := 0
	for f := none; f <= lastFault; f++ {
		total += w[f]
	}
	if total == 0 {
		return none
	}
	n := s.rng.IntN(total)
	for f := none; f <= lastFault; f++ {
		if n < w[f] {
			return f
		}
		n -= w[f]
	}
	return none
}
