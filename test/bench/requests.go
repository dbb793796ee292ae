package bench

import (
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Request is one kind of API request: the API server's verb (GET on one object, LIST and
// WATCH on a collection, POST, PUT, PATCH, DELETE, DELETECOLLECTION) and what it is on.
// The names are the labels of the API server's apiserver_request_total, so that the
// manager's own count and the server's count read alike.
type Request struct {
	Verb        string
	Group       string
	Resource    string
	Subresource string
}

// Name is the resource as kubectl names it, with the subresource after a slash: the
// group is left out for the core group and for OrderSagas' own group.
func (r Request) Name() string {
	if r.Resource == "" {
		return "non-resource " + r.Subresource // the API server's label holds the path there
	}
	name := r.Resource
	if r.Group != "" && r.Group != v1.GroupVersion.Group {
		name += "." + r.Group
	}
	if r.Subresource != "" {
		name += "/" + r.Subresource
	}
	return name
}

// IsWrite reports whether the request changes stored state.
func (r Request) IsWrite() bool {
	switch r.Verb {
	case "POST", "PUT", "PATCH", "DELETE", "DELETECOLLECTION", "APPLY":
		return true
	}
	return false
}

// Counts is a number of requests of each kind.
type Counts map[Request]int64

// Sub returns c minus before, dropping kinds that did not change.
func (c Counts) Sub(before Counts) Counts {
	out := Counts{}
	for k, n := range c {
		if d := n - before[k]; d != 0 {
			out[k] = d
		}
	}
	return out
}

// Total sums the requests that keep says to count.
func (c Counts) Total(keep func(Request) bool) int64 {
	var n int64
	for k, v := range c {
		if keep(k) {
			n += v
		}
	}
	return n
}

// Sorted returns the kinds by name, then verb.
func (c Counts) Sorted() []Request {
	return slices.SortedFunc(maps.Keys(c), func(a, b Request) int {
		if n := strings.Compare(a.Name(), b.Name()); n != 0 {
			return n
		}
		return strings.Compare(a.Verb, b.Verb)
	})
}

// anyRequest counts every request.
func anyRequest(Request) bool { return true }

// writeRequest counts the requests that change stored state.
func writeRequest(r Request) bool { return r.IsWrite() }

// requestCounter counts the requests a manager sends, by kind. Its transport sits in the
// manager's rest.Config (WrapTransport), so it sees every request the manager makes,
// through every client and informer, as it leaves the process. client-go wraps each
// transport it builds from the config; every one of them counts into the same counter.
type requestCounter struct {
	mu     sync.Mutex
	counts Counts
}

func newRequestCounter() *requestCounter { return &requestCounter{counts: Counts{}} }

// Wrap is a rest.Config's WrapTransport.
func (c *requestCounter) Wrap(next http.RoundTripper) http.RoundTripper {
	return &countingTransport{next: next, counter: c}
}

func (c *requestCounter) add(r Request) {
	c.mu.Lock()
	c.counts[r]++
	c.mu.Unlock()
}

// Snapshot returns the counts so far.
func (c *requestCounter) Snapshot() Counts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.counts)
}

type countingTransport struct {
	next    http.RoundTripper
	counter *requestCounter
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.counter.add(classify(req.Method, req.URL))
	return t.next.RoundTrip(req) //nolint:wrapcheck // a counting RoundTripper must pass the transport's error through as it is
}

// classify names a request as the API server's metrics do: a GET on a collection is a
// LIST, or a WATCH with ?watch=true; a DELETE on a collection is DELETECOLLECTION.
func classify(method string, u *url.URL) Request {
	r := parsePath(u.Path)
	named := r.name != ""
	req := Request{Verb: method, Group: r.group, Resource: r.resource, Subresource: r.subresource}
	switch {
	case method == http.MethodGet && !named && r.resource != "" && isWatch(u.Query()):
		req.Verb = "WATCH"
	case method == http.MethodGet && !named && r.resource != "":
		req.Verb = "LIST"
	case method == http.MethodDelete && !named:
		req.Verb = "DELETECOLLECTION"
	}
	return req
}

func isWatch(q url.Values) bool {
	w := q.Get("watch")
	return w == "true" || w == "1"
}

// apiPath is a resource path split into its parts.
type apiPath struct {
	group, resource, name, subresource string
}

// parsePath reads /api/v1/... and /apis/GROUP/VERSION/...: [namespaces/NS/]RESOURCE[/NAME[/SUB]].
// Anything else (discovery, /version, /healthz) has no resource.
func parsePath(p string) apiPath {
	segs := strings.Split(strings.Trim(p, "/"), "/")
	var out apiPath
	switch {
	case len(segs) >= 3 && segs[0] == "api":
		segs = segs[2:]
	case len(segs) >= 4 && segs[0] == "apis":
		out.group = segs[1]
		segs = segs[3:]
	default:
		// Discovery, /version, /healthz…: as the API server labels them, the path.
		return apiPath{subresource: p}
	}
	// namespaces/NS/RESOURCE… is a namespaced resource; namespaces[/NS] is the namespace.
	if len(segs) >= 3 && segs[0] == "namespaces" {
		segs = segs[2:]
	}
	out.resource = segs[0]
	if len(segs) > 1 {
		out.name = segs[1]
	}
	if len(segs) > 2 {
		out.subresource = strings.Join(segs[2:], "/")
	}
	return out
}
