/*
Copyright 2026 The OrderSaga Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package v1alpha1_test

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"

	"github.com/ordersaga/ordersaga/internal/limits"
)

// crdPath is the CRD that controller-gen generates from this package's markers; make
// verify-generated keeps it in step with them.
const crdPath = "../../config/crd/bases/saga.ordersaga.io_ordersagas.yaml"

// specSchema returns the OpenAPI schema of OrderSaga.spec as the API server enforces it.
func specSchema(t *testing.T) apiextensionsv1.JSONSchemaProps {
	t.Helper()
	raw, err := os.ReadFile(filepath.FromSlash(crdPath))
	if err != nil {
		t.Fatalf("read the generated CRD: %v", err)
	}
	var crd apiextensionsv1.CustomResourceDefinition
	if err := yaml.UnmarshalStrict(raw, &crd); err != nil {
		t.Fatalf("decode %s: %v", crdPath, err)
	}
	if len(crd.Spec.Versions) != 1 || crd.Spec.Versions[0].Schema == nil {
		t.Fatalf("%s: want one version with a schema, got %d versions", crdPath, len(crd.Spec.Versions))
	}
	return crd.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
}

// bound is the limits of one field as the CRD states them; nil where the CRD has none.
type bound struct {
	MinLength, MaxLength, MinItems, MaxItems *int64
	Minimum, Maximum                         *float64
	Pattern                                  string
}

func boundOf(s apiextensionsv1.JSONSchemaProps) bound {
	return bound{MinLength: s.MinLength, MaxLength: s.MaxLength, MinItems: s.MinItems, MaxItems: s.MaxItems,
		Minimum: s.Minimum, Maximum: s.Maximum, Pattern: s.Pattern}
}

func n(v int64) *int64 { return new(v) }

func f(v int64) *float64 { x := float64(v); return &x }

// TestCRDMarkersMatchSharedLimits holds the CRD's kubebuilder markers, which are literals,
// to the shared constants that the services validate with: a marker changed alone fails
// here instead of letting the CRD admit a spec that a service refuses.
func TestCRDMarkersMatchSharedLimits(t *testing.T) {
	spec := specSchema(t)
	item := spec.Properties["items"].Items.Schema.Properties
	addr := spec.Properties["shipping"].Properties["address"].Properties
	cases := map[string]struct {
		got  apiextensionsv1.JSONSchemaProps
		want bound
	}{
		"customerId": {spec.Properties["customerId"], bound{MinLength: n(1), MaxLength: n(limits.MaxCustomerIDLen), Pattern: limits.PrintablePattern}},
		"currency":   {spec.Properties["currency"], bound{Pattern: limits.CurrencyPattern}},
		"items":      {spec.Properties["items"], bound{MinItems: n(limits.MinItems), MaxItems: n(limits.MaxItems)}},
		// The pattern of productId is the CRD's own: the services accept any printable ID.
		"items[].productId": {item["productId"], bound{MinLength: n(1), MaxLength: n(limits.MaxProductIDLen),
			Pattern: item["productId"].Pattern}},
		"items[].quantity": {item["quantity"], bound{Minimum: f(limits.MinQuantity), Maximum: f(limits.MaxQuantity)}},
		// The maxLength of unitPrice only bounds CEL's cost estimate; the pattern binds.
		"items[].unitPrice": {item["unitPrice"], bound{MaxLength: item["unitPrice"].MaxLength,
			Pattern: limits.UnitPricePattern}},
		"shipping.address.name":       {addr["name"], bound{MinLength: n(1), MaxLength: n(limits.MaxAddressNameLen), Pattern: limits.PrintablePattern}},
		"shipping.address.line1":      {addr["line1"], bound{MinLength: n(1), MaxLength: n(limits.MaxAddressLine1Len), Pattern: limits.PrintablePattern}},
		"shipping.address.line2":      {addr["line2"], bound{MaxLength: n(limits.MaxAddressLine2Len), Pattern: limits.PrintablePattern}},
		"shipping.address.city":       {addr["city"], bound{MinLength: n(1), MaxLength: n(limits.MaxAddressCityLen), Pattern: limits.PrintablePattern}},
		"shipping.address.region":     {addr["region"], bound{MaxLength: n(limits.MaxAddressRegionLen), Pattern: limits.PrintablePattern}},
		"shipping.address.postalCode": {addr["postalCode"], bound{MinLength: n(1), MaxLength: n(limits.MaxAddressPostalCodeLen), Pattern: limits.PrintablePattern}},
		"shipping.address.country":    {addr["country"], bound{Pattern: limits.CountryPattern}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, boundOf(tc.got)); diff != "" {
				t.Errorf("the CRD's markers of spec.%s differ from package limits: -limits, +CRD:\n%s", name, diff)
			}
		})
	}
}

// TestUnitPriceMaxLengthAdmitsLargestPrice checks that unitPrice's maxLength, which bounds
// CEL's cost estimate, never cuts a price that the pattern admits.
func TestUnitPriceMaxLengthAdmitsLargestPrice(t *testing.T) {
	price := specSchema(t).Properties["items"].Items.Schema.Properties["unitPrice"]
	largest := fmt.Sprintf("%d.%02d", limits.MaxUnitPrice/100, limits.MaxUnitPrice%100)
	if price.MaxLength == nil || *price.MaxLength < int64(len(largest)) {
		t.Errorf("unitPrice maxLength %v cuts %q, which the pattern admits", price.MaxLength, largest)
	}
}
