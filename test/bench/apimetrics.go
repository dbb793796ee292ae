package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"k8s.io/client-go/rest"
)

// metricsScraper reads an API server's /metrics as the admin user.
type metricsScraper struct {
	client *http.Client
	url    string
}

func newMetricsScraper(cfg *rest.Config) (*metricsScraper, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("http client for %s: %w", cfg.Host, err)
	}
	return &metricsScraper{client: hc, url: strings.TrimSuffix(cfg.Host, "/") + "/metrics"}, nil
}

// RequestTotals returns apiserver_request_total summed over response code, scope,
// component and version: every request the API server served, from any client.
func (m *metricsScraper) RequestTotals(ctx context.Context) (Counts, error) {
	c, err := m.Requests(ctx)
	return c.requests, err
}

// apiCounters are what one page of the API server's /metrics says.
type apiCounters struct {
	requests  Counts     // RequestTotals
	writeTime serverTime // the API server's own time on writes of OrderSagas
	// watchesClosed are the watches the API server closed because their events backed
	// up (apiserver_terminated_watchers_total, every resource): the reader re-opens it,
	// and the server sends again what the closed one had not delivered.
	watchesClosed float64
}

// Requests reads the counters of one page.
func (m *metricsScraper) Requests(ctx context.Context) (apiCounters, error) {
	var c apiCounters
	body, err := fetch(ctx, m.client, m.url)
	if err != nil {
		return c, err
	}
	if c.requests, err = parseRequestTotals(body); err != nil {
		return c, err
	}
	if c.writeTime, err = parseWriteTime(body); err != nil {
		return c, err
	}
	c.watchesClosed, err = counterSum(body, "apiserver_terminated_watchers_total", nil)
	return c, err
}

// serverTime is the count and the summed duration of requests as the API server measured
// them (apiserver_request_duration_seconds): from the request's arrival to its answer,
// the wait for etcd and the admission included, the client's own queueing not.
type serverTime struct {
	count, seconds float64
}

// parseWriteTime reads the API server's time spent on writes (POST, PATCH, PUT) of
// OrderSagas and their status, for any client.
func parseWriteTime(page []byte) (serverTime, error) {
	var t serverTime
	for _, verb := range []string{"POST", "PATCH", "PUT"} {
		match := map[string]string{"resource": "ordersagas", "verb": verb}
		n, err := counterSum(page, "apiserver_request_duration_seconds_count", match)
		if err != nil {
			return t, err
		}
		secs, err := counterSum(page, "apiserver_request_duration_seconds_sum", match)
		if err != nil {
			return t, err
		}
		t.count, t.seconds = t.count+n, t.seconds+secs
	}
	return t, nil
}

// fetch GETs url and returns its body.
func fetch(ctx context.Context, hc *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("request %s: %w", url, err)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", url, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("get %s: %s: %.200s", url, resp.Status, body)
	}
	return body, nil
}

var labelPair = regexp.MustCompile(`(\w+)="((?:[^"\\]|\\.)*)"`)

// parseRequestTotals reads the apiserver_request_total samples of a Prometheus text page.
// A tiny reader suffices: the API server writes one sample a line, labels in braces.
func parseRequestTotals(page []byte) (Counts, error) {
	out := Counts{}
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		line, ok := strings.CutPrefix(sc.Text(), "apiserver_request_total{")
		if !ok {
			continue
		}
		labels, value, ok := strings.Cut(line, "} ")
		if !ok {
			return nil, fmt.Errorf("apiserver_request_total: unreadable sample %q", sc.Text())
		}
		n, err := strconv.ParseFloat(strings.Fields(value)[0], 64)
		if err != nil {
			return nil, fmt.Errorf("apiserver_request_total: value of %q: %w", sc.Text(), err)
		}
		var r Request
		for _, m := range labelPair.FindAllStringSubmatch(labels, -1) {
			switch m[1] {
			case "verb":
				r.Verb = m[2]
			case "group":
				r.Group = m[2]
			case "resource":
				r.Resource = m[2]
			case "subresource":
				r.Subresource = m[2]
			}
		}
		out[r] += int64(n)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read metrics: %w", err)
	}
	return out, nil
}

// gaugeValue returns the value of an unlabelled sample (e.g. go_memstats_heap_inuse_bytes)
// from a Prometheus text page.
func gaugeValue(page []byte, name string) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %w", name, err)
			}
			return v, nil
		}
	}
	return 0, fmt.Errorf("no sample %s in the page", name)
}
