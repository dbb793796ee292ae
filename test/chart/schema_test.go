package chart_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSchemaRefusesWrongValues checks that values.schema.json makes `helm template` fail
// on values of the wrong type or outside their set, naming the offending key.
func TestSchemaRefusesWrongValues(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		values string
		want   string // in helm's error
	}{
		"ReplicasNotANumber":        {values: "operator:\n  replicas: \"two\"\n", want: "/operator/replicas"},
		"ServiceReplicasNotANumber": {values: "services:\n  payment:\n    replicas: \"two\"\n", want: "/services/payment/replicas"},
		"UnknownRBACScope":          {values: "rbac:\n  scope: everywhere\n", want: "/rbac/scope"},
		"MisspeltKey":               {values: "operator:\n  replica: 2\n", want: "replica"},
		"DeclineAboveNotADecimal":   {values: "services:\n  payment:\n    declineAbove: 5000\n", want: "/services/payment/declineAbove"},
		"UnknownPaymentMethod":      {values: "services:\n  payment:\n    declinedMethods: [CASH]\n", want: "/services/payment/declinedMethods"},
		"FaultRateAboveOne":         {values: "services:\n  faults:\n    errorRate: 2\n", want: "/services/faults/errorRate"},
		"NetworkPolicySwitchString": {values: "networkPolicy:\n  enabled: \"yes\"\n", want: "/networkPolicy/enabled"},
		"VolumeSizeNotAQuantity":    {values: "mongodb:\n  persistence:\n    size: lots\n", want: "/mongodb/persistence/size"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "values.yaml")
			if err := os.WriteFile(file, []byte(tc.values), 0o600); err != nil {
				t.Fatal(err)
			}
			r := run(t, helmEnv(t), tool(t, "helm"), "template", "schema-check", chartDir, "--values", file)
			if r.err == nil {
				t.Fatalf("helm template accepted\n%s", tc.values)
			}
			if !strings.Contains(r.stderr, "schema") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("helm template failed, but not on the schema at %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}
