package ordersaga_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// answer is what a service sends back.
type answer struct {
	status int
	body   string
}

// answering is a transport that answers every request with one answer.
type answering answer

func (a answering) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	return &http.Response{StatusCode: a.status, Body: io.NopCloser(strings.NewReader(a.body)), Header: http.Header{},
		Request: req, ContentLength: int64(len(a.body))}, nil
}

// verdict is the part of an outcome that decides what the engine does next, and what it
// keeps: its kind, its code (the failure reason derives from it) and its outputs.
type verdict struct {
	Kind    saga.OutcomeKind
	Code    string
	Outputs map[string]string
}

func verdictOf(o saga.Outcome) verdict { return verdict{o.Kind, o.Code, o.Outputs} }

// gap is an answer that the built-in kind and the definition read differently: why, and
// what each makes of it.
type gap struct {
	why              string
	builtIn, defined verdict
}

// TestDefinitionReadsEveryAnswerAsTheBuiltInSaga gives both sagas, at each call, every
// answer the services send (docs/services.md) and answers outside their contract. Outcomes
// must be identical (kind, code, message, outputs), except the gaps listed: what the
// built-in kind does that a SagaDefinition cannot say. Each gap is pinned here and
// described in docs/sagadefinitions.md; a change to the engine or to sagadef that closes
// one makes this test fail, so that the list stays true.
func TestDefinitionReadsEveryAnswerAsTheBuiltInSaga(t *testing.T) {
	p := orderDefinition(t)
	tw := ranFourSteps(t, p)
	perCall, everyCallGets := servicesAnswers(tw)
	gaps := knownGaps(ordersaga.OrderID(uidOf(tw)))
	seen := map[string]bool{}
	for _, call := range everyCall(uidOf(tw)) {
		key := string(call.Step) + "/" + string(call.Direction)
		answers := append(append([]answer{}, perCall[key]...), everyCallGets...)
		for k := range gaps {
			if strings.HasPrefix(k, key+" ") {
				answers = append(answers, gapAnswer(k))
			}
		}
		for _, a := range answers {
			name := fmt.Sprintf("%s %d %s", key, a.status, a.body)
			seen[name] = true
			builtIn := callWith(t, tw, call, a)
			defined := p.Outcome(call, tw.vars(), stepclient.Response{Status: a.status, Body: []byte(a.body)})
			compare(t, name, gaps, builtIn, defined)
		}
	}
	t.Logf("%d answers read alike, %d known gaps", len(seen)-len(gaps), len(gaps))
	for name := range gaps {
		if !seen[name] {
			t.Errorf("gap %q names no call and answer", name)
		}
	}
}

// compare requires the two outcomes of the answer name to be equal, or, for a known gap,
// to be what the gap says.
func compare(t *testing.T, name string, gaps map[string]gap, builtIn, defined saga.Outcome) {
	t.Helper()
	if g, ok := gaps[name]; ok {
		if diff := cmp.Diff([]verdict{g.builtIn, g.defined}, []verdict{verdictOf(builtIn), verdictOf(defined)}); diff != "" {
			t.Errorf("%s: known gap (%s) changed: [built-in, definition]: -want, +got:\n%s", name, g.why, diff)
		}
		return
	}
	if diff := cmp.Diff(builtIn, defined); diff != "" {
		t.Errorf("%s: -built-in, +definition:\n%s", name, diff)
	}
}

// servicesAnswers are the answers of docs/services.md: those of each call, by
// "<step>/<direction>", and those any call may get.
func servicesAnswers(tw *twin) (perCall map[string][]answer, everyCallGets []answer) {
	ord, pay, shp := ordersaga.OrderID(uidOf(tw)), ordersaga.PaymentID(uidOf(tw)), ordersaga.ShipmentID(uidOf(tw))
	failed := func(status int, code, field string) answer {
		body := `{"error":{"code":"` + code + `","message":"` + strings.ToLower(strings.ReplaceAll(code, "_", " ")) + `"`
		if field != "" {
			body += `,"field":"` + field + `"`
		}
		return answer{status, body + "}}"}
	}
	everyCallGets = []answer{
		failed(400, "INVALID_ARGUMENT", "customerId"), failed(404, "NOT_FOUND", ""), failed(409, "IDEMPOTENCY_KEY_REUSED", ""),
		failed(413, "BODY_TOO_LARGE", ""), failed(500, "INTERNAL", ""), failed(503, "NOT_READY", ""),
		{429, ""}, {408, "request timeout"}, {502, "<html>bad gateway</html>"},
	}
	perCall = map[string][]answer{
		"CreateOrder/action": {
			{201, `{"orderId":"` + ord + `","status":"PENDING","total":"2699.97","currency":"USD"}`},
			{200, `{"orderId":"` + ord + `","status":"CANCELLED","total":"2699.97"}`},
			failed(409, "ALREADY_COMPENSATED", ""),
		},
		"ReserveInventory/action": {
			{201, `{"reservationId":"res-1","orderId":"` + ord + `","status":"RESERVED"}`},
			{409, `{"error":{"code":"OUT_OF_STOCK","message":"1 item(s) are out of stock","details":{"items":[{"productId":"LAP-001","requested":2,"available":1}]}}}`},
			failed(422, "UNKNOWN_PRODUCT", "items[0].productId"), failed(422, "PRODUCT_DISCONTINUED", "items[1].productId"),
		},
		"ProcessPayment/action": {
			{201, `{"paymentId":"` + pay + `","status":"CAPTURED","amount":"2699.97","refundedAmount":"0.00"}`},
			failed(402, "PAYMENT_DECLINED", "amount"),
		},
		"ScheduleShipment/action": {
			{201, `{"shipmentId":"` + shp + `","status":"SCHEDULED","carrier":"UPS","trackingNumber":"1ZABC"}`},
			{201, `{"shipmentId":"` + shp + `","status":"SCHEDULED"}`},
			failed(422, "UNSUPPORTED_DESTINATION", "address.country"),
		},
		"ConfirmOrder/action":     {{200, `{"orderId":"` + ord + `","status":"CONFIRMED"}`}, failed(409, "ORDER_CANCELLED", "")},
		"SendNotification/action": {{201, `{"notificationId":"n","status":"SENT"}`}, failed(409, "NOTIFICATION_EXISTS", "")},
		"CreateOrder/compensate": {
			{200, `{"orderId":"` + ord + `","status":"CANCELLED","tombstone":true}`}, failed(409, "ORDER_CONFIRMED", ""),
		},
		"ReserveInventory/compensate": {{200, `{"reservationId":"r","status":"RELEASED"}`}, {200, `{"reservationId":"r","status":"RELEASED","tombstone":true}`}},
		"ProcessPayment/compensate":   {{200, `{"paymentId":"p","status":"REFUNDED","refundedAmount":"2699.97"}`}},
		"ScheduleShipment/compensate": {{200, `{"shipmentId":"s","status":"CANCELLED"}`}},
		"NotifyCancellation/action":   {{201, `{"notificationId":"n","status":"SENT"}`}},
	}
	return perCall, everyCallGets
}

// knownGaps are the answers the two sagas read differently, by "<step>/<direction> <status>
// <body>". ord is the saga's order ID.
func knownGaps(ord string) map[string]gap {
	mismatch := `{"orderId":"` + ord + `","status":"PENDING","total":"2700.00"}`
	return map[string]gap{
		"CreateOrder/action 201 " + mismatch: {
			why:     "a total other than the items' is a business failure both ways, but a businessFailure override cannot name its code",
			builtIn: verdict{Kind: saga.BusinessFailure, Code: "TOTAL_MISMATCH"},
			defined: verdict{Kind: saga.BusinessFailure, Code: "HTTP_201"},
		},
		`SendNotification/action 201 {"notificationId":"n","status":"FAILED"}`: {
			why:     "an undelivered notice is a business failure both ways, but a businessFailure override cannot name its code",
			builtIn: verdict{Kind: saga.BusinessFailure, Code: "NOTIFICATION_FAILED"},
			defined: verdict{Kind: saga.BusinessFailure, Code: "HTTP_201"},
		},
		`NotifyCancellation/action 201 {"notificationId":"n","status":"FAILED"}`: {
			why:     "onRollback's answer is classified by its status alone: a definition has no businessFailure for it",
			builtIn: verdict{Kind: saga.BusinessFailure, Code: "NOTIFICATION_FAILED"},
			defined: verdict{Kind: saga.Succeeded},
		},
		"CreateOrder/action 201 not JSON": {
			why:     "outside the services' contract: the built-in kind retries an answer it cannot decode; the definition's total check finds no total, which is not retried",
			builtIn: verdict{Kind: saga.Transient, Code: "INVALID_RESPONSE"},
			defined: verdict{Kind: saga.BusinessFailure, Code: "HTTP_201"},
		},
		"ConfirmOrder/action 200 not JSON": {
			why:     "outside the services' contract: the built-in kind decodes every 2xx answer; a step without outputs or overrides reads only its status",
			builtIn: verdict{Kind: saga.Transient, Code: "INVALID_RESPONSE"},
			defined: verdict{Kind: saga.Succeeded},
		},
		"ProcessPayment/compensate 200 not JSON": {
			why:     "outside the services' contract: the built-in kind decodes every 2xx answer; a compensation's answer is read by its status alone",
			builtIn: verdict{Kind: saga.Transient, Code: "INVALID_RESPONSE"},
			defined: verdict{Kind: saga.Succeeded},
		},
		`ReserveInventory/action 201 {"status":"RESERVED"}`: {
			why:     "outside the services' contract: the built-in kind keeps an absent ID as empty; a definition's output that cannot be read fails the step",
			builtIn: verdict{Kind: saga.Succeeded, Outputs: map[string]string{"reservationId": ""}},
			defined: verdict{Kind: saga.BusinessFailure, Code: sagadef.CodeInvalidOutput},
		},
	}
}

// gapAnswer reads the answer back from a gap's name.
func gapAnswer(name string) answer {
	_, rest, _ := strings.Cut(name, " ")
	status, body, _ := strings.Cut(rest, " ")
	var code int
	_, _ = fmt.Sscan(status, &code)
	return answer{code, body}
}

// callWith makes call of the built-in saga against a service that answers a.
func callWith(t *testing.T, tw *twin, call saga.Call, a answer) saga.Outcome {
	t.Helper()
	overrides := map[string]string{}
	for _, s := range stepclient.Services() {
		overrides[s] = "http://" + s
	}
	c := ordersaga.Caller{Client: stepclient.NewWithTransport(stepclient.Resolver{Overrides: overrides}, answering(a))}
	return c.Call(t.Context(), tw.order.DeepCopy(), call)
}

func uidOf(tw *twin) string { return string(tw.order.UID) }

// ranFourSteps is the completed sample's order, run both ways through its first four steps
// on the services' handlers, as the run leaves it before the pivot.
func ranFourSteps(t *testing.T, p *sagadef.Program) *twin {
	t.Helper()
	var obj v1.OrderSaga
	readSample(t, "saga_v1alpha1_ordersaga_completed.yaml", &obj)
	obj.Namespace, obj.UID = "shop", types.UID("0b9a1d2e-0000-4000-8000-000000000001")
	tw := newTwin(t, p, "sample", withStatus(&obj))
	run := newTwinRunner(t, p, newContractServices(t), nil)
	for _, call := range everyCall(uidOf(tw))[:4] {
		builtIn := run.caller.Call(t.Context(), tw.order, call)
		defined := p.Outcome(call, tw.vars(), run.rec.answer)
		tw.record(call, builtIn, defined, time.Now())
	}
	if len(tw.status.Steps) != 4 || tw.order.Status.ShipmentID == "" {
		t.Fatalf("the first four steps did not run: %+v", tw.status.Steps)
	}
	return tw
}

// TestDefinitionNoticeWithoutTrackingNumber runs orders whose shipment comes back without a
// tracking number: the confirmation's data then has none either way (the notification
// service refuses empty template data).
func TestDefinitionNoticeWithoutTrackingNumber(t *testing.T) {
	p := orderDefinition(t)
	notices := 0
	strip := func(r sent, body []byte) []byte {
		if r.Service == "notification" && strings.HasSuffix(r.Path, "-confirmed") && strings.Contains(r.Body, `"data":{"total":`) {
			notices++ // a confirmation with a total and nothing else
		}
		if r.Service != "shipping" || r.Method != http.MethodPut {
			return body
		}
		var m map[string]any
		if err := json.Unmarshal(body, &m); err != nil {
			return body
		}
		delete(m, "trackingNumber")
		out, err := json.Marshal(m)
		if err != nil {
			return body
		}
		return out
	}
	run := newTwinRunner(t, p, newContractServices(t), strip)
	payments, methods := crdEnums(t)
	g := gen{r: rand.New(rand.NewPCG(definitionSeed, 1)), payments: payments, methods: methods}
	const orders = 20
	for i := range orders {
		if _, err := run.both(t, fmt.Sprintf("generated #%d", i), g.saga()); err != nil {
			t.Fatal(err)
		}
	}
	if notices != orders {
		t.Errorf("%d of %d confirmations had a total and no tracking number", notices, orders)
	}
}
