package chart_test

import (
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
		"UnknownStoreEngine":        {values: "mongodb:\n  engine: postgres\n", want: "/mongodb/engine"},
		"UnknownFerretDBLogLevel":   {values: "mongodb:\n  ferretdb:\n    logLevel: loud\n", want: "/mongodb/ferretdb/logLevel"},
		"TestsSwitchString":         {values: "tests:\n  enabled: \"no\"\n", want: "/tests/enabled"},
		"GatewaySwitchString":       {values: "gateway:\n  enabled: \"yes\"\n", want: "/gateway/enabled"},
		"GatewayPortNotANumber":     {values: "gateway:\n  service:\n    port: http\n", want: "/gateway/service/port"},
		"GatewayExtraArgNotAFlag":   {values: "gateway:\n  extraArgs: [insecure-no-auth]\n", want: "/gateway/extraArgs"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := templateValues(t, tc.values)
			if r.err == nil {
				t.Fatalf("helm template accepted\n%s", tc.values)
			}
			if !strings.Contains(r.stderr, "schema") || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("helm template failed, but not on the schema at %q:\n%s", tc.want, r.stderr)
			}
		})
	}
}

// TestFerretDBRefusesUnsafeValues checks that with mongodb.engine=ferretdb the chart refuses
// what FerretDB cannot do safely (a replica set, several inventory replicas or another
// inventory write serialization, since its conditional updates are not atomic; a password,
// since it has no authentication), with a message that names the value to change.
func TestFerretDBRefusesUnsafeValues(t *testing.T) {
	t.Parallel()
	const ferret = "mongodb:\n  engine: ferretdb\n"
	cases := map[string]struct {
		values string
		want   string // in helm's error, besides mongodb.engine=ferretdb
	}{
		"ReplicaSet":        {values: "mongodb:\n  engine: ferretdb\n  replicaSet:\n    enabled: true\n", want: "mongodb.replicaSet.enabled=true"},
		"InventoryReplicas": {values: ferret + "services:\n  inventory:\n    replicas: 2\n", want: "services.inventory.replicas=2"},
		"InventoryWriteSerialization": {
			values: ferret + "services:\n  inventory:\n    extraEnv:\n      - name: INVENTORY_WRITE_SERIALIZATION\n        value: none\n",
			want:   "services.inventory.extraEnv sets INVENTORY_WRITE_SERIALIZATION",
		},
		"RootPassword":   {values: "mongodb:\n  engine: ferretdb\n  auth:\n    rootPassword: s3cret\n", want: "mongodb.auth.rootPassword"},
		"ExistingSecret": {values: "mongodb:\n  engine: ferretdb\n  auth:\n    existingSecret: shop-mongodb\n", want: "mongodb.auth.existingSecret"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := templateValues(t, tc.values)
			if r.err == nil {
				t.Fatalf("helm template accepted\n%s", tc.values)
			}
			if !strings.Contains(r.stderr, tc.want) || !strings.Contains(r.stderr, "mongodb.engine=ferretdb") {
				t.Errorf("helm template failed, but its message does not name %q and mongodb.engine=ferretdb:\n%s", tc.want, r.stderr)
			}
		})
	}
	t.Run("OneInventoryReplicaIsAccepted", func(t *testing.T) {
		t.Parallel()
		if r := templateValues(t, ferret+"services:\n  inventory:\n    replicas: 1\n"); r.err != nil {
			t.Errorf("helm template refused one inventory replica with FerretDB: %v\n%s", r.err, r.stderr)
		}
	})
}
