// Package stepclient makes a saga's HTTP calls: it resolves a service's URL, sends the
// call's idempotency key, bounds the call by its timeout, and classifies every answer (or
// the lack of one) for the engine. What a request holds, and what a saga keeps of the
// answer, is the plan's business (internal/ordersaga, or a SagaDefinition).
package stepclient

import (
	"fmt"
	"sort"
	"strings"
)

// The services' names, as the URL template and the overrides know them.
const (
	ServiceOrder        = "order"
	ServiceInventory    = "inventory"
	ServicePayment      = "payment"
	ServiceShipping     = "shipping"
	ServiceNotification = "notification"
)

// Services are the names the URL template and the overrides know.
func Services() []string {
	return []string{ServiceOrder, ServiceInventory, ServicePayment, ServiceShipping, ServiceNotification}
}

// DefaultURLTemplate finds a service by its in-cluster DNS name.
const DefaultURLTemplate = "http://{service}.{namespace}.svc.cluster.local:8080"

// Resolver turns a service name into its base URL.
type Resolver struct {
	// Template holds {service} and {namespace} placeholders.
	Template string
	// Namespace is where the services run.
	Namespace string
	// Overrides maps a service name to a base URL that wins over the template (the local
	// stack runs the services on loopback ports).
	Overrides map[string]string
}

// BaseURL returns the base URL of service, without a trailing slash.
func (r Resolver) BaseURL(service string) string {
	if u, ok := r.Overrides[service]; ok {
		return strings.TrimRight(u, "/")
	}
	tmpl := r.Template
	if tmpl == "" {
		tmpl = DefaultURLTemplate
	}
	u := strings.ReplaceAll(tmpl, "{service}", service)
	return strings.TrimRight(strings.ReplaceAll(u, "{namespace}", r.Namespace), "/")
}

// ParseOverrides parses "order=http://127.0.0.1:18080,payment=http://..." and refuses
// unknown service names, so that a typo fails at start-up instead of at the first saga.
func ParseOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	known := map[string]bool{}
	for _, name := range Services() {
		known[name] = true
	}
	for pair := range strings.SplitSeq(s, ",") {
		name, url, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || url == "" {
			return nil, fmt.Errorf("service URL override %q: want service=url", pair)
		}
		if !known[name] {
			names := Services()
			sort.Strings(names)
			return nil, fmt.Errorf("service URL override %q: unknown service %q (known: %s)", pair, name, strings.Join(names, ", "))
		}
		out[name] = url
	}
	return out, nil
}
