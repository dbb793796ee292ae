package ordersaga_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/limits"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// The contract: every request the step client builds for a spec the CRD admits passes the
// services' own path checks, strict decoding and Normalize. It found three gaps, now
// closed: the CRD admitted control characters in customerId and the address fields, the
// services refused order totals above 9,999,999,999.99, and the compensations' reason
// "saga <ns>/<name> rolled back" outgrew limits.MaxReasonLen for long names.
const (
	contractSeed   = 20261128
	generatedSpecs = 3000
	maxFailures    = 5
	// maxNamespaceAndName is the longest namespace (63) plus name (253) Kubernetes admits.
	maxNamespaceAndName = 63 + 253
)

// TestContractServicesAcceptEveryRequest sends every call of every saga (each step's action
// and compensation, both notices) through the client onto the services' real handlers
// (path ID check, DecodeStrict, Normalize), in front of stores that accept everything. The
// order store answers the total it computes, so a disagreement with saga.Total fails too.
func TestContractServicesAcceptEveryRequest(t *testing.T) {
	svc := newContractServices(t)
	client := ordersaga.Caller{Client: stepclient.NewWithTransport(stepclient.Resolver{Overrides: svc.urls}, svc)}
	payments, methods := crdEnums(t)
	g := gen{r: rand.New(rand.NewPCG(contractSeed, 0)), payments: payments, methods: methods}
	cases := boundarySagas(g)
	n := generatedSpecs
	if testing.Short() {
		n /= 10
	}
	for i := range n {
		cases = append(cases, namedSaga{fmt.Sprintf("generated #%d (seed %d)", i, contractSeed), g.saga()})
	}
	start, requests, failures := time.Now(), 0, 0
	for _, c := range cases {
		for _, call := range everyCall(string(c.obj.UID)) {
			out := client.Call(t.Context(), c.obj, call)
			requests++
			if out.Kind == saga.Succeeded {
				ordersaga.Record(c.obj, saga.Decision{Kind: saga.KindCall, Call: &call}, out, time.Now())
				continue
			}
			failures++ // named: the saga, the call, the service's error and field, the body, the spec
			spec, err := json.Marshal(c.obj.Spec)
			if err != nil {
				t.Fatalf("%s: encode the spec: %v", c.name, err)
			}
			t.Errorf("%s: %s %s refused: %s: %s\n%s\nspec: %s", c.name, call.Step, call.Direction, out.Code, out.Message, svc.last, spec)
			if failures == maxFailures {
				t.Fatalf("stopping after %d refused requests", failures)
			}
		}
	}
	t.Logf("%d specs, %d requests accepted in %s", len(cases), requests, time.Since(start).Round(time.Millisecond))
}

// everyCall lists the calls of a saga in the order a rollback after the last step would
// make them: every action, every compensation in reverse, then the order-cancelled notice.
func everyCall(uid string) []saga.Call {
	call := func(step v1.StepName, dir saga.Direction) saga.Call {
		return saga.Call{Step: step, Direction: dir, Attempt: 1, Key: saga.Key(uid, step, dir)}
	}
	var calls, undo []saga.Call
	for _, step := range ordersaga.Steps() {
		calls = append(calls, call(step, saga.Action))
		if ordersaga.Compensable(step) {
			undo = append([]saga.Call{call(step, saga.Compensate)}, undo...)
		}
	}
	return append(append(calls, undo...), call(ordersaga.NotifyCancellation, saga.Action))
}

// contractServices serves the five services' step routes in process, by host.
type contractServices struct {
	hosts map[string]http.Handler
	urls  map[string]string // the resolver's overrides
	last  string            // the last request and its answer
}

var _ http.RoundTripper = (*contractServices)(nil)

// RoundTrip serves r as the service named by its host would, without a network.
func (s *contractServices) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	_ = r.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("serve %s: read the body: %w", r.URL, err)
	}
	h, ok := s.hosts[r.URL.Host]
	if !ok {
		return nil, fmt.Errorf("serve %s: no service at host %q", r.URL, r.URL.Host)
	}
	in := httptest.NewRequestWithContext(r.Context(), r.Method, r.URL.String(), bytes.NewReader(body))
	in.Header = r.Header.Clone()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, in)
	s.last = fmt.Sprintf("%s %s\nrequest body: %s\nanswer: %d %s", r.Method, r.URL.Path, body, rec.Code, rec.Body)
	return rec.Result(), nil
}

// newContractServices registers the routes the step client calls as each service's
// Register does, with the real Normalize, in front of stores that accept everything.
func newContractServices(t *testing.T) *contractServices {
	t.Helper()
	routes := map[string]func(*platform.Server){
		"order": func(s *platform.Server) {
			s.Route("PUT /v1/orders/{orderId}", platform.Create(s, "orderId", order.Normalize, accept(func(id string, spec order.Spec) any {
				var total platform.Money
				for _, l := range spec.Items { // as the order store computes it
					total += l.UnitPrice * platform.Money(l.Quantity)
				}
				return map[string]any{"orderId": id, "total": total}
			})))
			s.Route("POST /v1/orders/{orderId}/confirm", platform.Transition("orderId", transitioned))
			s.Route("POST /v1/orders/{orderId}/cancel", platform.Transition("orderId", transitioned))
		},
		"inventory": func(s *platform.Server) {
			s.Route("PUT /v1/reservations/{reservationId}", platform.Create(s, "reservationId", inventory.NormalizeReserve,
				accept(func(id string, _ inventory.ReserveSpec) any { return map[string]any{"reservationId": id} })))
			s.Route("POST /v1/reservations/{reservationId}/release", platform.Transition("reservationId", transitioned))
		},
		"payment": func(s *platform.Server) {
			s.Route("PUT /v1/payments/{paymentId}", platform.Create(s, "paymentId", payment.Normalize,
				accept(func(id string, _ payment.Spec) any { return map[string]any{"paymentId": id} })))
			s.Route("POST /v1/payments/{paymentId}/refund", platform.Transition("paymentId", transitioned))
		},
		"shipping": func(s *platform.Server) {
			s.Route("PUT /v1/shipments/{shipmentId}", platform.Create(s, "shipmentId", shipping.Normalize, accept(func(id string, spec shipping.CreateRequest) any {
				c, _ := shipping.CarrierFor(spec.Method)
				return map[string]any{"shipmentId": id, "trackingNumber": shipping.TrackingNumber(c, id)}
			})))
			s.Route("POST /v1/shipments/{shipmentId}/cancel", platform.Transition("shipmentId", transitioned))
		},
		"notification": func(s *platform.Server) {
			s.Route("PUT /v1/notifications/{notificationId}", platform.Create(s, "notificationId", notification.Normalize,
				accept(func(string, notification.CreateRequest) any { return map[string]any{"status": notification.Sent} })))
		},
	}
	svc := &contractServices{hosts: map[string]http.Handler{}, urls: map[string]string{}}
	for name, register := range routes {
		srv, err := platform.NewServer(platform.Options{Service: name, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatalf("new %s server: %v", name, err)
		}
		register(srv)
		srv.MarkSetUp()
		svc.hosts[name], svc.urls[name] = srv.Handler(), "http://"+name
	}
	return svc
}

// accept is a store that creates whatever passed validation and answers 201 with answer.
func accept[Spec any](answer func(id string, spec Spec) any) platform.CreateFunc[Spec] {
	return func(_ context.Context, id string, spec Spec, _ string) (platform.StoredResponse, bool, error) {
		b, err := json.Marshal(answer(id, spec))
		if err != nil {
			return platform.StoredResponse{}, false, fmt.Errorf("encode the answer to %s: %w", id, err)
		}
		return platform.StoredResponse{Status: http.StatusCreated, Body: string(b)}, false, nil
	}
}

func transitioned(context.Context, string, string) (any, error) { return struct{}{}, nil }

// crdEnums returns the payment and shipping methods the generated CRD admits, and "", the
// shipping method's default, which the client fills in.
func crdEnums(t *testing.T) ([]v1.PaymentMethod, []v1.ShippingMethod) {
	t.Helper()
	var crd apiextensionsv1.CustomResourceDefinition
	raw, err := os.ReadFile("../../config/crd/bases/saga.ordersaga.io_ordersagas.yaml")
	if err == nil {
		err = yaml.Unmarshal(raw, &crd)
	}
	if err != nil {
		t.Fatalf("read the generated CRD: %v", err)
	}
	spec := crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
	paymentEnum, methodEnum := spec.Properties["paymentMethod"].Enum, spec.Properties["shipping"].Properties["method"].Enum
	payments := make([]v1.PaymentMethod, 0, len(paymentEnum))
	methods := append(make([]v1.ShippingMethod, 0, 1+len(methodEnum)), "")
	for _, v := range paymentEnum {
		payments = append(payments, v1.PaymentMethod(strings.Trim(string(v.Raw), `"`)))
	}
	for _, v := range methodEnum {
		methods = append(methods, v1.ShippingMethod(strings.Trim(string(v.Raw), `"`)))
	}
	if len(payments) < 4 || len(methods) < 6 {
		t.Fatalf("the CRD lists too few payment (%v) or shipping (%v) methods", payments, methods)
	}
	return payments, methods
}

// namedSaga is a saga and how a failure names it.
type namedSaga struct {
	name string
	obj  *v1.OrderSaga
}

// withStatus gives obj the status the engine gives a saga at start, the total computed by
// ordersaga.Total, and the failure a rollback records (the longest message, multi-byte).
func withStatus(obj *v1.OrderSaga) *v1.OrderSaga {
	total, err := ordersaga.Total(obj.Spec.Items)
	if err != nil {
		panic("a generated spec has an invalid price: " + err.Error())
	}
	obj.Status = v1.OrderSagaStatus{Phase: v1.PhaseRunning, Total: total, Failure: &v1.FailureStatus{
		Step: v1.StepProcessPayment, Reason: "PaymentDeclined", Message: strings.Repeat("é", v1.MaxErrorLength)}}
	return obj
}

// price formats minor units as a unit price with two decimals.
func price(minor int64) string { return fmt.Sprintf("%d.%02d", minor/100, minor%100) }

// boundarySagas are hand-picked specs: every limit at its maximum, with ASCII, multi-byte
// and JSON-escaped text at the longest rune count; every limit at its minimum with each
// payment and shipping method; the largest unit price and total the services accept; and
// odd price spellings.
func boundarySagas(g gen) []namedSaga {
	var out []namedSaga
	add := func(name string, obj *v1.OrderSaga) { out = append(out, namedSaga{name, obj}) }
	highest := func(_, hi int64) int64 { return hi }
	for _, text := range []string{"", "~", "é", "日", "😀", "\"\\<>&\u2028\u0085"} { //nolint:gosmopolitan // multi-byte text at every limit is what the test is for
		add(fmt.Sprintf("every limit at its maximum, text of %q", text), gen{g.r, g.payments, g.methods, highest, []rune(text)}.saga())
	}
	lowest := gen{g.r, g.payments, g.methods, func(lo, _ int64) int64 { return lo }, nil}
	for _, p := range g.payments {
		for _, m := range g.methods {
			obj := lowest.saga()
			obj.Spec.PaymentMethod, obj.Spec.Shipping.Method = p, m
			add(fmt.Sprintf("every limit at its minimum, %s, shipping method %q", p, m), obj)
		}
	}
	top := gen{g.r, g.payments, g.methods, highest, nil}.saga()
	for i := range top.Spec.Items { // 50 lines of 1,000 units at the largest price: the largest total
		top.Spec.Items[i].Quantity, top.Spec.Items[i].UnitPrice = limits.MaxQuantity, price(limits.MaxUnitPrice)
	}
	add("largest unit price and total", withStatus(top))
	spelled := lowest.saga()
	spelled.Spec.Items = []v1.OrderItem{{ProductID: "a", Quantity: 1, UnitPrice: "000000000.01"},
		{ProductID: "b", Quantity: 1, UnitPrice: "7"}, {ProductID: "c", Quantity: 1, UnitPrice: "0.5"},
		{ProductID: "d", Quantity: 1, UnitPrice: "010.10"}}
	add("price spellings", withStatus(spelled))
	return out
}

// gen generates valid sagas across the CRD's range.
type gen struct {
	r        *rand.Rand
	payments []v1.PaymentMethod
	methods  []v1.ShippingMethod
	// at, when set, picks every length, number and duration; else each bound is picked a
	// quarter of the time.
	at func(lo, hi int64) int64
	// runes, when set, are the characters of free text; else printable ASCII and textRunes.
	runes []rune
}

// Alphabets of generated identifiers.
const (
	alnum    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	capitals = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	dns      = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// textRunes are characters of free text besides printable ASCII: ones JSON escapes, C1
// controls (which the services accept), Latin, CJK, Hangul, right-to-left, a combining mark,
// format characters, line separators and 4-byte characters.
//
//nolint:gosmopolitan // CJK and Hangul are among the scripts the services must accept.
var textRunes = []rune("\"\\<>&\u0080\u0085\u009f\u00a0éßÇ日本語한\u05d0\u0627\u0301\u200d\u200f\u2028\u2029\ufeff\ufffd😀𝄞")

func (g gen) pick(lo, hi int64) int64 {
	if g.at != nil {
		return g.at(lo, hi)
	}
	switch g.r.IntN(4) {
	case 0:
		return lo
	case 1:
		return hi
	}
	return lo + g.r.Int64N(hi-lo+1)
}

func (g gen) length(lo, hi int) int { return int(g.pick(int64(lo), int64(hi))) }

// present decides whether an optional field is set: always at the maximum, never at the
// minimum.
func (g gen) present() bool { return g.pick(0, 1) == 1 }

// text returns lo to hi characters of free text.
func (g gen) text(lo, hi int) string {
	var b strings.Builder
	for range g.length(lo, hi) {
		switch {
		case len(g.runes) > 0:
			b.WriteRune(g.runes[g.r.IntN(len(g.runes))])
		case g.r.IntN(2) == 0:
			b.WriteRune(rune(0x20 + g.r.IntN(0x7f-0x20))) //nolint:gosec // G115: below 0x7f, no overflow
		default:
			b.WriteRune(textRunes[g.r.IntN(len(textRunes))])
		}
	}
	return b.String()
}

// word returns lo to hi characters, the first from first and the rest from first+more.
func (g gen) word(lo, hi int, first, more string) string {
	all := first + more
	head := first[g.r.IntN(len(first))] // drawn before the length, as the seeded sequence has it
	n := g.length(lo, hi)
	b := append(make([]byte, 0, max(n, 1)), head)
	for range n - 1 {
		b = append(b, all[g.r.IntN(len(all))])
	}
	return string(b)
}

// dnsName returns a DNS label of up to hi characters, alphanumeric at both ends.
func (g gen) dnsName(hi int) string {
	b := []byte(g.word(1, hi, dns, "-"))
	if b[len(b)-1] == '-' {
		b[len(b)-1] = '0'
	}
	return string(b)
}

// priceText spells minor units as the CRD admits them: "12", "12.5", "12.50", with leading
// zeros up to nine integer digits now and then.
func (g gen) priceText(minor int64) string {
	whole := strconv.FormatInt(minor/100, 10)
	if pad := 9 - len(whole); pad > 0 && g.r.IntN(8) == 0 {
		whole = strings.Repeat("0", 1+g.r.IntN(pad)) + whole
	}
	switch frac := minor % 100; {
	case frac == 0 && g.r.IntN(2) == 0:
		return whole
	case frac%10 == 0 && g.r.IntN(2) == 0:
		return whole + "." + strconv.FormatInt(frac/10, 10)
	default:
		return fmt.Sprintf("%s.%02d", whole, frac)
	}
}

// items returns order lines with unique product IDs, unit prices of every magnitude and a
// total of at most limits.MaxMoney.
func (g gen) items() []v1.OrderItem {
	type line struct {
		id              string
		quantity, minor int64
	}
	n, lines, seen := g.length(limits.MinItems, limits.MaxItems), []line{}, map[string]bool{}
	for len(lines) < n {
		if id := g.word(1, limits.MaxProductIDLen, alnum, "._-"); !seen[id] {
			seen[id] = true
			magnitude := int64(math.Pow10(int(g.pick(1, 11)))) // 0.0x up to the largest unit price
			lines = append(lines, line{id, g.pick(limits.MinQuantity, limits.MaxQuantity),
				g.pick(1, min(limits.MaxUnitPrice, magnitude-1))})
		}
	}
	for { // scale the largest line down until the total fits
		total, largest := int64(0), 0
		for i, l := range lines {
			total += l.quantity * l.minor
			if l.quantity*l.minor > lines[largest].quantity*lines[largest].minor {
				largest = i
			}
		}
		if total <= limits.MaxMoney {
			break
		}
		l := &lines[largest]
		if l.minor = max(1, l.minor/10); l.minor == 1 {
			l.quantity = max(1, l.quantity/10)
		}
	}
	out := make([]v1.OrderItem, len(lines))
	for i, l := range lines {
		out[i] = v1.OrderItem{ProductID: l.id, Quantity: int32(l.quantity), UnitPrice: g.priceText(l.minor)} //nolint:gosec // G115: quantity is at most limits.MaxQuantity
	}
	return out
}

func (g gen) duration(lo, hi time.Duration) *metav1.Duration {
	return &metav1.Duration{Duration: time.Duration(g.pick(int64(lo), int64(hi)))}
}

// saga returns a valid saga with a random UID.
func (g gen) saga() *v1.OrderSaga {
	uid := fmt.Sprintf("%08x-%04x-4%03x-%04x-%012x", g.r.Uint32(), g.r.IntN(1<<16), g.r.IntN(1<<12),
		0x8000|g.r.IntN(1<<14), g.r.Int64N(1<<48))
	ns := g.dnsName(63)
	spec := v1.OrderSagaSpec{CustomerID: g.text(1, limits.MaxCustomerIDLen), Items: g.items(),
		PaymentMethod: g.payments[g.r.IntN(len(g.payments))], Shipping: v1.Shipping{
			Method: g.methods[g.r.IntN(len(g.methods))], Address: v1.Address{
				Name: g.text(1, limits.MaxAddressNameLen), Line1: g.text(1, limits.MaxAddressLine1Len),
				Line2: g.text(0, limits.MaxAddressLine2Len), City: g.text(1, limits.MaxAddressCityLen),
				Region: g.text(0, limits.MaxAddressRegionLen), PostalCode: g.text(1, limits.MaxAddressPostalCodeLen),
				Country: g.word(2, 2, capitals, "")}}}
	if g.present() {
		spec.Currency = g.word(3, 3, capitals, "")
	}
	if g.present() {
		initial := g.duration(time.Millisecond, time.Hour)
		spec.RetryPolicy = &v1.RetryPolicy{
			MaxAttempts:    int32(g.pick(1, 100)), //nolint:gosec // G115: at most 100
			InitialBackoff: initial,
			MaxBackoff:     g.duration(initial.Duration, time.Hour),
		}
	}
	if g.present() {
		spec.StepTimeout = g.duration(100*time.Millisecond, 5*time.Minute)
	}
	meta := metav1.ObjectMeta{UID: types.UID(uid), Namespace: ns, Name: g.dnsName(maxNamespaceAndName - len(ns))}
	return withStatus(&v1.OrderSaga{ObjectMeta: meta, Spec: spec})
}
