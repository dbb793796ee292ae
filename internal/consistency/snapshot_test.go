package consistency

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMoney(t *testing.T) {
	cases := map[string]struct {
		reason  string
		in      string
		want    Money
		wantErr bool
	}{
		"TwoDecimals":   {reason: "The services write two decimals.", in: "1999.98", want: 199998},
		"OneDecimal":    {reason: "One decimal is tenths.", in: "699.9", want: 69990},
		"Whole":         {reason: "No decimals is whole units.", in: "5", want: 500},
		"Negative":      {reason: "A corrupt negative amount is read, so that it can be reported.", in: "-1.05", want: -105},
		"ThreeDecimals": {reason: "Sub-cent amounts do not exist.", in: "1.005", wantErr: true},
		"Empty":         {reason: "Nothing is not zero.", in: "", wantErr: true},
		"DotOnly":       {reason: "A dot needs digits after it.", in: "1.", wantErr: true},
		"DoubleSign":    {reason: "One sign at most.", in: "--1", wantErr: true},
		"Float":         {reason: "Exponents are floats, refused.", in: "1e3", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseMoney(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("\nReason: %s\nParseMoney(%q) error = %v, want error %v", tc.reason, tc.in, err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\nReason: %s\nParseMoney(%q): -want, +got:\n%s", tc.reason, tc.in, diff)
			}
		})
	}
}

// TestServiceJSONDecodes checks that list items as the services write them decode into
// the snapshot types, money included.
func TestServiceJSONDecodes(t *testing.T) {
	page := `{"items":[{"paymentId":"pay-1","orderId":"ord-1","customerId":"c-1","status":"REFUNDED","amount":"10.50",
		"currency":"USD","method":"CREDIT_CARD","refundedAmount":"10.50","createdAt":"2026-11-28T12:00:00Z","updatedAt":"2026-11-28T12:00:00Z"}],
		"nextPageToken":"abc"}`
	var got struct {
		Items         []Payment `json:"items"`
		NextPageToken string    `json:"nextPageToken"`
	}
	if err := json.Unmarshal([]byte(page), &got); err != nil {
		t.Fatalf("decode: %v", err)
	}
	want := []Payment{{PaymentID: "pay-1", OrderID: "ord-1", Status: PaymentRefunded, Amount: 1050, RefundedAmount: 1050, Currency: "USD"}}
	if diff := cmp.Diff(want, got.Items); diff != "" {
		t.Errorf("decoded payments: -want, +got:\n%s", diff)
	}
	b, err := json.Marshal(Money(-5))
	if err != nil || string(b) != `"-0.05"` {
		t.Errorf("json.Marshal(Money(-5)) = %s, %v; want \"-0.05\"", b, err)
	}
}

// TestCheckerIsPure: the checker makes no calls, so it builds without an HTTP or
// Kubernetes client (the collect sub-package does the I/O).
func TestCheckerIsPure(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH")
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-deps", "-f", "{{.ImportPath}}", "github.com/ordersaga/ordersaga/internal/consistency")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for pkg := range strings.FieldsSeq(string(out)) {
		for _, forbidden := range []string{"k8s.io/client-go", "sigs.k8s.io/controller-runtime", "github.com/ordersaga/ordersaga/internal/stepclient"} {
			if pkg == forbidden || strings.HasPrefix(pkg, forbidden+"/") {
				t.Errorf("the checker depends on %s", pkg)
			}
		}
	}
}
