// Package fakeservices is a FAKE of the five OrderSaga services for the controller's
// envtest tests and the benchmark: not a service, and not a model of one.
//
// The fake answers nothing itself. Every request is answered by the honest in-memory
// MODELS of internal/testing/servicemodel — the real services' routes, validation, state
// machines, stock, payment rules, shipping countries, idempotency and tombstones, held to
// the real services by that package's contract suite — served over real HTTP
// (httptest), one loopback server per service, so that the real step client talks to them
// exactly as it talks to a deployment. A business failure (out of stock, a declined
// payment, an unsupported destination, a failed delivery) is therefore never injected: a
// test asks for one with its saga's spec, against the catalog and rules that Config sets
// (see world.go).
//
// The fake only adds what a network and a crashing or overloaded pod add (faults.go):
// a 503 without effect, a request that hangs without effect until the client gives up,
// and a slow answer with effect. It records every request it received (calls.go), and
// reads back from the models' effect log what took effect (effects.go), so that "each
// effect happened once" is judged by the models, not by the fake.
package fakeservices

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
)

// Services is the fake: the models of the five services behind one loopback server each.
type Services struct {
	world   *servicemodel.World
	servers map[string]*httptest.Server
	closing chan struct{} // closed by Close: hanging requests end
	once    sync.Once

	mu    sync.Mutex
	calls []Call
	rules []*Rule
	hits  map[*Rule]int
}

// Start starts the fake on loopback ports with the models configured by Config().
func Start() *Services { return StartWith(Config()) }

// StartWith starts the fake with models configured by cfg; cfg.Now is required.
func StartWith(cfg servicemodel.Config) *Services {
	s := &Services{world: servicemodel.New(cfg), servers: map[string]*httptest.Server{}, hits: map[*Rule]int{},
		closing: make(chan struct{})}
	for _, name := range s.world.Services() {
		s.servers[name] = httptest.NewServer(s.front(name, s.world.Handler(name)))
	}
	return s
}

// URL returns the base URL of service ("order", "inventory", "payment", "shipping" or
// "notification"); it panics for any other name.
func (s *Services) URL(service string) string {
	srv, ok := s.servers[service]
	if !ok {
		panic("fakeservices: no service named " + service)
	}
	return srv.URL
}

// URLs returns the base URL of every service by name, as stepclient.Resolver.Overrides
// takes them.
func (s *Services) URLs() map[string]string {
	out := make(map[string]string, len(s.servers))
	for name, srv := range s.servers {
		out[name] = srv.URL
	}
	return out
}

// Model returns the models behind the fake, for inspecting their state (w.Order,
// w.Stock, w.Payment...) or for sending them a request that the fake neither records nor
// fails (w.Client()).
func (s *Services) Model() *servicemodel.World { return s.world }

// Close stops the fake; it ends hanging requests first.
func (s *Services) Close() {
	s.once.Do(func() { close(s.closing) })
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// front serves one service: a matching failure rule first, else the model's handler.
func (s *Services) front(service string, model http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is read first, as any server does: the server notices a client that
		// gives up (a stepTimeout) only once the body is read, by cancelling r.Context().
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return // the client is gone
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		c := newCall(service, r)
		rule := s.match(c)
		if rule == nil {
			s.answer(w, r, c, model)
			return
		}
		c.Fault = rule.Mode
		switch rule.Mode {
		case Unavailable:
			writeUnavailable(w)
			s.record(c, http.StatusServiceUnavailable)
		case Hang:
			s.record(c, 0) // recorded at once: the call is visible while it hangs
			select {
			case <-r.Context().Done():
			case <-s.closing:
			}
		case Slow:
			if !s.wait(r, rule.Delay) {
				s.record(c, 0)
				return
			}
			s.answer(w, r, c, model)
		}
	})
}

// answer lets the model answer and records the status it answered.
func (s *Services) answer(w http.ResponseWriter, r *http.Request, c Call, model http.Handler) {
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	model.ServeHTTP(sw, r)
	s.record(c, sw.status)
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *statusWriter) WriteHeader(status int) {
	if !w.wrote {
		w.status, w.wrote = status, true
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b) //nolint:wrapcheck // a ResponseWriter wrapper passes the server's error through as it is
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
