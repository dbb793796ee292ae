// Package web serves the OrderSaga dashboard, the gateway's pages for people: the saga list,
// a page per saga, and the place-order form.
//
// The pages are shells rendered with html/template; one hand-written script
// (static/app.js) fills them from the gateway's GraphQL API only: queries and mutations
// as POST /graphql, live updates as subscriptions over a WebSocket at /graphql with the
// graphql-transport-ws protocol. The caller's ServiceAccount token lives in the tab's
// sessionStorage and goes with every request as a bearer token; this package never sees it.
//
// Caveats: the pages hold no data when served, so they are the same for every caller; the
// API decides what each caller may read and do.
package web

import (
	"net/http"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// Handler returns the dashboard, for the gateway to mount at "/" (every path that is not
// /graphql, /healthz, /readyz or /metrics): the saga list at "/", a page per saga at
// "/orders/{namespace}/{id}", the place-order form at "/new", and the embedded assets under
// "/static/". Any other path is a 404 page; a method other than GET or HEAD on a page is 405.
// Every answer carries the security headers of withSecurityHeaders.
//
// Handler panics when the embedded templates do not parse, which the package's tests rule out.
func Handler() http.Handler {
	s := newSite()
	mux := http.NewServeMux()
	mux.HandleFunc("/{$}", getOnly(s.list))
	mux.HandleFunc("/new", getOnly(s.newOrder))
	mux.HandleFunc("/orders/{namespace}/{id}", getOnly(s.order))
	mux.HandleFunc("/static/{name}", getOnly(s.asset))
	mux.HandleFunc("/", s.notFound)
	return withSecurityHeaders(mux)
}

// site is the dashboard: its parsed pages and its assets.
type site struct {
	pages   map[string]*page
	assets  map[string]*asset
	choices choices
}

func newSite() *site {
	assets := mustLoadAssets()
	return &site{pages: mustParsePages(assets), assets: assets, choices: schemaChoices()}
}

// getOnly answers 405 to anything but GET and HEAD (the mux's GET patterns also take HEAD).
func getOnly(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h(w, r)
	}
}

// list serves the saga list; its filters and page are in the query string, read by the script.
func (s *site) list(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "list", pageData{Title: "Orders"})
}

// newOrder serves the place-order form.
func (s *site) newOrder(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "new", pageData{Title: "Place an order"})
}

// order serves the page of one saga. A namespace or name that Kubernetes would refuse is a
// 404 here, so that the script never asks the API about it.
func (s *site) order(w http.ResponseWriter, r *http.Request) {
	ns, id := r.PathValue("namespace"), r.PathValue("id")
	if len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Subdomain(id)) > 0 {
		s.notFound(w, r)
		return
	}
	s.render(w, r, http.StatusOK, "order", pageData{Title: "Order " + id, Namespace: ns, ID: id})
}

// notFound serves the 404 page; its links lead back to the list.
func (s *site) notFound(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/static/") {
		http.NotFound(w, r)
		return
	}
	s.render(w, r, http.StatusNotFound, "notfound", pageData{Title: "Not found"})
}
