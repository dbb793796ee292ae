package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ordersaga/ordersaga/internal/consistency"
)

// fakeServices serves the five list endpoints from fixed items (any path not given is an
// empty list), on one server, as a stand-in for the services that check reads.
func fakeServices(t *testing.T, lists map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		items, ok := lists[r.URL.Path]
		if !ok {
			items = "[]"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":` + items + `}`))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// urlFlags points every service at base.
func urlFlags(base string) []string {
	services := []string{"order", "inventory", "payment", "shipping", "notification"}
	out := make([]string, 0, 2*len(services))
	for _, svc := range services {
		out = append(out, "--"+svc+"-url", base)
	}
	return out
}

const (
	negativeStock = `[{"productId":"LAP-001","name":"Laptop","price":"999.99","stock":-1}]`
	// confirmedOrder is a saga-less CONFIRMED order, paid, reserved and shipped, whose
	// customer was not told: a warning only.
	confirmedOrder = `[{"orderId":"ord-1","customerId":"c-1","status":"CONFIRMED","currency":"USD","total":"10.00",
		"createdAt":"2020-11-28T12:00:00Z","updatedAt":"2020-11-28T12:00:00Z"}]`
	capturedPayment = `[{"paymentId":"pay-1","orderId":"ord-1","status":"CAPTURED","amount":"10.00","refundedAmount":"0.00","currency":"USD"}]`
	reserved        = `[{"reservationId":"res-1","orderId":"ord-1","status":"RESERVED"}]`
	scheduled       = `[{"shipmentId":"shp-1","orderId":"ord-1","status":"SCHEDULED"}]`
)

func TestCheck(t *testing.T) {
	ns := newNamespace(t)
	clean := fakeServices(t, nil)
	critical := fakeServices(t, map[string]string{"/v1/products": negativeStock})
	warning := fakeServices(t, map[string]string{"/v1/orders": confirmedOrder, "/v1/payments": capturedPayment,
		"/v1/reservations": reserved, "/v1/shipments": scheduled})
	down := httptest.NewServer(http.NotFoundHandler())
	down.Close()
	elsewhere := newNamespace(t) // a Completed saga whose order no service has: ORPHANED_SAGA, for -A to find
	createSaga(t, elsewhere, "elsewhere", time.Now(), script("ord-elsewhere", nil))
	checked := "Checked 0 sagas (namespace " + ns + "), 0 orders, 0 products, 0 reservations, 0 payments, 0 shipments, 0 notifications.\n"
	cases := map[string]struct {
		reason     string
		args       []string
		env        map[string]string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		"Clean": {reason: "Nothing wrong: exit 0.", args: urlFlags(clean), wantCode: 0,
			wantStdout: "No inconsistencies found.\n" + checked},
		"Critical": {reason: "A critical finding: exit 1, the table and the summary.", args: urlFlags(critical), wantCode: 1,
			wantStdout: "RULE            SEVERITY  OBJECT           MESSAGE\n" +
				"NEGATIVE_STOCK  critical  product/LAP-001  product LAP-001 (Laptop) has -1 units available\n\n" +
				"1 finding: 1 critical, 0 warning, 0 info.\nBy rule: NEGATIVE_STOCK 1.\n" +
				strings.Replace(checked, "0 products", "1 product", 1)},
		"WarningOnly": {reason: "Warnings do not fail the check.", args: urlFlags(warning), wantCode: 0,
			wantStdout: "MISSING_ORDER_CONFIRMATION  warning   order/ord-1"},
		"URLsFromEnvironment": {reason: "ORDER_URL ... NOTIFICATION_URL stand in for the flags.", wantCode: 1,
			env: map[string]string{"ORDER_URL": critical, "INVENTORY_URL": critical, "PAYMENT_URL": critical,
				"SHIPPING_URL": critical, "NOTIFICATION_URL": critical},
			wantStdout: "NEGATIVE_STOCK"},
		"FlagBeatsEnvironment": {reason: "A flag wins over its variable.", args: urlFlags(clean), wantCode: 0,
			env: map[string]string{"INVENTORY_URL": critical}, wantStdout: "No inconsistencies found."},
		"AllNamespaces": {reason: "-A reads the sagas of every namespace.", args: append(urlFlags(clean), "-A"), wantCode: 1,
			wantStdout: "saga " + elsewhere + "/elsewhere is Completed and created order ord-elsewhere, which the order service does not have"},
		"ServiceDown": {reason: "A service that does not answer is a connection error: exit 2, naming it.",
			args: append(urlFlags(clean), "--payment-url", down.URL), wantCode: 2,
			wantStderr: "sagactl: collect the data to check: payment service: GET " + down.URL + "/v1/payments?limit=200: no answer"},
		"DefaultURLsAreInClusterNames": {reason: "Without flags or variables, services are found by their in-cluster DNS names.",
			args: []string{"--services-namespace", "shop", "--request-timeout", "2s"}, wantCode: 2,
			wantStderr: "order service: GET http://order.shop.svc.cluster.local:8080/v1/orders?limit=200"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"check", "--kubeconfig", kubeconfig}, tc.args...)
			if !slices.Contains(args, "-A") {
				args = append(args, "-n", ns)
			}
			got := invocation{env: tc.env}.run(t, args...)
			if got.code != tc.wantCode || !strings.Contains(got.stdout, tc.wantStdout) || !strings.Contains(got.stderr, tc.wantStderr) {
				t.Errorf("\nReason: %s\nsagactl %v = %d\nstdout:\n%s\nstderr: %s\nwant %d, stdout with:\n%s\nstderr with %q",
					tc.reason, args, got.code, got.stdout, got.stderr, tc.wantCode, tc.wantStdout, tc.wantStderr)
			}
		})
	}
}

// TestCheckJSON: -o json is the report as a document, findings included; the namespace
// comes from the kubeconfig context when -n is not given.
func TestCheckJSON(t *testing.T) {
	ns := newNamespace(t)
	createSaga(t, ns, "stuck", time.Now().Add(-time.Hour), script("ord-stuck", nil)) // Completed: its order is missing
	got := invocation{}.run(t, append([]string{"check", "-o", "json", "--kubeconfig", kubeconfigWithNamespace(t, kubeconfig, ns)},
		urlFlags(fakeServices(t, map[string]string{"/v1/products": negativeStock}))...)...)
	if got.code != 1 {
		t.Fatalf("exit code = %d, want 1; stderr: %s", got.code, got.stderr)
	}
	var report checkReport
	if err := json.Unmarshal([]byte(got.stdout), &report); err != nil {
		t.Fatalf("decode %s: %v", got.stdout, err)
	}
	want := checkReport{
		Scope:   "namespace " + ns,
		Checked: checked{Sagas: 1, Products: 1},
		Summary: consistency.Counts{Critical: 5, Warning: 1},
		Findings: []consistency.Finding{
			critical(consistency.MissingPayment, "order/ord-stuck", "order ord-stuck must be paid (its saga "+ns+"/stuck is Completed) but has no payment"),
			critical(consistency.MissingReservation, "order/ord-stuck", "order ord-stuck must hold its stock (its saga "+ns+"/stuck is Completed) but has no RESERVED reservation"),
			critical(consistency.MissingShipment, "order/ord-stuck", "order ord-stuck must be shipped (its saga "+ns+"/stuck is Completed) but has no SCHEDULED shipment"),
			critical(consistency.NegativeStock, "product/LAP-001", "product LAP-001 (Laptop) has -1 units available"),
			critical(consistency.OrphanedSaga, "ordersaga/"+ns+"/stuck", "saga "+ns+"/stuck is Completed and created order ord-stuck, which the order service does not have"),
			{Rule: consistency.MissingOrderConfirmation, Severity: consistency.Warning, Object: "order/ord-stuck",
				Message: "order ord-stuck is confirmed (its saga " + ns + "/stuck is Completed) but the customer was never sent ORDER_CONFIRMED"},
		},
	}
	if diff := cmp.Diff(want, report); diff != "" {
		t.Errorf("report: -want, +got:\n%s", diff)
	}
}

func critical(rule, object, message string) consistency.Finding {
	return consistency.Finding{Rule: rule, Severity: consistency.Critical, Object: object, Message: message}
}
