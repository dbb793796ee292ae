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

package controllers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	sagav1alpha1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
)

// These specs check the API contract of the design's section 3 against the real API
// server: what it accepts, what it refuses (naming the field), what it defaults, and how
// the installed CRD presents itself. No manager runs.
var _ = Describe("OrderSaga API", func() {
	var ns string

	BeforeEach(func() {
		ns = newNamespace()
	})

	It("accepts every sample in config/samples", func() {
		samples := readSamples(filepath.Join("..", "config", "samples"))
		Expect(samples).NotTo(BeEmpty())
		for _, s := range samples {
			s.SetNamespace(ns)
			err := k8sClient.Create(ctx, s, client.FieldValidation(metav1.FieldValidationStrict))
			Expect(err).NotTo(HaveOccurred(), "sample %s", s.GetName())
		}
	})

	It("accepts `kubectl apply -f config/samples/`, the command the README gives", func() {
		dir := filepath.Join("..", "config", "samples")
		user, err := testEnv.AddUser(envtest.User{Name: "samples", Groups: []string{"system:masters"}}, nil)
		Expect(err).NotTo(HaveOccurred())
		kubectl, err := user.Kubectl()
		Expect(err).NotTo(HaveOccurred())
		stdout, stderr, err := kubectl.Run("apply", "--dry-run=server", "-n", ns, "-f", dir)
		out, _ := io.ReadAll(stdout)
		errOut, _ := io.ReadAll(stderr)
		Expect(err).NotTo(HaveOccurred(), "stdout:\n%s\nstderr:\n%s", out, errOut)
		Expect(strings.Count(string(out), "created (server dry run)")).To(Equal(len(readSamples(dir))), "stdout:\n%s", out)
	})

	DescribeTable("refuses an invalid OrderSaga with a message naming the field",
		func(mutate specMutation, field string) {
			saga := testgen.OrderSagaUnstructured("invalid", testgen.WithNamespace(ns))
			mutate(saga.Object["spec"].(map[string]any))

			err := k8sClient.Create(ctx, saga)
			Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got: %v", err)
			Expect(err.Error()).To(ContainSubstring(field))
		},
		Entry("empty customerId", setField("customerId", ""), "spec.customerId"),
		Entry("customerId of 65 characters", setField("customerId", strings.Repeat("c", 65)), "spec.customerId"),
		Entry("missing customerId", deleteField("customerId"), "spec.customerId"),
		Entry("customerId with a tab (the services refuse control characters)", setField("customerId", "cust\t1"), "spec.customerId"),
		Entry("no items", setField("items", []any{}), "spec.items"),
		Entry("51 items", setField("items", rawItems(51)), "spec.items"),
		Entry("item without productId", deleteItemField(0, "productId"), "spec.items[0].productId"),
		Entry("productId with a space", setItemField(0, "productId", "LAP 001"), "spec.items[0].productId"),
		Entry("duplicate productId", setField("items", []any{rawItem("LAP-001", 1), rawItem("LAP-001", 2)}), "spec.items[1]"),
		Entry("quantity 0", setItemField(0, "quantity", int64(0)), "spec.items[0].quantity"),
		Entry("quantity -1", setItemField(0, "quantity", int64(-1)), "spec.items[0].quantity"),
		Entry("quantity 1001", setItemField(0, "quantity", int64(1001)), "spec.items[0].quantity"),
		Entry(`quantity "abc"`, setItemField(0, "quantity", "abc"), "spec.items[0].quantity"),
		Entry("quantity 0 on the second item",
			setField("items", []any{rawItem("LAP-001", 1), rawItem("PHN-001", 0)}), "spec.items[1].quantity"),
		Entry(`unitPrice "-1"`, setItemField(0, "unitPrice", "-1"), "spec.items[0].unitPrice"),
		Entry(`unitPrice "0"`, setItemField(0, "unitPrice", "0"), "spec.items[0].unitPrice"),
		Entry(`unitPrice "0.00"`, setItemField(0, "unitPrice", "0.00"), "spec.items[0].unitPrice"),
		Entry(`unitPrice "abc"`, setItemField(0, "unitPrice", "abc"), "spec.items[0].unitPrice"),
		Entry(`unitPrice "1.999"`, setItemField(0, "unitPrice", "1.999"), "spec.items[0].unitPrice"),
		Entry(`unitPrice ""`, setItemField(0, "unitPrice", ""), "spec.items[0].unitPrice"),
		Entry("unitPrice as a JSON number", setItemField(0, "unitPrice", 999.99), "spec.items[0].unitPrice"),
		Entry("missing unitPrice", deleteItemField(0, "unitPrice"), "spec.items[0].unitPrice"),
		Entry(`currency "usd"`, setField("currency", "usd"), "spec.currency"),
		Entry(`currency "EURO"`, setField("currency", "EURO"), "spec.currency"),
		Entry(`paymentMethod "INVALID_METHOD"`, setField("paymentMethod", "INVALID_METHOD"), "spec.paymentMethod"),
		Entry("missing paymentMethod", deleteField("paymentMethod"), "spec.paymentMethod"),
		Entry("missing shipping", deleteField("shipping"), "spec.shipping"),
		Entry("empty shipping.address", setField("shipping.address", map[string]any{}), "spec.shipping.address.country"),
		Entry("missing country", deleteField("shipping.address.country"), "spec.shipping.address.country"),
		Entry(`country "USA"`, setField("shipping.address.country", "USA"), "spec.shipping.address.country"),
		Entry(`country "gb"`, setField("shipping.address.country", "gb"), "spec.shipping.address.country"),
		Entry("line1 with a newline", setField("shipping.address.line1", "12 Example Street\nFlat 3"), "spec.shipping.address.line1"),
		Entry("postalCode with DEL", setField("shipping.address.postalCode", "N1\x7f9GU"), "spec.shipping.address.postalCode"),
		Entry(`shipping method "TELEPORT"`, setField("shipping.method", "TELEPORT"), "spec.shipping.method"),
		Entry(`stepTimeout "abc"`, setField("stepTimeout", "abc"), "spec.stepTimeout"),
		Entry(`stepTimeout "1ms"`, setField("stepTimeout", "1ms"), "spec.stepTimeout"),
		Entry(`stepTimeout "10m"`, setField("stepTimeout", "10m"), "spec.stepTimeout"),
		Entry("retryPolicy.maxAttempts 0",
			setField("retryPolicy", map[string]any{"maxAttempts": int64(0)}), "spec.retryPolicy.maxAttempts"),
		Entry("initialBackoff above maxBackoff",
			setField("retryPolicy", map[string]any{"initialBackoff": "2m", "maxBackoff": "1m"}),
			"spec.retryPolicy.initialBackoff"),
		Entry(`maxBackoff "2h"`, setField("retryPolicy", map[string]any{"maxBackoff": "2h"}), "spec.retryPolicy.maxBackoff"),
		Entry("ttlSecondsAfterFinished -1", setField("ttlSecondsAfterFinished", int64(-1)), "spec.ttlSecondsAfterFinished"),
	)

	Context("after creation", func() {
		var saga *sagav1alpha1.OrderSaga

		BeforeEach(func() {
			saga = testgen.OrderSaga("order-immutable", testgen.WithNamespace(ns))
			Expect(k8sClient.Create(ctx, saga)).To(Succeed())
		})

		DescribeTable("refuses a change to an immutable field, naming it",
			func(patch, field string) {
				err := k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))
				Expect(apierrors.IsInvalid(err)).To(BeTrue(), "want Invalid, got: %v", err)
				Expect(err.Error()).To(ContainSubstring(field + ": Invalid value"))
				Expect(err.Error()).To(ContainSubstring("is immutable"))
			},
			Entry("items", `{"spec":{"items":[{"productId":"LAP-001","quantity":2,"unitPrice":"999.99"}]}}`, "spec.items"),
			Entry("customerId", `{"spec":{"customerId":"cust-0002"}}`, "spec.customerId"),
			Entry("currency", `{"spec":{"currency":"EUR"}}`, "spec.currency"),
			Entry("paymentMethod", `{"spec":{"paymentMethod":"PAYPAL"}}`, "spec.paymentMethod"),
			Entry("shipping.address.city", `{"spec":{"shipping":{"address":{"city":"Paris"}}}}`, "spec.shipping"),
			Entry("retryPolicy.maxAttempts", `{"spec":{"retryPolicy":{"maxAttempts":3}}}`, "spec.retryPolicy"),
			Entry("stepTimeout", `{"spec":{"stepTimeout":"30s"}}`, "spec.stepTimeout"),
		)

		It("accepts changes to suspend and ttlSecondsAfterFinished", func() {
			patch := `{"spec":{"suspend":true,"ttlSecondsAfterFinished":300}}`
			Expect(k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
			Expect(saga.Spec.Suspend).To(BeTrue())
			Expect(saga.Spec.TTLSecondsAfterFinished).To(HaveValue(BeEquivalentTo(300)))

			patch = `{"spec":{"suspend":false,"ttlSecondsAfterFinished":null}}`
			Expect(k8sClient.Patch(ctx, saga, client.RawPatch(types.MergePatchType, []byte(patch)))).To(Succeed())
			Expect(saga.Spec.Suspend).To(BeFalse())
			Expect(saga.Spec.TTLSecondsAfterFinished).To(BeNil())
		})

		It("accepts a typed read-modify-write of suspend (durations re-serialised by Go)", func() {
			// The controller may write the object meanwhile: retry on conflict, as clients do.
			Expect(retry.RetryOnConflict(retry.DefaultRetry, func() error {
				got := &sagav1alpha1.OrderSaga{}
				if err := k8sClient.Get(ctx, client.ObjectKeyFromObject(saga), got); err != nil {
					return err //nolint:wrapcheck // RetryOnConflict matches the API status error itself
				}
				got.Spec.Suspend = true
				return k8sClient.Update(ctx, got)
			})).To(Succeed())
		})

		It("applies the defaults", func() {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(sagav1alpha1.GroupVersion.WithKind("OrderSaga"))
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(saga), got)).To(Succeed())
			spec := got.Object["spec"].(map[string]any)
			Expect(spec).To(HaveKeyWithValue("currency", "USD"))
			Expect(spec).To(HaveKeyWithValue("stepTimeout", "10s"))
			Expect(spec["shipping"]).To(HaveKeyWithValue("method", "STANDARD"))
			Expect(spec["retryPolicy"]).To(Equal(map[string]any{
				"maxAttempts": int64(5), "initialBackoff": "1s", "maxBackoff": "1m",
			}))

			typed := &sagav1alpha1.OrderSaga{}
			Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(saga), typed)).To(Succeed())
			Expect(typed.Spec.RetryPolicy.InitialBackoff.Duration).To(Equal(time.Second))
			Expect(typed.Spec.RetryPolicy.MaxBackoff.Duration).To(Equal(time.Minute))
			Expect(typed.Spec.StepTimeout.Duration).To(Equal(10 * time.Second))
		})
	})

	It("installs the CRD with the contract's names, columns and status subresource", func() {
		crds, err := apiextensionsclient.NewForConfig(cfg)
		Expect(err).NotTo(HaveOccurred())
		crd, err := crds.ApiextensionsV1().CustomResourceDefinitions().
			Get(ctx, "ordersagas.saga.ordersaga.io", metav1.GetOptions{})
		Expect(err).NotTo(HaveOccurred())

		Expect(crd.Spec.Scope).To(Equal(apiextensionsv1.NamespaceScoped))
		Expect(crd.Spec.Names.Plural).To(Equal("ordersagas"))
		Expect(crd.Spec.Names.ShortNames).To(ConsistOf("osaga"))
		Expect(crd.Spec.Names.Categories).To(ConsistOf("sagas"))
		Expect(crd.Spec.Versions).To(HaveLen(1))
		version := crd.Spec.Versions[0]
		Expect(version.Name).To(Equal("v1alpha1"))
		Expect(version.Subresources).NotTo(BeNil())
		Expect(version.Subresources.Status).NotTo(BeNil())

		type column struct {
			Name, JSONPath, Type string
			Priority             int32
		}
		columns := make([]column, 0, len(version.AdditionalPrinterColumns))
		for _, c := range version.AdditionalPrinterColumns {
			columns = append(columns, column{Name: c.Name, JSONPath: c.JSONPath, Type: c.Type, Priority: c.Priority})
		}
		Expect(columns).To(Equal([]column{
			{"Phase", ".status.phase", "string", 0},
			{"Step", ".status.currentStep", "string", 0},
			{"Order", ".status.orderId", "string", 0},
			{"Total", ".status.total", "string", 0},
			{"Age", ".metadata.creationTimestamp", "date", 0},
			{"Customer", ".spec.customerId", "string", 1},
			{"Attempts", ".status.attempts", "integer", 1},
			{"Message", ".status.message", "string", 1},
		}))
	})
})

// specMutation changes the spec of a valid saga, in its unstructured form, into an invalid one.
type specMutation func(spec map[string]any)

// setField sets the spec field at a dot-separated path, creating intermediate maps.
func setField(path string, value any) specMutation {
	return func(spec map[string]any) {
		parent, key := parentOf(spec, path)
		parent[key] = value
	}
}

// deleteField removes the spec field at a dot-separated path.
func deleteField(path string) specMutation {
	return func(spec map[string]any) {
		parent, key := parentOf(spec, path)
		delete(parent, key)
	}
}

// setItemField sets one field of spec.items[i].
//
//nolint:unparam // the index says which item a case breaks, though every case today breaks the first
func setItemField(i int, field string, value any) specMutation {
	return func(spec map[string]any) { spec["items"].([]any)[i].(map[string]any)[field] = value }
}

// deleteItemField removes one field of spec.items[i].
func deleteItemField(i int, field string) specMutation {
	return func(spec map[string]any) { delete(spec["items"].([]any)[i].(map[string]any), field) }
}

// parentOf returns the map that holds the last element of path, and that element.
func parentOf(m map[string]any, path string) (map[string]any, string) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	return m, keys[len(keys)-1]
}

// rawItem returns a valid order line in unstructured form.
func rawItem(productID string, quantity int64) map[string]any {
	return map[string]any{"productId": productID, "quantity": quantity, "unitPrice": "10.00"}
}

// rawItems returns n valid order lines with distinct product IDs.
func rawItems(n int) []any {
	items := make([]any, 0, n)
	for i := range n {
		items = append(items, rawItem(fmt.Sprintf("SKU-%03d", i), 1))
	}
	return items
}

// readSamples decodes every object of every *.yaml file in dir except a kustomization.yaml
// (the samples' own kustomization is named Kustomization, which the glob does not match).
func readSamples(dir string) []*unstructured.Unstructured {
	GinkgoHelper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	Expect(err).NotTo(HaveOccurred())
	var objs []*unstructured.Unstructured
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		Expect(err).NotTo(HaveOccurred())
		dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
		for {
			u := &unstructured.Unstructured{}
			err := dec.Decode(&u.Object)
			if errors.Is(err, io.EOF) {
				break
			}
			Expect(err).NotTo(HaveOccurred(), "decode %s", f)
			if len(u.Object) == 0 {
				continue
			}
			Expect(u.GetKind()).To(BeElementOf("OrderSaga", "SagaDefinition", "Saga"), "kind in %s", f)
			objs = append(objs, u)
		}
	}
	return objs
}
