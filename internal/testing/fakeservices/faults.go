package fakeservices

import (
	"fmt"
	"net/http"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Mode is a fault that a real deployment can produce. No mode answers a business
// failure: those come from the models' rules (see Config).
type Mode int

// Fault modes. The zero Mode is no fault, as Call.Fault shows it.
const (
	// Unavailable answers 503 FAULT_INJECTED without running the model, exactly as the
	// services' own fault injection does in its "before" phase (a crashing or overloaded
	// pod): transient, and without effect.
	Unavailable Mode = iota + 1
	// Hang holds the request without running the model and never answers; the client
	// gives up after its stepTimeout: a timeout of unknown outcome, in truth without effect.
	Hang
	// Slow waits Rule.Delay, then lets the model answer: with effect. Like the services'
	// own latency injection, a client that gives up during the delay leaves no effect.
	Slow
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case 0:
		return "None"
	case Unavailable:
		return "Unavailable"
	case Hang:
		return "Hang"
	case Slow:
		return "Slow"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Rule applies a fault to the calls of one step and direction, which the fake reads from
// the Idempotency-Key header ("<uid>/<Step>/<direction>"). Rules are tried in the order
// they were added; the first that matches and has calls left applies.
type Rule struct {
	// Step is the step the key names, e.g. "ProcessPayment" or "NotifyCancellation"; empty
	// matches every step.
	Step string
	// Direction is "action" or "compensate"; empty matches both.
	Direction string
	// Mode is the fault; required.
	Mode Mode
	// Times is how many calls the rule applies to; 0 means all.
	Times int
	// Delay is the wait of Slow; required for Slow.
	Delay time.Duration
}

// Fail adds a failure rule. It panics on a rule without a valid Mode, or a Slow rule
// without Delay: a rule that silently did nothing would let a test pass for nothing.
func (s *Services) Fail(r Rule) {
	if r.Mode < Unavailable || r.Mode > Slow || (r.Mode == Slow) != (r.Delay > 0) || r.Times < 0 {
		panic(fmt.Sprintf("fakeservices: invalid rule %+v", r))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &r)
}

// Heal removes every failure rule: from now on the models answer every request.
func (s *Services) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// match returns the rule that applies to c, counting the use, or nil.
func (s *Services) match(c Call) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if (r.Step == "" || r.Step == c.Step) && (r.Direction == "" || r.Direction == c.Direction) &&
			(r.Times == 0 || s.hits[r] < r.Times) {
			s.hits[r]++
			return r
		}
	}
	return nil
}

// writeUnavailable answers what platform.Faults answers in its "before" phase.
func writeUnavailable(w http.ResponseWriter) {
	platform.WriteError(w, platform.NewError(http.StatusServiceUnavailable, platform.CodeFaultInjected,
		"fault injected for chaos testing"))
}

// wait waits d, and reports false if the client gave up, or the fake closed, first.
func (s *Services) wait(r *http.Request, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	case <-s.closing:
		return false
	}
}
