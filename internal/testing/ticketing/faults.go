package ticketing

import (
	"net/http"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Mode is what a fault does to a call.
type Mode int

// Faults a network or an overloaded pod adds. None is a business failure: those come from
// the services' rules, or from Refuse.
const (
	// Unavailable answers 503 before the service sees the call: no effect.
	Unavailable Mode = iota + 1
	// AnswerLost lets the service handle the call (it takes effect, and its answer is
	// stored under the key), then answers the client 504 as a gateway whose upstream
	// answer was lost: a retry with the same key gets the first answer.
	AnswerLost
	// Held keeps the call waiting, without effect, until Heal; then the service handles
	// it. A client that gives up first leaves no effect.
	Held
)

func (m Mode) String() string {
	switch m {
	case Unavailable:
		return "Unavailable"
	case AnswerLost:
		return "AnswerLost"
	case Held:
		return "Held"
	}
	return "None"
}

// Rule applies a fault to matching calls. Step and Direction are read from the call's
// Idempotency-Key (<uid>/<step>/<action|compensate>); empty matches any.
type Rule struct {
	Step      string
	Direction string
	Mode      Mode
	// Times is how many matching calls the rule applies to; 0 means every one until Heal.
	Times int
}

func (r *Rule) matches(c Call) bool {
	return (r.Step == "" || r.Step == c.Step) && (r.Direction == "" || r.Direction == c.Direction)
}

// Fail adds a fault rule; the first matching rule with calls left applies.
func (s *Services) Fail(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &r)
}

// Heal removes every fault rule and lets every held call go on.
func (s *Services) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules, s.hits = nil, map[*Rule]int{}
	close(s.gate)
	s.gate = make(chan struct{})
}

// Refuse makes every later action on kind a business failure with status (4xx), code and
// message, through the state machine: the resource is REFUSED, the answer is stored
// under the key and replayed. Accept ends it.
func (s *Services) Refuse(kind Kind, status int, code, message string) {
	s.world.refuse(kind, platform.NewError(status, code, message))
}

// Accept ends Refuse on kind.
func (s *Services) Accept(kind Kind) { s.world.refuse(kind, nil) }

// match returns the rule that applies to c, counting the call against it.
func (s *Services) match(c Call) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if !r.matches(c) || (r.Times > 0 && s.hits[r] >= r.Times) {
			continue
		}
		s.hits[r]++
		return r
	}
	return nil
}

// hold waits until Heal, the client gives up or the services close; it reports whether
// the call may go on. The call shows in Waiting meanwhile.
func (s *Services) hold(r *http.Request, c Call) bool {
	s.mu.Lock()
	gate := s.gate
	s.next++
	id := s.next
	s.waiting[id] = c
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.waiting, id)
		s.mu.Unlock()
	}()
	select {
	case <-gate:
		return true
	case <-r.Context().Done():
	case <-s.closing:
	}
	return false
}

// Waiting returns the calls held now.
func (s *Services) Waiting() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Call, 0, len(s.waiting))
	for _, c := range s.waiting {
		out = append(out, c)
	}
	return out
}

// writeError writes a JSON error answer.
func writeError(w http.ResponseWriter, status int, code, message string) {
	platform.WriteError(w, platform.NewError(status, code, message))
}
