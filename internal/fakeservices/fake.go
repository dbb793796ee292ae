// Package fakeservices is an in-process FAKE of the five OrderSaga services for controller
// tests. It speaks the services' write API over real HTTP, with the same idempotency and
// tombstone rules, records every call with its idempotency key, and fails on demand. It
// keeps no business data beyond that: the real services live in services/.
package fakeservices

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"
)

// Call is one request the fake received.
type Call struct {
	Key       string // Idempotency-Key header: uid/Step/direction
	Step      string
	Direction string
	Method    string
	Path      string
	Status    int
	At        time.Time
}

// Mode is how an injected failure answers.
type Mode int

// Failure modes.
const (
	// Business answers 4xx with the rule's code: not retried by the controller.
	Business Mode = iota
	// Unavailable answers 503: transient.
	Unavailable
	// Hang holds the request until the client gives up (a timeout), without effect.
	Hang
	// DeliveryFailed answers a notification 201 with status FAILED.
	DeliveryFailed
	// Slow answers normally after the rule's Delay.
	Slow
)

// Rule fails the calls of one step and direction.
type Rule struct {
	Step      string // e.g. "ProcessPayment" or "NotifyCancellation"
	Direction string // "action" or "compensate"
	Mode      Mode
	Code      string        // error code for Business, e.g. PAYMENT_DECLINED
	HTTP      int           // status for Business (default 409)
	Times     int           // how many calls fail; 0 means all
	Delay     time.Duration // for Slow
}

// Services is the fake. Point every service URL at URL().
type Services struct {
	server *httptest.Server

	mu      sync.Mutex
	calls   []Call
	results map[string]stored // first answer per resource path
	tombs   map[string]bool   // resource paths compensated before their action
	effects map[string]int    // key → actions that took effect
	rules   []*Rule
	hits    map[*Rule]int
}

type stored struct {
	status int
	body   []byte
}

// Start starts the fake on a loopback port.
func Start() *Services {
	s := &Services{results: map[string]stored{}, tombs: map[string]bool{}, effects: map[string]int{}, hits: map[*Rule]int{}}
	s.server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL is the base URL of every fake service.
func (s *Services) URL() string { return s.server.URL }

// Close stops the fake, ending hung requests.
func (s *Services) Close() {
	s.server.CloseClientConnections()
	s.server.Close()
}

// Fail adds a failure rule.
func (s *Services) Fail(r Rule) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = append(s.rules, &r)
}

// Heal removes every failure rule.
func (s *Services) Heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rules = nil
}

// Calls returns the calls received so far whose key starts with prefix (a saga UID).
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

// Effects returns how many times the call with this key took effect (at most once when
// idempotency holds).
func (s *Services) Effects(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.effects[key]
}

func (s *Services) serve(w http.ResponseWriter, r *http.Request) {
	key := r.Header.Get("Idempotency-Key")
	parts := strings.Split(key, "/")
	if len(parts) != 3 {
		writeJSON(w, http.StatusBadRequest, errorBody("MISSING_KEY", "Idempotency-Key uid/step/direction required"))
		return
	}
	body, _ := io.ReadAll(r.Body)
	call := Call{Key: key, Step: parts[1], Direction: parts[2], Method: r.Method, Path: r.URL.Path, At: time.Now()}
	rule := s.match(call)
	if rule != nil && rule.Mode == Hang {
		s.record(call, 0)
		<-r.Context().Done()
		return
	}
	if rule != nil && rule.Mode == Slow {
		select {
		case <-time.After(rule.Delay):
		case <-r.Context().Done():
			return
		}
		rule = nil
	}
	status, resp := s.answer(call, rule, body)
	s.record(call, status)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(resp)
}

func (s *Services) match(c Call) *Rule {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.rules {
		if r.Step == c.Step && r.Direction == c.Direction && (r.Times == 0 || s.hits[r] < r.Times) {
			s.hits[r]++
			return r
		}
	}
	return nil
}

func (s *Services) record(c Call, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c.Status = status
	s.calls = append(s.calls, c)
}

// answer applies the idempotency and tombstone rules of the real services.
func (s *Services) answer(c Call, rule *Rule, body []byte) (int, []byte) {
	if rule != nil && rule.Mode == Unavailable {
		return http.StatusServiceUnavailable, errorBody("UNAVAILABLE", "injected outage")
	}
	resource := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(c.Path, "/cancel"), "/release"), "/refund"), "/confirm")
	s.mu.Lock()
	defer s.mu.Unlock()
	if c.Direction == "compensate" {
		if _, ok := s.results[resource]; !ok {
			s.tombs[resource] = true
		}
		return http.StatusOK, mustJSON(map[string]any{"status": "COMPENSATED"})
	}
	if c.Method == http.MethodPut {
		if s.tombs[resource] {
			return http.StatusConflict, errorBody("ALREADY_COMPENSATED", "compensated before it was done")
		}
		if first, ok := s.results[resource]; ok {
			return first.status, first.body
		}
	}
	status, resp := s.respond(c, rule, resource[strings.LastIndex(resource, "/")+1:], body)
	if c.Method == http.MethodPut {
		s.results[resource] = stored{status, resp}
	}
	if status < 300 {
		s.effects[c.Key]++
	}
	return status, resp
}

func (s *Services) respond(c Call, rule *Rule, id string, body []byte) (int, []byte) {
	if rule != nil && rule.Mode == Business {
		code := rule.HTTP
		if code == 0 {
			code = http.StatusConflict
		}
		return code, errorBody(rule.Code, "injected business failure")
	}
	switch c.Step {
	case "CreateOrder":
		return http.StatusCreated, mustJSON(map[string]any{"orderId": id, "status": "PENDING", "total": totalOf(body)})
	case "ReserveInventory":
		return http.StatusCreated, mustJSON(map[string]any{"reservationId": id, "status": "RESERVED"})
	case "ProcessPayment":
		return http.StatusCreated, mustJSON(map[string]any{"paymentId": id, "status": "CAPTURED"})
	case "ScheduleShipment":
		return http.StatusCreated, mustJSON(map[string]any{"shipmentId": id, "status": "SCHEDULED", "trackingNumber": "TRK-" + id})
	case "ConfirmOrder":
		return http.StatusOK, mustJSON(map[string]any{"orderId": id, "status": "CONFIRMED"})
	}
	status := "SENT"
	if rule != nil && rule.Mode == DeliveryFailed {
		status = "FAILED"
	}
	return http.StatusCreated, mustJSON(map[string]any{"notificationId": id, "status": status})
}

// totalOf computes the order total of a create-order body in minor units.
func totalOf(body []byte) string {
	var req struct {
		Items []struct {
			Quantity  int64  `json:"quantity"`
			UnitPrice string `json:"unitPrice"`
		} `json:"items"`
	}
	_ = json.Unmarshal(body, &req)
	var sum int64
	for _, it := range req.Items {
		var whole, frac int64
		w, f, _ := strings.Cut(it.UnitPrice, ".")
		_, _ = fmt.Sscan(w, &whole)
		if f != "" {
			f += strings.Repeat("0", 2-len(f))
			_, _ = fmt.Sscan(f, &frac)
		}
		sum += (whole*100 + frac) * it.Quantity
	}
	return fmt.Sprintf("%d.%02d", sum/100, sum%100)
}

func errorBody(code, msg string) []byte {
	return mustJSON(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
