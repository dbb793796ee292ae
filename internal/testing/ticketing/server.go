package ticketing

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/ordersaga/ordersaga/services/platform"
)

// maxBody bounds a request body, as the real services bound theirs.
const maxBody = 1 << 20

// Services are the four ticketing services, one loopback HTTP server each, on one World.
type Services struct {
	world   *World
	servers map[string]*httptest.Server
	closing chan struct{}
	once    sync.Once

	mu      sync.Mutex
	calls   []Call
	rules   []*Rule
	hits    map[*Rule]int
	gate    chan struct{} // closed by Heal: held calls go on
	waiting map[int]Call
	next    int
}

// Call is one request a service received.
type Call struct {
	Service string
	Method  string
	Path    string
	// Route is the pattern that served it: "PUT /v1/holds/{id}"; empty when none matched.
	Route string
	// Key is the Idempotency-Key header; Step and Direction are read from it when it has
	// the shape <uid>/<step>/<direction>.
	Key       string
	Step      string
	Direction string
	// Status is what the client was answered; 0 when it got no answer.
	Status int
	// Fault is the fault applied; 0 when none was.
	Fault Mode
	At    time.Time
}

// Start starts the services on loopback ports with cfg.
func Start(cfg Config) *Services {
	s := &Services{world: newWorld(cfg), servers: map[string]*httptest.Server{}, closing: make(chan struct{}),
		hits: map[*Rule]int{}, gate: make(chan struct{}), waiting: map[int]Call{}}
	muxes := map[string]*http.ServeMux{}
	for _, kind := range kinds() {
		service, undo := serviceOf(kind)
		mux, ok := muxes[service]
		if !ok {
			mux = http.NewServeMux()
			mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
				writeError(w, http.StatusNotFound, platform.CodeNotFound, "no route "+r.Method+" "+r.URL.Path)
			})
			muxes[service] = mux
		}
		mux.Handle("PUT /v1/"+string(kind)+"/{id}", s.handler(service, kind, false))
		if undo != "" {
			mux.Handle("POST /v1/"+string(kind)+"/{id}/"+undo, s.handler(service, kind, true))
		}
	}
	for name, mux := range muxes {
		s.servers[name] = httptest.NewServer(s.front(name, mux))
	}
	return s
}

// URLs returns each service's base URL by name, as stepclient.Resolver.Overrides takes them.
func (s *Services) URLs() map[string]string {
	out := make(map[string]string, len(s.servers))
	for name, srv := range s.servers {
		out[name] = srv.URL
	}
	return out
}

// World returns the services' state, to inspect.
func (s *Services) World() *World { return s.world }

// Close stops the services; held calls end first.
func (s *Services) Close() {
	s.once.Do(func() { close(s.closing) })
	for _, srv := range s.servers {
		srv.CloseClientConnections()
		srv.Close()
	}
}

// handler serves a resource's action, or its undo, through the world.
func (s *Services) handler(service string, kind Kind, undo bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return
		}
		a := s.world.serve(request{service: service, method: r.Method, path: r.URL.Path, key: r.Header.Get(platform.IdempotencyKeyHeader),
			kind: kind, id: r.PathValue("id"), undo: undo, body: body})
		platform.WriteRaw(w, a.status, a.body)
	})
}

// front applies the matching fault rule, then lets the service answer, and records the call.
func (s *Services) front(service string, mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The body is read first, as a server does: it notices a client that gave up only then.
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
		if err != nil {
			writeError(w, http.StatusRequestEntityTooLarge, platform.CodeBodyTooLarge, "the body is over 1 MiB")
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		_, route := mux.Handler(r)
		if route == "/" {
			route = ""
		}
		c := newCall(service, route, r)
		rule := s.match(c)
		if rule != nil {
			c.Fault = rule.Mode
		}
		switch c.Fault {
		case Unavailable:
			writeError(w, http.StatusServiceUnavailable, "UNAVAILABLE", service+" is overloaded; try again")
			s.record(c, http.StatusServiceUnavailable)
			return
		case AnswerLost:
			mux.ServeHTTP(httptest.NewRecorder(), r)
			writeError(w, http.StatusGatewayTimeout, "GATEWAY_TIMEOUT", "the upstream answer was lost")
			s.record(c, http.StatusGatewayTimeout)
			return
		case Held:
			if !s.hold(r, c) {
				s.record(c, 0)
				return
			}
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		mux.ServeHTTP(sw, r)
		s.record(c, sw.status)
	})
}

func newCall(service, route string, r *http.Request) Call {
	key := r.Header.Get(platform.IdempotencyKeyHeader)
	c := Call{Service: service, Method: r.Method, Path: r.URL.Path, Route: route, Key: key, At: time.Now()}
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

// Calls returns the calls answered (or given up) so far whose key starts with prefix (a
// saga's UID), in the order they ended.
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

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	w.status = status
	w.ResponseWriter.WriteHeader(status)
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
