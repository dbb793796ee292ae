package bench

import (
	"net/http"
	"net/url"
	"testing"
)

func TestClassify(t *testing.T) {
	cases := []struct {
		method, url string
		want        Request
	}{
		{"GET", "/apis/saga.ordersaga.io/v1alpha1/namespaces/ns/ordersagas/s-1", Request{"GET", "saga.ordersaga.io", "ordersagas", ""}},
		{"GET", "/apis/saga.ordersaga.io/v1alpha1/namespaces/ns/ordersagas?limit=500", Request{"LIST", "saga.ordersaga.io", "ordersagas", ""}},
		{"GET", "/apis/saga.ordersaga.io/v1alpha1/ordersagas?watch=true&resourceVersion=7", Request{"WATCH", "saga.ordersaga.io", "ordersagas", ""}},
		{"PATCH", "/apis/saga.ordersaga.io/v1alpha1/namespaces/ns/ordersagas/s-1/status", Request{"PATCH", "saga.ordersaga.io", "ordersagas", "status"}},
		{"POST", "/apis/events.k8s.io/v1/namespaces/ns/events", Request{"POST", "events.k8s.io", "events", ""}},
		{"PUT", "/api/v1/namespaces/ns/configmaps/c", Request{"PUT", "", "configmaps", ""}},
		{"GET", "/api/v1/namespaces/ns", Request{"GET", "", "namespaces", ""}},
		{"GET", "/api/v1/namespaces", Request{"LIST", "", "namespaces", ""}},
		{"DELETE", "/api/v1/namespaces/ns/pods", Request{"DELETECOLLECTION", "", "pods", ""}},
		{"GET", "/apis", Request{"GET", "", "", "/apis"}},
	}
	for _, c := range cases {
		u, err := url.Parse(c.url)
		if err != nil {
			t.Fatal(err)
		}
		if got := classify(c.method, u); got != c.want {
			t.Errorf("%s %s: got %+v, want %+v", c.method, c.url, got, c.want)
		}
	}
}

func TestRequestName(t *testing.T) {
	for r, want := range map[Request]string{
		{Verb: "PATCH", Group: "saga.ordersaga.io", Resource: "ordersagas", Subresource: "status"}: "ordersagas/status",
		{Verb: "POST", Group: "events.k8s.io", Resource: "events"}:                                 "events.events.k8s.io",
		{Verb: "GET", Subresource: "/openapi/v3"}:                                                  "non-resource /openapi/v3",
	} {
		if got := r.Name(); got != want {
			t.Errorf("%+v: got %q, want %q", r, got, want)
		}
	}
	if (Request{Verb: http.MethodGet}).IsWrite() || !(Request{Verb: "DELETECOLLECTION"}).IsWrite() {
		t.Error("IsWrite: GET is a read, DELETECOLLECTION a write")
	}
}

func TestParseRequestTotals(t *testing.T) {
	page := []byte(`# HELP apiserver_request_total [STABLE] Counter of apiserver requests
# TYPE apiserver_request_total counter
apiserver_request_total{code="201",component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="",verb="POST",version="v1alpha1"} 40
apiserver_request_total{code="409",component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="",verb="POST",version="v1alpha1"} 2
apiserver_request_total{code="200",component="apiserver",dry_run="",group="saga.ordersaga.io",resource="ordersagas",scope="resource",subresource="status",verb="PATCH",version="v1alpha1"} 1e+02
apiserver_request_total_other{verb="GET"} 9
`)
	got, err := parseRequestTotals(page)
	if err != nil {
		t.Fatal(err)
	}
	post := Request{Verb: "POST", Group: "saga.ordersaga.io", Resource: "ordersagas"}
	patch := Request{Verb: "PATCH", Group: "saga.ordersaga.io", Resource: "ordersagas", Subresource: "status"}
	if len(got) != 2 || got[post] != 42 || got[patch] != 100 {
		t.Errorf("got %v; want POST 42 (codes summed) and PATCH status 100", got)
	}
	diff := Counts{post: 50, patch: 100}.Sub(got)
	if len(diff) != 1 || diff[post] != 8 {
		t.Errorf("Sub: got %v, want POST 8 only", diff)
	}
}

func TestGaugeValue(t *testing.T) {
	page := []byte("go_memstats_heap_inuse_bytes_total 1\ngo_memstats_heap_inuse_bytes 1.2345e+07\n")
	if v, err := gaugeValue(page, "go_memstats_heap_inuse_bytes"); err != nil || v != 12345000 {
		t.Errorf("got %v, %v", v, err)
	}
}
