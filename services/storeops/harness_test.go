package storeops

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/ordersaga/ordersaga/internal/testing/mongotest"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// mongoURI is set once by TestMain: one server for the test binary.
var mongoURI string

func TestMain(m *testing.M) { os.Exit(mongotest.RunMain(m, &mongoURI)) }

// services lists the five services in saga order.
func services() []string {
	return []string{"order", "inventory", "payment", "shipping", "notification"}
}

// stack is the five real services, each on a database of its own on one server, with
// their store commands counted and their queries recorded.
type stack struct {
	urls    map[string]string
	servers map[string]*platform.Server
	http    *http.Client
	queries *queryLog
}

// newStack serves the five services as the services binary does (cmd/services), with the
// inventory's sweeper off so that only the sagas' own requests reach the store.
func newStack(t testing.TB) *stack {
	t.Helper()
	s := &stack{urls: map[string]string{}, servers: map[string]*platform.Server{}, queries: &queryLog{},
		http: &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	registers := map[string]func(*platform.Server, *mongo.Database) platformtest.SetUpper{
		"order": func(srv *platform.Server, db *mongo.Database) platformtest.SetUpper {
			return order.Register(srv, db, order.Config{})
		},
		"inventory": func(srv *platform.Server, db *mongo.Database) platformtest.SetUpper {
			return inventory.Register(srv, db, inventory.Config{Catalog: inventory.DefaultCatalog(), SweepInterval: -1})
		},
		"payment": func(srv *platform.Server, db *mongo.Database) platformtest.SetUpper {
			return payment.Register(srv, db, payment.Config{Rules: payment.Rules{DeclineAbove: payment.DefaultDeclineAbove}})
		},
		"shipping": func(srv *platform.Server, db *mongo.Database) platformtest.SetUpper {
			return shipping.Register(srv, db, shipping.Config{Countries: shipping.DefaultCountries()})
		},
		"notification": func(srv *platform.Server, db *mongo.Database) platformtest.SetUpper {
			return notification.Register(srv, db, notification.Config{})
		},
	}
	for _, name := range services() {
		store := platform.NewStoreMetrics()
		monitor := store.Monitor()
		count := monitor.Started
		monitor.Started = func(ctx context.Context, e *event.CommandStartedEvent) {
			count(ctx, e)
			s.queries.record(name, e)
		}
		client, err := mongo.Connect(options.Client().ApplyURI(mongoURI).SetAppName("storeops-" + name).
			SetServerSelectionTimeout(10 * time.Second).SetMonitor(monitor))
		if err != nil {
			t.Fatalf("connect %s to %s: %v", name, mongoURI, err)
		}
		t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
		db := client.Database(mongotest.DatabaseName(t) + "_" + name)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = db.Drop(ctx)
		})
		c, srv := platformtest.NewServerWith(t, platform.Options{Service: name, Store: store}, func(ctx context.Context, srv *platform.Server) error {
			return registers[name](srv, db).SetUp(ctx)
		})
		s.urls[name], s.servers[name] = c.BaseURL, srv
	}
	return s
}

// call sends one request and returns the answer's status and body.
func (s *stack) call(ctx context.Context, r request) (int, []byte, error) {
	body, err := json.Marshal(r.body)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s %s: %w", r.method, r.path, err)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, s.urls[r.service]+r.path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("new request %s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	defer func() { _ = resp.Body.Close() }() // read in full below
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, fmt.Errorf("read %s %s: %w", r.method, r.path, err)
	}
	return resp.StatusCode, b, nil
}

// run sends each request of a saga in turn and checks its status; each, when set, runs
// after each request.
func (s *stack) run(ctx context.Context, reqs []request, each func(r request)) error {
	for _, r := range reqs {
		status, body, err := s.call(ctx, r)
		if err != nil {
			return err
		}
		if r.want != 0 && status != r.want {
			return fmt.Errorf("%s %s = %d %s, want %d", r.method, r.path, status, body, r.want)
		}
		if each != nil {
			each(r)
		}
	}
	return nil
}

// request is one call of a saga, shaped as internal/ordersaga/requests.go shapes it.
type request struct {
	service, method, path string
	body                  map[string]any
	want                  int // 0: any status
}

// route is the request's route pattern as the services' metrics name it.
func (r request) route() string {
	return r.method + " " + routeOf(r.path)
}

// routeOf replaces the ID in a path by its parameter name.
func routeOf(path string) string {
	for prefix, param := range map[string]string{
		"/v1/orders/": "{orderId}", "/v1/reservations/": "{reservationId}", "/v1/payments/": "{paymentId}",
		"/v1/shipments/": "{shipmentId}", "/v1/notifications/": "{notificationId}", "/v1/products/": "{productId}",
	} {
		if rest, ok := strings.CutPrefix(path, prefix); ok {
			if _, verb, found := strings.Cut(rest, "/"); found {
				return prefix + param + "/" + verb
			}
			return prefix + param
		}
	}
	return path
}

// saga is one order saga's identity and shape.
type saga struct {
	uid, product, price, country string
}

func (g saga) orderID() string { return "ord-" + g.uid }

// stockUp is the catalog entry the saga buys from: five units, as the e2e measurements have.
func (g saga) stockUp() request {
	return request{"inventory", http.MethodPut, "/v1/products/" + g.product,
		map[string]any{"name": g.product, "price": g.price, "stock": 5}, 0}
}

func (g saga) createOrder() request {
	return request{"order", http.MethodPut, "/v1/orders/" + g.orderID(), map[string]any{
		"customerId": "c-" + g.uid, "currency": "USD",
		"items": []any{map[string]any{"productId": g.product, "quantity": 1, "unitPrice": g.price}}}, http.StatusCreated}
}

func (g saga) reserve() request {
	return request{"inventory", http.MethodPut, "/v1/reservations/res-" + g.uid, map[string]any{
		"orderId": g.orderID(), "items": []any{map[string]any{"productId": g.product, "quantity": 1}}}, http.StatusCreated}
}

func (g saga) charge(want int) request {
	return request{"payment", http.MethodPut, "/v1/payments/pay-" + g.uid, map[string]any{
		"orderId": g.orderID(), "customerId": "c-" + g.uid, "amount": g.price, "currency": "USD", "method": "CREDIT_CARD"}, want}
}

func (g saga) ship(want int) request {
	return request{"shipping", http.MethodPut, "/v1/shipments/shp-" + g.uid, map[string]any{
		"orderId": g.orderID(), "method": "STANDARD",
		"address": map[string]any{"name": "Ada", "line1": "1 Main St", "city": "Springfield", "postalCode": "12345", "country": g.country},
		"items":   []any{map[string]any{"productId": g.product, "quantity": 1}}}, want}
}

func (g saga) confirm() request {
	return request{"order", http.MethodPost, "/v1/orders/" + g.orderID() + "/confirm", map[string]any{}, http.StatusOK}
}

func (g saga) notifyConfirmed() request {
	return request{"notification", http.MethodPut, "/v1/notifications/ntf-" + g.uid + "-confirmed", map[string]any{
		"orderId": g.orderID(), "customerId": "c-" + g.uid, "type": "ORDER_CONFIRMED",
		"data": map[string]string{"total": g.price}}, http.StatusCreated}
}

func (g saga) notifyCancelled() request {
	return request{"notification", http.MethodPut, "/v1/notifications/ntf-" + g.uid + "-cancelled", map[string]any{
		"orderId": g.orderID(), "customerId": "c-" + g.uid, "type": "ORDER_CANCELLED",
		"data": map[string]string{"total": g.price}}, http.StatusCreated}
}

// undo is a compensation, with the reason the controller gives.
func (g saga) undo(service, path string) request {
	return request{service, http.MethodPost, path, map[string]any{"reason": "saga shop/" + g.uid + " rolled back"}, http.StatusOK}
}

// happy is a saga that completes: the six actions. (The controller's notice also carries
// the tracking number; one string more changes nothing in what the store is asked.)
func (g saga) happy() []request {
	return []request{g.createOrder(), g.reserve(), g.charge(http.StatusCreated), g.ship(http.StatusCreated), g.confirm(), g.notifyConfirmed()}
}

// declined is a saga whose payment is declined: every step that ran is compensated (the
// refund of a declined payment answers it unchanged), then the customer is told.
func (g saga) declined() []request {
	return []request{g.createOrder(), g.reserve(), g.charge(http.StatusPaymentRequired),
		g.undo("payment", "/v1/payments/pay-"+g.uid+"/refund"),
		g.undo("inventory", "/v1/reservations/res-"+g.uid+"/release"),
		g.undo("order", "/v1/orders/"+g.orderID()+"/cancel"),
		g.notifyCancelled()}
}

// refused is a saga whose shipment is refused after the capture: the capture is refunded.
func (g saga) refused() []request {
	return []request{g.createOrder(), g.reserve(), g.charge(http.StatusCreated), g.ship(http.StatusUnprocessableEntity),
		g.undo("shipping", "/v1/shipments/shp-"+g.uid+"/cancel"),
		g.undo("payment", "/v1/payments/pay-"+g.uid+"/refund"),
		g.undo("inventory", "/v1/reservations/res-"+g.uid+"/release"),
		g.undo("order", "/v1/orders/"+g.orderID()+"/cancel"),
		g.notifyCancelled()}
}

// key identifies a counter: the service, the command and its collection.
type key struct{ service, command, collection string }

// counts are store commands by key.
type counts map[key]float64

// storeCommands reads every service's ordersaga_store_commands_total.
func (s *stack) storeCommands(t testing.TB) counts {
	t.Helper()
	out := counts{}
	for name, srv := range s.servers {
		for _, m := range metrics(t, srv, "ordersaga_store_commands_total") {
			l := labels(m)
			out[key{service: name, command: l["command"], collection: l["collection"]}] += m.GetCounter().GetValue()
		}
	}
	return out
}

// metrics returns the series of the metric family name that srv exports.
func metrics(t testing.TB, srv *platform.Server, name string) []*dto.Metric {
	t.Helper()
	families, err := srv.Metrics().Registry().Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()
		}
	}
	return nil
}

// labels returns a series' labels by name.
func labels(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// minus returns c - before, without zero entries.
func (c counts) minus(before counts) counts {
	out := counts{}
	for k, v := range c {
		if d := v - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

func (c counts) total() float64 {
	var n float64
	for _, v := range c {
		n += v
	}
	return n
}

// sortedKeys returns c's keys in service order, then by command and collection.
func (c counts) sortedKeys() []key {
	order := map[string]int{}
	for i, s := range services() {
		order[s] = i
	}
	keys := slices.Collect(maps.Keys(c))
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(order[a.service], order[b.service]), strings.Compare(a.command, b.command),
			strings.Compare(a.collection, b.collection))
	})
	return keys
}

// durations returns, per service route and per service store command and collection, the
// seconds spent and the number of requests or commands.
func (s *stack) durations(t testing.TB) map[string][2]float64 {
	t.Helper()
	out := map[string][2]float64{}
	add := func(label string, h *dto.Histogram) {
		e := out[label]
		out[label] = [2]float64{e[0] + h.GetSampleSum(), e[1] + float64(h.GetSampleCount())}
	}
	for name, srv := range s.servers {
		for _, m := range metrics(t, srv, "ordersaga_http_request_duration_seconds") {
			add(labels(m)["route"], m.GetHistogram())
		}
		for _, m := range metrics(t, srv, "ordersaga_store_command_duration_seconds") {
			l := labels(m)
			add(name+" "+l["command"]+" "+l["collection"], m.GetHistogram())
		}
	}
	return out
}

// query is one command that selects documents, as a service sent it.
type query struct {
	service, command, collection string
	filter                       bson.Raw
}

// queryLog records the commands that select documents by a filter.
type queryLog struct {
	mu      sync.Mutex
	queries []query
}

func (l *queryLog) record(service string, e *event.CommandStartedEvent) {
	coll := platform.CommandCollection(e.Command)
	var filters []bson.Raw
	switch e.CommandName {
	case "find", "count", "distinct":
		filters = docs(e.Command, "filter", "query")
	case "findAndModify":
		filters = docs(e.Command, "query")
	case "update", "delete":
		arr, ok := e.Command.Lookup(map[string]string{"update": "updates", "delete": "deletes"}[e.CommandName]).ArrayOK()
		if !ok {
			break
		}
		vals, _ := arr.Values()
		for _, v := range vals {
			if d, ok := v.DocumentOK(); ok {
				filters = append(filters, docs(d, "q")...)
			}
		}
	case "aggregate":
		filters = append(filters, nil) // a pipeline: counted as a scan
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, f := range filters {
		l.queries = append(l.queries, query{service: service, command: e.CommandName, collection: coll, filter: slices.Clone(f)})
	}
}

// since returns the queries recorded after the first n.
func (l *queryLog) since(n int) []query {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.queries[n:])
}

func (l *queryLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.queries)
}

// docs returns the documents under the first of names that cmd holds.
func docs(cmd bson.Raw, names ...string) []bson.Raw {
	for _, n := range names {
		if d, ok := cmd.Lookup(n).DocumentOK(); ok {
			return []bson.Raw{d}
		}
	}
	return nil
}
