package e2e

import (
	"fmt"
	"strings"

	. "github.com/onsi/gomega"
	"sigs.k8s.io/yaml"
)

// line is one order line of a saga.
type line struct {
	product string
	qty     int
	price   string
}

// retry is a saga's retryPolicy; the zero value leaves the API server's defaults.
type retry struct {
	maxAttempts    int
	initialBackoff string
	maxBackoff     string
}

// Retry policies that keep the suite fast. quickRetry rides out a 20 % error rate;
// outageRetry waits about 20 s in all, longer than the suite's 10 s payment outage.
var (
	quickRetry  = retry{maxAttempts: 10, initialBackoff: "50ms", maxBackoff: "500ms"}
	outageRetry = retry{maxAttempts: 9, initialBackoff: "500ms", maxBackoff: "4s"}
)

// sagaSpec is an OrderSaga as a user would write it; sagaManifest renders it.
type sagaSpec struct {
	name        string
	customer    string
	lines       []line
	payment     string // default CREDIT_CARD
	country     string // default GB
	retry       retry
	stepTimeout string
	suspend     bool
}

// saga returns a valid saga for one product line, shipped to London.
func saga(name, product string, qty int, price string) sagaSpec {
	return sagaSpec{name: name, customer: "cust-" + name, lines: []line{{product, qty, price}}}
}

// sagaManifest returns the saga as the object kubectl applies, so that a test can also
// break it in ways the sagaSpec cannot express.
func sagaManifest(s sagaSpec) map[string]any {
	items := make([]any, 0, len(s.lines))
	for _, l := range s.lines {
		items = append(items, map[string]any{"productId": l.product, "quantity": l.qty, "unitPrice": l.price})
	}
	spec := map[string]any{
		"customerId":    s.customer,
		"items":         items,
		"currency":      "USD",
		"paymentMethod": or(s.payment, "CREDIT_CARD"),
		"shipping": map[string]any{
			"method": "STANDARD",
			"address": map[string]any{
				"name": "Ada Lovelace", "line1": "12 Example Street", "city": "London",
				"postalCode": "N1 9GU", "country": or(s.country, "GB"),
			},
		},
	}
	if s.retry.maxAttempts > 0 {
		spec["retryPolicy"] = map[string]any{
			"maxAttempts": s.retry.maxAttempts, "initialBackoff": s.retry.initialBackoff, "maxBackoff": s.retry.maxBackoff,
		}
	}
	if s.stepTimeout != "" {
		spec["stepTimeout"] = s.stepTimeout
	}
	if s.suspend {
		spec["suspend"] = true
	}
	return map[string]any{
		"apiVersion": "saga.ordersaga.io/v1alpha1",
		"kind":       "OrderSaga",
		"metadata":   map[string]any{"name": s.name},
		"spec":       spec,
	}
}

// sagasYAML renders sagas as one multi-document YAML file.
func sagasYAML(sagas ...sagaSpec) string {
	docs := make([]string, 0, len(sagas))
	for _, s := range sagas {
		docs = append(docs, toYAML(sagaManifest(s)))
	}
	return strings.Join(docs, "---\n")
}

func toYAML(obj map[string]any) string {
	b, err := yaml.Marshal(obj)
	Expect(err).NotTo(HaveOccurred())
	return string(b)
}

// many returns n sagas named prefix-000... for qty units each: of product, or, when
// product is "", of a product of their own (E2E-PREFIX-000...).
// Sagas with a product of their own keep each stock check exact whatever else runs.
func many(n int, prefix, product string, qty int, price string, r retry) []sagaSpec {
	out := make([]sagaSpec, n)
	for i := range out {
		p := product
		if p == "" {
			p = fmt.Sprintf("E2E-%s-%03d", strings.ToUpper(prefix), i)
		}
		out[i] = saga(fmt.Sprintf("%s-%03d", prefix, i), p, qty, price)
		out[i].retry = r
	}
	return out
}

// withFailures makes the first aq sagas ship to Antarctica (refused after the capture)
// and the next declined ones cost 6000.00 (declined above the 5000.00 limit); see
// expectOutcomes.
func withFailures(sagas []sagaSpec, aq, declined int) []sagaSpec {
	for i := range sagas {
		switch {
		case i < aq:
			sagas[i].country = "AQ"
		case i < aq+declined:
			sagas[i].lines[0].qty, sagas[i].lines[0].price = 2, "3000.00"
		}
	}
	return sagas
}

// products returns the distinct products of sagas, in order.
func products(sagas []sagaSpec) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range sagas {
		for _, l := range s.lines {
			if !seen[l.product] {
				seen[l.product] = true
				out = append(out, l.product)
			}
		}
	}
	return out
}

func or(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
