package fakeservices

import (
	"net/http"
	"strings"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
)

// Call is one request the fake received.
type Call struct {
	// Service is the service whose server received the call.
	Service string
	// Key is the Idempotency-Key header: "<uid>/<Step>/<direction>"; Step and Direction
	// are read from it (empty when the header does not have that shape).
	Key       string
	Step      string
	Direction string
	Method    string
	Path      string
	// Status is what the client was answered; 0 when it got no answer (Hang, or a Slow
	// call the client gave up on).
	Status int
	// Fault is the fault applied, 0 when none was.
	Fault Mode
	At    time.Time
}

func newCall(service string, r *http.Request) Call {
	key := r.Header.Get(platform.IdempotencyKeyHeader)
	c := Call{Service: service, Key: key, Method: r.Method, Path: r.URL.Path, At: time.Now()}
	if parts := strings.Split(key, "/"); len(parts) == 3 {
		c.Step, c.Direction = parts[1], parts[2]
	}
	return c
}

func (s *Services) record(c Call, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Status = status
	s.calls = append(s.calls, c)
}

// Calls returns the calls received so far whose key starts with prefix (a saga UID), in
// the order they were answered (a hanging call when it arrived).
func (s *Services) Calls(prefix string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if strings.HasPrefix(c.Key, prefix) {
			out = append(out, c)
		}
	}
	return out
}
