package e2e

import (
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// badInput is one invalid OrderSaga: a change to a valid one, and the field kubectl's
// error must name.
type badInput struct {
	what   string
	mutate func(spec map[string]any)
	field  string
}

func item0(spec map[string]any) map[string]any { return spec["items"].([]any)[0].(map[string]any) }

func address(spec map[string]any) map[string]any {
	return spec["shipping"].(map[string]any)["address"].(map[string]any)
}

var badInputs = []badInput{
	{"quantity 0", func(s map[string]any) { item0(s)["quantity"] = 0 }, "spec.items[0].quantity"},
	{"quantity 1001", func(s map[string]any) { item0(s)["quantity"] = 1001 }, "spec.items[0].quantity"},
	{"unitPrice 0.00", func(s map[string]any) { item0(s)["unitPrice"] = "0.00" }, "spec.items[0].unitPrice"},
	{"unitPrice with 3 decimals", func(s map[string]any) { item0(s)["unitPrice"] = "9.999" }, "spec.items[0].unitPrice"},
	{"unitPrice as a number", func(s map[string]any) { item0(s)["unitPrice"] = 9.99 }, "spec.items[0].unitPrice"},
	{"productId with a space", func(s map[string]any) { item0(s)["productId"] = "E2E BAD" }, "spec.items[0].productId"},
	{"no items", func(s map[string]any) { s["items"] = []any{} }, "spec.items"},
	{"the same product twice", func(s map[string]any) { s["items"] = []any{item0(s), item0(s)} }, "spec.items[1]"},
	{"missing customerId", func(s map[string]any) { delete(s, "customerId") }, "spec.customerId"},
	{"currency usd", func(s map[string]any) { s["currency"] = "usd" }, "spec.currency"},
	{"paymentMethod BITCOIN", func(s map[string]any) { s["paymentMethod"] = "BITCOIN" }, "spec.paymentMethod"},
	{"shipping method TELEPORT", func(s map[string]any) { s["shipping"].(map[string]any)["method"] = "TELEPORT" }, "spec.shipping.method"},
	{"country GBR", func(s map[string]any) { address(s)["country"] = "GBR" }, "spec.shipping.address.country"},
	{"missing city", func(s map[string]any) { delete(address(s), "city") }, "spec.shipping.address.city"},
	{"stepTimeout 1ms", func(s map[string]any) { s["stepTimeout"] = "1ms" }, "spec.stepTimeout"},
	{"retryPolicy.maxAttempts 0", func(s map[string]any) {
		s["retryPolicy"] = map[string]any{"maxAttempts": 0, "initialBackoff": "1s", "maxBackoff": "1m"}
	}, "spec.retryPolicy.maxAttempts"},
	{"initialBackoff above maxBackoff", func(s map[string]any) {
		s["retryPolicy"] = map[string]any{"maxAttempts": 3, "initialBackoff": "2m", "maxBackoff": "1m"}
	}, "spec.retryPolicy.initialBackoff"},
	{"negative ttlSecondsAfterFinished", func(s map[string]any) { s["ttlSecondsAfterFinished"] = -1 }, "spec.ttlSecondsAfterFinished"},
}

// The API server refuses invalid orders before anything runs: kubectl names the field,
// and no request reaches a service (their request counters do not move).
var _ = Describe("Bad input", Label("e2e", labelCluster), func() {
	It("is refused by kubectl apply with the field named, and nothing reaches the services", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-bad-input")
		// One read of our own, so that the request counters exist even when this spec runs
		// first: a Prometheus series appears only with its first request.
		getJSON(ctx, "inventory", "/v1/products/E2E-BAD-1", &map[string]any{})
		var before map[string]float64
		Eventually(ctx, func(g Gomega) { // a late request of an earlier spec may still be finishing
			first := requestCounts(ctx)
			time.Sleep(time.Second)
			before = requestCounts(ctx)
			g.Expect(before).To(Equal(first))
		}).WithTimeout(time.Minute).Should(Succeed())
		Expect(before).NotTo(BeEmpty(), "the services count their requests")

		for _, bad := range badInputs {
			obj := sagaManifest(saga("bad", "E2E-BAD-1", 1, "10.00"))
			bad.mutate(obj["spec"].(map[string]any))
			out, errOut, err := applyYAML(ctx, ns, toYAML(obj))
			Expect(err).To(HaveOccurred(), "%s: kubectl apply accepted it:\n%s", bad.what, out)
			Expect(errOut).To(ContainSubstring(bad.field), "%s: kubectl's error names the field", bad.what)
			GinkgoWriter.Printf("%-32s -> %s\n", bad.what, lineWith(errOut, bad.field))
		}

		By("changing an immutable field of a suspended saga, which makes no call")
		held := saga("held", "E2E-BAD-1", 1, "10.00")
		held.suspend = true
		applySagas(ctx, ns, held)
		_, errOut, err := kubectl(ctx, "patch", "osaga", "held", "-n", ns, "--type=merge",
			"-p", `{"spec":{"items":[{"productId":"E2E-BAD-1","quantity":2,"unitPrice":"10.00"}]}}`)
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.items"))
		Expect(errOut).To(ContainSubstring("immutable"))
		changed := held
		changed.customer = "someone-else"
		_, errOut, err = applyYAML(ctx, ns, sagasYAML(changed))
		Expect(err).To(HaveOccurred())
		Expect(errOut).To(ContainSubstring("spec.customerId"))

		Expect(requestCounts(ctx)).To(Equal(before), "no request reached a service")
		Expect(kubectlOK(ctx, "get", "osaga", "-n", ns, "-o", "name")).To(Equal("ordersaga.saga.ordersaga.io/held\n"))

		By("deleting the held saga, which goes away after its (no-op) rollback")
		kubectlOK(ctx, "delete", "osaga", "held", "-n", ns, "--timeout=60s")
	}, SpecTimeout(3*time.Minute))
})

// lineWith returns the first line of s that contains sub.
func lineWith(s, sub string) string {
	for l := range strings.Lines(s) {
		if strings.Contains(l, sub) {
			return strings.TrimSpace(l)
		}
	}
	return ""
}
