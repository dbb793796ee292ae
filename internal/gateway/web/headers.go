package web

import (
	"net/http"
	"regexp"
)

// hostPattern is a Host header safe to repeat in the Content-Security-Policy: a name or an
// address, with an optional port.
var hostPattern = regexp.MustCompile(`^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?$`)

// withSecurityHeaders sets, on every answer of next:
//   - a Content-Security-Policy that runs only this origin's script and style sheet (no
//     inline code, no eval), loads nothing from elsewhere, connects only to this origin
//     (fetch, and the WebSocket at ws: or wss: on the same host), and forbids framing;
//   - X-Content-Type-Options nosniff, so that a file is only ever what its type says;
//   - Referrer-Policy no-referrer: saga names in URLs stay here;
//   - X-Frame-Options DENY, for browsers that predate frame-ancestors;
//   - Cross-Origin-Opener-Policy same-origin and a Permissions-Policy that turns off the
//     device APIs the pages never use.
func withSecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy(r.Host))
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
		next.ServeHTTP(w, r)
	})
}

// contentSecurityPolicy is the policy of a page served to host. 'self' covers ws: and wss:
// on the same host in CSP Level 3; older browsers need them named, so they are when the
// Host header is well-formed.
//
// Caveats: behind a proxy that rewrites Host, the named ws/wss sources are the proxy's
// upstream host and only 'self' applies.
func contentSecurityPolicy(host string) string {
	connect := "connect-src 'self'"
	if hostPattern.MatchString(host) {
		connect += " ws://" + host + " wss://" + host
	}
	return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " + connect +
		"; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
}
