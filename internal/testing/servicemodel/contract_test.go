package servicemodel_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
)

// TestContract runs every case against the model and against the real service on a
// Mongo wire server. Each side must meet the case's expectations step by step
// (TestContract/<service>/<case>/<target>), and the two transcripts — every answer, then
// the read endpoints afterwards — must be identical byte for byte
// (TestContract/<service>/<case>/model=real). Both sides run on clocks that start at t0
// and advance together, so timestamps are compared too.
func TestContract(t *testing.T) {
	suites := []struct {
		service string
		cases   []contractCase
	}{
		{servicemodel.Order, orderCases()},
		{servicemodel.Inventory, inventoryCases()},
		{servicemodel.Payment, paymentCases()},
		{servicemodel.Shipping, shippingCases()},
		{servicemodel.Notification, notificationCases()},
	}
	for _, s := range suites {
		t.Run(s.service, func(t *testing.T) {
			for _, tc := range s.cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runCase(t, s.service, tc)
				})
			}
		})
	}
}

func runCase(t *testing.T, service string, tc contractCase) {
	t.Helper()
	got := map[string][]exchange{}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			clock := &testClock{t: t0}
			cfg := baseConfig(clock.Now)
			if tc.config != nil {
				tc.config(&cfg)
			}
			got[tg.name] = play(t, tg.start(t, service, cfg), clock, tc.steps)
		})
	}
	t.Run("model=real", func(t *testing.T) { compare(t, got["real"], got["model"]) })
}

// t0 is where both clocks start.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// testClock is a clock that moves only when a step says so.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// target starts one side of the contract: service served over HTTP, configured by cfg.
type target struct {
	name  string
	start func(t *testing.T, service string, cfg servicemodel.Config) *platformtest.Client
}

var targets = []target{
	{"real", func(t *testing.T, service string, cfg servicemodel.Config) *platformtest.Client {
		t.Helper()
		return platformtest.NewService(t, service, registerReal(service, cfg)).Client
	}},
	{"model", func(t *testing.T, service string, cfg servicemodel.Config) *platformtest.Client {
		t.Helper()
		ts := httptest.NewServer(servicemodel.New(cfg).Handler(service))
		t.Cleanup(ts.Close)
		return platformtest.NewClient(t, ts.URL)
	}},
}

// exchange is one request and its answer, as compared between the targets.
type exchange struct {
	request     string
	status      int
	contentType string
	allow       string
	body        []byte
}

// play sends the steps, checking each answer against its expectation, then reads back
// every resource the steps named and every list they touched.
func play(t *testing.T, c *platformtest.Client, clock *testClock, steps []step) []exchange {
	t.Helper()
	out := make([]exchange, 0, len(steps))
	for i, s := range steps {
		clock.advance(s.advance)
		var headers []string
		if s.key != "" {
			headers = []string{platform.IdempotencyKeyHeader, s.key}
		}
		resp := c.Do(s.method, s.path, s.body, headers...)
		x := exchange{request: s.method + " " + s.path, status: resp.Status, contentType: resp.Header.Get("Content-Type"),
			allow: resp.Header.Get("Allow"), body: resp.Body}
		checkStep(t, i+1, s, x, out)
		out = append(out, x)
	}
	for _, path := range readBack(steps) {
		resp := c.Do(http.MethodGet, path, nil)
		if resp.Status >= 500 {
			t.Errorf("read-back GET %s = %d %s", path, resp.Status, resp.Body)
		}
		out = append(out, exchange{request: "read-back GET " + path, status: resp.Status,
			contentType: resp.Header.Get("Content-Type"), body: resp.Body})
	}
	return out
}

// checkStep fails t unless answer x of step n meets s.want (and repeats step s.same).
func checkStep(t *testing.T, n int, s step, x exchange, earlier []exchange) {
	t.Helper()
	where := func() string { return x.request + " (step " + itoa(n) + ")" }
	if x.status != s.want.status {
		t.Errorf("%s: status %d, want %d; body: %s", where(), x.status, s.want.status, x.body)
		return
	}
	var obj map[string]any
	if err := json.Unmarshal(x.body, &obj); err != nil {
		t.Errorf("%s: body is not a JSON object: %v: %s", where(), err, x.body)
		return
	}
	if x.status >= 400 {
		e, _ := obj["error"].(map[string]any)
		if e == nil || e["code"] != s.want.code || str(e["field"]) != s.want.field || str(e["message"]) == "" {
			t.Errorf("%s: error %s, want code %q field %q and a message", where(), x.body, s.want.code, s.want.field)
		}
	}
	for k, v := range s.want.has {
		if diff := cmp.Diff(jsonValue(t, v), obj[k]); diff != "" {
			t.Errorf("%s: field %q: -want +got:\n%s", where(), k, diff)
		}
	}
	if s.want.idKey != "" {
		if diff := cmp.Diff(s.want.listed, itemIDs(obj, s.want.idKey)); diff != "" {
			t.Errorf("%s: items by %s: -want +got:\n%s", where(), s.want.idKey, diff)
		}
	}
	if s.same > 0 {
		first := earlier[s.same-1]
		if x.status != first.status || !bytes.Equal(x.body, first.body) {
			t.Errorf("%s: answer %d %s, want step %d's answer repeated byte for byte: %d %s", where(), x.status, x.body, s.same, first.status, first.body)
		}
	}
}

// compare fails t for every exchange where the model's answer differs from the real one.
func compare(t *testing.T, fromReal, model []exchange) {
	t.Helper()
	if len(fromReal) != len(model) {
		t.Errorf("transcripts have %d (real) and %d (model) exchanges; a side stopped early", len(fromReal), len(model))
	}
	for i := range min(len(fromReal), len(model)) {
		r, m := fromReal[i], model[i]
		if r.status == m.status && bytes.Equal(r.body, m.body) && r.contentType == m.contentType && r.allow == m.allow {
			continue
		}
		t.Errorf("exchange %d, %s: model differs from real\nreal:  %d %s (Content-Type %q, Allow %q)\nmodel: %d %s (Content-Type %q, Allow %q)\nbody -real +model:\n%s",
			i+1, r.request, r.status, r.body, r.contentType, r.allow, m.status, m.body, m.contentType, m.allow,
			cmp.Diff(parse(r.body), parse(m.body)))
	}
}

// readBack returns the GET paths that show what the steps left: each resource they named
// and each list they touched (products always, for inventory: stock is the point).
func readBack(steps []step) []string {
	var out []string
	add := func(p string) {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, s := range steps {
		u, err := url.Parse(s.path)
		if err != nil {
			continue
		}
		parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
		if len(parts) < 3 || parts[0] != "v1" || parts[2] == "" {
			continue
		}
		add("/v1/" + parts[1] + "/" + parts[2])
	}
	for _, s := range steps {
		if u, err := url.Parse(s.path); err == nil && strings.HasPrefix(u.Path, "/v1/") {
			coll, _, _ := strings.Cut(strings.TrimPrefix(u.Path, "/v1/"), "/")
			add("/v1/" + coll + "?limit=500")
			if coll == "reservations" {
				add("/v1/products?limit=500")
			}
		}
	}
	return out
}

// itemIDs returns the value under key of each item of a list answer, in order.
func itemIDs(answer map[string]any, key string) []string {
	items, _ := answer["items"].([]any)
	ids := make([]string, 0, len(items))
	for _, it := range items {
		item, _ := it.(map[string]any)
		ids = append(ids, str(item[key]))
	}
	return ids
}

func parse(b []byte) any {
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return string(b)
	}
	return v
}

// jsonValue returns v as encoding/json would decode it into an any (numbers as float64).
func jsonValue(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
