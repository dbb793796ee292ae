// Package servicemodel is a MODEL (a fake) of the five OrderSaga services — order,
// inventory, payment, shipping and notification — kept in memory, for the controller's
// envtest tests and the deterministic fault-schedule simulator. It is not a service: it
// never runs in a cluster.
//
// The model is honest: it fails the way the real services fail. It serves the same routes
// (writes and reads, with the same filters and pagination) through the real platform
// server and handler builders, decodes and validates with the real request types and
// Normalize functions, and applies the real rules (payment.Rules, the shipping countries,
// the inventory catalog, notification.Render and Delivery). Only the MongoDB store is
// replaced, by maps behind one mutex, with the same state machines, idempotency
// (client-assigned IDs; the first answer stored and replayed byte for byte, business
// failures included; another payload under the same ID is a 409 IDEMPOTENCY_KEY_REUSED)
// and tombstones (a compensation that finds nothing leaves one; a later action gets a
// 409 ALREADY_COMPENSATED).
//
// The contract suite (contract_test.go) runs one table of request sequences against the
// model and against the real services on a Mongo wire server, and requires the same
// status, headers that matter and body, byte for byte, for every request and for the read
// endpoints afterwards. What it covers is what this package guarantees; what it does not
// cover (concurrency inside one request, crashes half-way through an inventory run, the
// inventory token sweeper, the notification fail rate, fault injection) the model does
// not imitate: each request here is atomic.
//
// Caveats: the model's state follows Config.Now only; the platform server it reuses reads
// the wall clock for its request-duration metric and draws random request IDs, neither of
// which reaches a response body or the model's state.
package servicemodel

import (
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"time"

	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// Service names, as Handler takes them and as Effect.Service reports them.
const (
	Order        = "order"
	Inventory    = "inventory"
	Payment      = "payment"
	Shipping     = "shipping"
	Notification = "notification"
)

// Config configures a World. The zero value of every field but Now is the real
// services' default.
type Config struct {
	// Now is the clock; required, because the model never reads the wall clock. Like the
	// real services, the model keeps whole seconds in UTC.
	Now func() time.Time
	// Catalog is the inventory seeded by New; nil means inventory.DefaultCatalog(), an
	// empty non-nil list seeds nothing.
	Catalog []inventory.SeedProduct
	// Payment are the decline rules. DeclineAbove 0 means payment.DefaultDeclineAbove;
	// DeclinedMethods nil declines no method, as the real default does.
	Payment payment.Rules
	// Countries are the shipping destinations; nil means shipping.DefaultCountries(), an
	// empty non-nil list ships nowhere.
	Countries []string
	// FailCustomers are the customers whose notification deliveries fail: recorded FAILED
	// and answered 201, like the real --notification-fail-customers.
	FailCustomers []string
}

// World holds the state of the five modelled services and serves their HTTP APIs.
type World struct {
	now       func() time.Time
	rules     payment.Rules
	countries []string
	delivery  notification.Delivery
	render    *notification.Renderer
	handlers  map[string]http.Handler

	// mu guards everything below; every request holds it from start to end, so each
	// request is atomic and the effect log is in the order the requests took effect.
	mu            sync.Mutex
	orders        map[string]*orderRecord
	products      map[string]*productRecord
	reservations  map[string]*reservationRecord
	payments      map[string]*paymentRecord
	shipments     map[string]*shipmentRecord
	notifications map[string]*notificationRecord
	// notificationOf is the real service's unique index (orderId, type): the ID of the
	// notification each pair has, so that a send looks it up instead of scanning.
	notificationOf map[notificationKey]string
	effects        []Effect
}

// New returns a World configured by cfg, with the catalog seeded at cfg.Now(). It panics
// when cfg.Now is nil: a model on the wall clock would not be deterministic.
func New(cfg Config) *World {
	if cfg.Now == nil {
		panic("servicemodel: Config.Now is required")
	}
	w := &World{
		now:            cfg.Now,
		rules:          cfg.Payment,
		countries:      cfg.Countries,
		delivery:       notification.Delivery{FailCustomers: slices.Clone(cfg.FailCustomers)},
		render:         notification.NewRenderer(),
		orders:         map[string]*orderRecord{},
		products:       map[string]*productRecord{},
		reservations:   map[string]*reservationRecord{},
		payments:       map[string]*paymentRecord{},
		shipments:      map[string]*shipmentRecord{},
		notifications:  map[string]*notificationRecord{},
		notificationOf: map[notificationKey]string{},
	}
	if w.rules.DeclineAbove == 0 {
		w.rules.DeclineAbove = payment.DefaultDeclineAbove
	}
	w.rules.DeclinedMethods = slices.Clone(w.rules.DeclinedMethods)
	if w.countries == nil {
		w.countries = shipping.DefaultCountries()
	} else {
		w.countries = slices.Clone(w.countries)
	}
	catalog := cfg.Catalog
	if catalog == nil {
		catalog = inventory.DefaultCatalog()
	}
	w.seed(catalog)
	w.handlers = map[string]http.Handler{
		Order:        serve(Order, w.orderRoutes),
		Inventory:    serve(Inventory, w.inventoryRoutes),
		Payment:      serve(Payment, w.paymentRoutes),
		Shipping:     serve(Shipping, w.shippingRoutes),
		Notification: serve(Notification, w.notificationRoutes),
	}
	return w
}

// serve builds the real platform server of service with the model's routes, so that
// unmatched paths, wrong methods, /healthz and /readyz answer exactly as in the real one.
func serve(service string, routes func(*platform.Server)) http.Handler {
	srv, err := platform.NewServer(platform.Options{Service: service, Logger: slog.New(slog.DiscardHandler)})
	if err != nil { // only an invalid fault setting fails, and there is none
		panic(fmt.Sprintf("servicemodel: platform server for %s: %v", service, err))
	}
	routes(srv)
	srv.MarkSetUp()
	return srv.Handler()
}

// Services returns the names of the modelled services, in saga order.
func (w *World) Services() []string {
	return []string{Order, Inventory, Payment, Shipping, Notification}
}

// Handler returns the HTTP handler of service, or nil for a name not in Services.
func (w *World) Handler(service string) http.Handler { return w.handlers[service] }

// URL returns the base URL under which Client reaches service ("http://order").
func (w *World) URL(service string) string { return "http://" + service }

// Client returns an HTTP client that serves each request in-process from the service
// named by the URL's host (see URL), without a network. The simulator and
// internal/consistency/collect read and write the model through it.
func (w *World) Client() *http.Client { return &http.Client{Transport: transport{w}} }

type transport struct{ w *World }

var _ http.RoundTripper = transport{}

// RoundTrip serves req with the handler of the service named by its host.
func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	h := t.w.handlers[req.URL.Hostname()]
	if h == nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, fmt.Errorf("servicemodel: no service named %q (want one of %v)", req.URL.Hostname(), t.w.Services())
	}
	in := req.Clone(req.Context())
	if in.Body == nil { // a server-side request always has a body
		in.Body = http.NoBody
	}
	in.RequestURI = req.URL.RequestURI()
	in.RemoteAddr = "192.0.2.1:1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, in)
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	resp := rec.Result()
	resp.Request = req
	return resp, nil
}

// clock returns the model's now as the real services keep it: UTC, whole seconds.
func (w *World) clock() time.Time { return platform.Now(w.now) }

// replay answers a create whose ID is taken, as platform.InsertOnce does after a
// duplicate key: refused for a tombstone or another payload, else the stored answer.
func replay(idem platform.Idem, hash string) (platform.StoredResponse, bool, error) {
	resp, ok, e := idem.Replay(hash)
	if e != nil {
		return platform.StoredResponse{}, false, e
	}
	if !ok { // every model record stores its answer with itself; kept for parity
		return platform.StoredResponse{}, false, platform.NewError(http.StatusServiceUnavailable, platform.CodeInProgress,
			"the first request with this ID is still in progress; retry")
	}
	return resp, true, nil
}

// page returns the list answer of records as platform.FindPage and ViewPage give it:
// sorted by ID, after p.After, at most p.Limit, tombstones and records that keep rejects
// left out, with the token of the next page when more remain.
func page[R, V any](records map[string]*R, p platform.ListParams, keep func(*R) bool, view func(*R) V) platform.ListResponse[V] {
	var docs []*R
	var last string
	next := ""
	for _, id := range slices.Sorted(maps.Keys(records)) {
		if p.After != "" && id <= p.After || !keep(records[id]) {
			continue
		}
		if int64(len(docs)) == p.Limit {
			next = platform.EncodePageToken(last)
			break
		}
		docs, last = append(docs, records[id]), id
	}
	return platform.ViewPage(docs, next, view)
}

// filter reports whether the list filter name, when given in p, equals value.
func filter(p platform.ListParams, name, value string) bool {
	want, ok := p.Filters[name]
	return !ok || want == value
}

// ofOrders reports whether the orderIds filter, when given in p, holds orderID, as
// platform.AnyOf selects.
func ofOrders(p platform.ListParams, orderID string) bool {
	ids, ok := p.In[platform.OrderIDsFilter().Name]
	return !ok || slices.Contains(ids, orderID)
}

// states returns the state of every record, sorted by ID.
func states[R, S any](records map[string]*R, state func(*R) S) []S {
	out := make([]S, 0, len(records))
	for _, id := range slices.Sorted(maps.Keys(records)) {
		out = append(out, state(records[id]))
	}
	return out
}
