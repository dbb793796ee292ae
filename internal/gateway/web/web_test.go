package web

import (
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// answer is what the handler answered to one request.
type answer struct {
	StatusCode int
	Header     http.Header
}

// get serves one request through h and returns the answer and its body.
func get(t *testing.T, h http.Handler, method, target string, header http.Header) (answer, string) {
	t.Helper()
	req := httptest.NewRequestWithContext(t.Context(), method, target, nil)
	maps.Copy(req.Header, header)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return answer{StatusCode: rec.Code, Header: rec.Header()}, rec.Body.String()
}

func TestHandlerRoutes(t *testing.T) {
	h := Handler()
	js := newSite().assets["app.js"]
	cases := map[string]struct {
		reason      string
		method      string
		target      string
		wantStatus  int
		wantType    string
		wantCache   string
		wantInBody  []string
		wantNoBody  bool
		wantAllowed string
	}{
		"ListPage": {
			reason: "The saga list is the root page, with the filters, the table and the pager.",
			method: http.MethodGet, target: "/", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8", wantCache: "no-cache",
			wantInBody: []string{`data-page="list"`, `<table id="orders"`, `<th scope="col">Phase</th>`, `id="next-page"`, `<option value="Compensated">`, `aria-live="polite"`, `<main id="main"`},
		},
		"ListPageWithFilters": {
			reason: "The filters and the page are in the query string, read by the script.",
			method: http.MethodGet, target: "/?phase=Failed&customer=c-1&after=abc", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8",
			wantInBody: []string{`data-page="list"`},
		},
		"OrderPage": {
			reason: "A saga's page names the saga for the script in data attributes.",
			method: http.MethodGet, target: "/orders/default/order-1001", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8",
			wantInBody: []string{`data-page="order"`, `data-namespace="default"`, `data-id="order-1001"`, `<button type="button" id="retry"`, `Cancel order`},
		},
		"OrderPageDottedName": {
			reason: "Saga names are DNS subdomains: dots are allowed.",
			method: http.MethodGet, target: "/orders/shop/order.1", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8",
			wantInBody: []string{`data-id="order.1"`},
		},
		"NewOrderForm": {
			reason: "The place-order form labels every field.",
			method: http.MethodGet, target: "/new", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8",
			wantInBody: []string{`data-page="new"`, `<label for="customerId">`, `<option value="BANK_TRANSFER">`, `<option value="TWO_DAY">`, `<label for="addrCountry">`},
		},
		"HeadOfAPage": {
			reason: "HEAD answers like GET, without the body.",
			method: http.MethodHead, target: "/", wantStatus: http.StatusOK, wantType: "text/html; charset=utf-8", wantNoBody: true,
		},
		"ScriptVersioned": {
			reason: "The versioned script URL the pages link is kept for a year.",
			method: http.MethodGet, target: "/static/app.js?v=" + js.version, wantStatus: http.StatusOK,
			wantType: "text/javascript; charset=utf-8", wantCache: "public, max-age=31536000, immutable", wantInBody: []string{"graphql-transport-ws"},
		},
		"ScriptUnversioned": {
			reason: "Any other request for the script revalidates.",
			method: http.MethodGet, target: "/static/app.js", wantStatus: http.StatusOK, wantType: "text/javascript; charset=utf-8", wantCache: "no-cache",
		},
		"StyleSheet": {
			reason: "The style sheet is text/css.",
			method: http.MethodGet, target: "/static/app.css", wantStatus: http.StatusOK, wantType: "text/css; charset=utf-8", wantInBody: []string{":focus-visible"},
		},
		"Icon": {
			reason: "The icon is SVG.",
			method: http.MethodGet, target: "/static/icon.svg", wantStatus: http.StatusOK, wantType: "image/svg+xml",
		},
		"UnknownAsset": {
			reason: "An asset that is not embedded is a plain 404.",
			method: http.MethodGet, target: "/static/nope.js", wantStatus: http.StatusNotFound, wantType: "text/plain; charset=utf-8",
		},
		"NestedAsset": {
			reason: "Assets are flat: a deeper path is a plain 404.",
			method: http.MethodGet, target: "/static/a/b.js", wantStatus: http.StatusNotFound, wantType: "text/plain; charset=utf-8",
		},
		"UnknownPath": {
			reason: "Any other path is the 404 page.",
			method: http.MethodGet, target: "/nope", wantStatus: http.StatusNotFound, wantType: "text/html; charset=utf-8",
			wantInBody: []string{"Page not found", `href="/"`},
		},
		"OrderPageWithoutID": {
			reason: "An order page needs both the namespace and the name.",
			method: http.MethodGet, target: "/orders/default/", wantStatus: http.StatusNotFound, wantType: "text/html; charset=utf-8",
		},
		"OrderPageTooDeep": {
			reason: "An order page has exactly two segments.",
			method: http.MethodGet, target: "/orders/default/order-1/x", wantStatus: http.StatusNotFound, wantType: "text/html; charset=utf-8",
		},
		"OrderPageInvalidNamespace": {
			reason: "A namespace Kubernetes would refuse is not a page.",
			method: http.MethodGet, target: "/orders/Default_NS/order-1", wantStatus: http.StatusNotFound, wantType: "text/html; charset=utf-8",
		},
		"OrderPageInvalidName": {
			reason: "A saga name Kubernetes would refuse is not a page.",
			method: http.MethodGet, target: "/orders/default/%3Cscript%3E", wantStatus: http.StatusNotFound, wantType: "text/html; charset=utf-8",
		},
		"PostToAPage": {
			reason: "The pages take only GET and HEAD; the API is /graphql, not here.",
			method: http.MethodPost, target: "/", wantStatus: http.StatusMethodNotAllowed, wantAllowed: "GET, HEAD",
		},
		"DeleteAnAsset": {
			reason: "Assets take only GET and HEAD.",
			method: http.MethodDelete, target: "/static/app.js", wantStatus: http.StatusMethodNotAllowed, wantAllowed: "GET, HEAD",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			res, body := get(t, h, tc.method, tc.target, nil)
			if res.StatusCode != tc.wantStatus {
				t.Fatalf("\nReason: %s\n%s %s: status %d, want %d\n%s", tc.reason, tc.method, tc.target, res.StatusCode, tc.wantStatus, body)
			}
			check := func(header, want string) {
				if got := res.Header.Get(header); want != "" && got != want {
					t.Errorf("\nReason: %s\n%s %s: %s %q, want %q", tc.reason, tc.method, tc.target, header, got, want)
				}
			}
			check("Content-Type", tc.wantType)
			check("Cache-Control", tc.wantCache)
			check("Allow", tc.wantAllowed)
			for _, s := range tc.wantInBody {
				if !strings.Contains(body, s) {
					t.Errorf("\nReason: %s\n%s %s: the body has no %q", tc.reason, tc.method, tc.target, s)
				}
			}
			if tc.wantNoBody && body != "" {
				t.Errorf("\nReason: %s\n%s %s: body %q, want none", tc.reason, tc.method, tc.target, body)
			}
		})
	}
}

func TestSecurityHeadersOnEveryAnswer(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/new", "/orders/default/o-1", "/static/app.js", "/static/nope.css", "/nope"} {
		res, _ := get(t, h, http.MethodGet, target, nil)
		want := map[string]string{
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "no-referrer",
			"X-Frame-Options":        "DENY",
		}
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("GET %s: %s %q, want %q", target, k, got, v)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, directive := range []string{
			"default-src 'none'", "script-src 'self'", "style-src 'self'",
			"connect-src 'self' ws://example.com wss://example.com", "frame-ancestors 'none'", "base-uri 'none'",
		} {
			if !strings.Contains(csp, directive+";") && !strings.HasSuffix(csp, directive) {
				t.Errorf("GET %s: the Content-Security-Policy %q has no %q", target, csp, directive)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: the Content-Security-Policy %q allows unsafe code", target, csp)
		}
	}
}

func TestContentSecurityPolicyHost(t *testing.T) {
	cases := map[string]struct {
		reason string
		host   string
		want   string
	}{
		"NameAndPort": {
			reason: "A well-formed host is named for ws: and wss:.",
			host:   "127.0.0.1:8090", want: "connect-src 'self' ws://127.0.0.1:8090 wss://127.0.0.1:8090;",
		},
		"IPv6": {
			reason: "An IPv6 literal is a host too.",
			host:   "[::1]:8090", want: "connect-src 'self' ws://[::1]:8090 wss://[::1]:8090;",
		},
		"Malformed": {
			reason: "A Host that could break out of the directive is left out; 'self' still applies.",
			host:   "evil.example; script-src *", want: "connect-src 'self';",
		},
		"Empty": {
			reason: "No Host: only 'self'.",
			host:   "", want: "connect-src 'self';",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := contentSecurityPolicy(tc.host); !strings.Contains(got, tc.want) {
				t.Errorf("\nReason: %s\ncontentSecurityPolicy(%q) = %q, want it to hold %q", tc.reason, tc.host, got, tc.want)
			}
		})
	}
}

func TestAssetRevalidation(t *testing.T) {
	h := Handler()
	res, _ := get(t, h, http.MethodGet, "/static/app.css", nil)
	etag := res.Header.Get("ETag")
	if etag == "" {
		t.Fatal("GET /static/app.css: no ETag")
	}
	res, body := get(t, h, http.MethodGet, "/static/app.css", http.Header{"If-None-Match": {etag}})
	if res.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("GET /static/app.css with If-None-Match %s: status %d and %d bytes, want 304 and none", etag, res.StatusCode, len(body))
	}
}

// assetLink matches the links and scripts of a page that point at this package's assets.
var assetLink = regexp.MustCompile(`(?:src|href)="(/static/[^"]+)"`)

func TestPagesLinkOnlyServedAssets(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/new", "/orders/default/o-1", "/nope"} {
		_, body := get(t, h, http.MethodGet, target, nil)
		links := assetLink.FindAllStringSubmatch(body, -1)
		if len(links) < 3 {
			t.Errorf("GET %s: %d asset links, want the script, the style sheet and the icon", target, len(links))
		}
		for _, m := range links {
			link := strings.ReplaceAll(m[1], "&amp;", "&")
			if res, _ := get(t, h, http.MethodGet, link, nil); res.StatusCode != http.StatusOK {
				t.Errorf("GET %s links %s, which answers %d", target, link, res.StatusCode)
			}
		}
	}
}

// inlineCode matches what the Content-Security-Policy would block: inline scripts, inline
// styles and event-handler attributes.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]|<style|\sstyle=|\son[a-z]+=`)

func TestPagesHoldNoInlineCode(t *testing.T) {
	h := Handler()
	for _, target := range []string{"/", "/new", "/orders/default/o-1", "/nope"} {
		_, body := get(t, h, http.MethodGet, target, nil)
		if m := inlineCode.FindString(body); m != "" {
			t.Errorf("GET %s: the page holds %q, which the Content-Security-Policy blocks", target, m)
		}
	}
}

func TestPagesAreAccessible(t *testing.T) {
	h := Handler()
	labelFor := regexp.MustCompile(`<label for="([^"]+)"`)
	controlID := regexp.MustCompile(`<(?:input|select|textarea)[^>]*\sid="([^"]+)"`)
	for _, target := range []string{"/", "/new", "/orders/default/o-1"} {
		_, body := get(t, h, http.MethodGet, target, nil)
		for _, landmark := range []string{"<header", "<nav", "<main", `lang="en"`, `role="status" aria-live="polite"`} {
			if !strings.Contains(body, landmark) {
				t.Errorf("GET %s: no %s", target, landmark)
			}
		}
		labelled := map[string]bool{}
		for _, m := range labelFor.FindAllStringSubmatch(body, -1) {
			labelled[m[1]] = true
		}
		for _, m := range controlID.FindAllStringSubmatch(body, -1) {
			if !labelled[m[1]] {
				t.Errorf("GET %s: the control #%s has no <label for>", target, m[1])
			}
		}
		if strings.Contains(body, "<th>") {
			t.Errorf("GET %s: a table header without scope", target)
		}
	}
}

func TestTemplatesParseAndRender(t *testing.T) {
	s := newSite()
	for _, name := range pageNames() {
		p, ok := s.pages[name]
		if !ok {
			t.Fatalf("no page %q", name)
		}
		var b strings.Builder
		if err := p.tmpl.Execute(&b, pageData{Title: "T", Page: name, Namespace: "ns", ID: "id", choices: schemaChoices()}); err != nil {
			t.Errorf("render %s: %v", name, err)
		}
		if !strings.Contains(b.String(), "</html>") {
			t.Errorf("render %s: no whole document", name)
		}
	}
}

func TestPageEscapesItsData(t *testing.T) {
	s := newSite()
	rec := httptest.NewRecorder()
	req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/", nil)
	s.render(rec, req, http.StatusOK, "order", pageData{Title: `<b>x</b>`, Namespace: `"><script>`, ID: "a&b"})
	body := rec.Body.String()
	if strings.Contains(body, `"><script>`) || strings.Contains(body, "<b>x</b>") {
		t.Errorf("the page holds its data unescaped:\n%s", body)
	}
}
