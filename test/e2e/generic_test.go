package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-cmp/cmp"
	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/localstack"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// The order saga ships twice: built in, as the OrderSaga kind, and written as a
// SagaDefinition that generic Sagas run (config/samples). This spec runs the four sample
// orders both ways side by side and requires the same end: the same phases and reasons, and
// the same orders, stock, payments, reservations, shipments and notices in the services.
var _ = Describe("The order saga as a SagaDefinition", Label("e2e", labelCluster), func() {
	It("runs the sample orders as Sagas to the same end as the OrderSagas, and kubectl get sagas lists both", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-generic")
		for _, kind := range []string{"OrderSaga", "Saga"} {
			setProduct(ctx, runProduct(kind, "LAP-001"), "999.99", 50) // the seed catalog's stock
			setProduct(ctx, runProduct(kind, "PHN-001"), "699.99", 100)
		}
		applySample(ctx, ns, "saga_v1alpha1_sagadefinition_order_fulfilment.yaml")
		kubectlOK(ctx, "wait", "--for=condition=Ready", "sagadefinition/order-fulfilment", "-n", ns, "--timeout=30s")
		for _, outcome := range sampleOutcomes {
			applySample(ctx, ns, "saga_v1alpha1_ordersaga_"+outcome+".yaml")
			applySample(ctx, ns, "saga_v1alpha1_saga_"+outcome+".yaml")
		}
		for _, resource := range []string{"ordersagas.saga.ordersaga.io", "sagas.saga.ordersaga.io"} {
			kubectlOK(ctx, "wait", "--for=condition=Ready", resource, "--all", "-n", ns, "--timeout=90s")
		}

		table := kubectlOK(ctx, "get", "sagas", "-n", ns)
		GinkgoWriter.Printf("$ kubectl get sagas -n %s\n%s", ns, table)
		for _, name := range sampleNames {
			Expect(table).To(ContainSubstring("ordersaga.saga.ordersaga.io/"+name), "the category sagas lists the OrderSagas")
			Expect(table).To(ContainSubstring("saga.saga.ordersaga.io/"+name+" "), "the category sagas lists the Sagas")
		}

		orders, sagas := readOrderSagas(ctx, ns), readSagas(ctx, ns)
		Expect(orders).To(HaveLen(len(sampleNames)))
		Expect(sagas).To(HaveLen(len(sampleNames)))
		for _, name := range sampleNames {
			o, s := orders[name], sagas[name]
			want := localstack.SampleExpectations()[name] // as make demo expects the sample to end
			ended := endOf(o.Status.Phase, o.Status.Conditions, o.Status.Failure, string(o.UID))
			Expect([]any{ended.Phase, ended.Reason}).To(Equal([]any{want.Phase, want.Reason}), "%s: the OrderSaga's end", name)
			Expect(endOf(s.Status.Phase, s.Status.Conditions, s.Status.Failure, string(s.UID))).To(Equal(ended), "%s: how it ended", name)
			Expect(cmp.Diff(sagaEffects(ctx, "OrderSaga", string(o.UID)), sagaEffects(ctx, "Saga", string(s.UID)))).To(
				BeEmpty(), "%s: what it left in the services: -OrderSaga, +Saga", name)
		}
		for _, product := range []string{"LAP-001", "PHN-001"} {
			Expect(stockOf(ctx, runProduct("Saga", product))).To(Equal(stockOf(ctx, runProduct("OrderSaga", product))),
				"stock of %s after each run", product)
		}
		expectConsistent(ctx, append(mapValues(orders), asOrderSagas(sagas)...))
	}, SpecTimeout(4*time.Minute))
})

// The sample orders: config/samples/saga_v1alpha1_{ordersaga,saga}_<outcome>.yaml, named alike.
var (
	sampleOutcomes = []string{"completed", "out_of_stock", "payment_declined", "unsupported_destination"}
	sampleNames    = []string{"order-1001", "order-1002", "order-1003", "order-1004"}
)

// runProduct is the product a run of kind orders instead of the sample's, so that each run's
// stock is its own.
func runProduct(kind, product string) string {
	return "E2E-GEN-" + strings.ToUpper(kind) + "-" + product
}

// applySample applies a file of config/samples in ns, its orders' products replaced by the
// run's own.
func applySample(ctx context.Context, ns, file string) {
	GinkgoHelper()
	root, err := mongoserver.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	data, err := os.ReadFile(filepath.Join(root, "config", "samples", file))
	Expect(err).NotTo(HaveOccurred())
	obj := map[string]any{}
	Expect(yaml.Unmarshal(data, &obj)).To(Succeed(), file)
	kind, _ := obj["kind"].(string)
	spec, _ := obj["spec"].(map[string]any)
	order := spec
	if kind == "Saga" {
		order, _ = spec["input"].(map[string]any)
	}
	if items, ok := order["items"].([]any); ok && kind != "SagaDefinition" {
		for _, it := range items {
			line, _ := it.(map[string]any)
			line["productId"] = runProduct(kind, line["productId"].(string))
		}
	}
	out, errOut, err := applyYAML(ctx, ns, toYAML(obj))
	Expect(err).NotTo(HaveOccurred(), "kubectl apply %s\nstdout:\n%s\nstderr:\n%s", file, out, errOut)
}

// readOrderSagas and readSagas read the sagas of ns by name with kubectl.
func readOrderSagas(ctx context.Context, ns string) map[string]v1.OrderSaga {
	GinkgoHelper()
	out := map[string]v1.OrderSaga{}
	for _, s := range getSagas(ctx, ns) {
		out[s.Name] = s
	}
	return out
}

func readSagas(ctx context.Context, ns string) map[string]v1.Saga {
	GinkgoHelper()
	var list v1.SagaList
	Expect(json.Unmarshal([]byte(kubectlOK(ctx, "get", "sagas.saga.ordersaga.io", "-n", ns, "-o", "json")), &list)).To(Succeed())
	out := map[string]v1.Saga{}
	for _, s := range list.Items {
		out[s.Name] = s
	}
	return out
}

// end is how a saga ended: its phase, the Succeeded condition's reason, and the failure it
// rolled back for, with its UID written <uid>.
type end struct {
	Phase   v1.Phase
	Reason  string
	Failure v1.FailureStatus
}

func endOf(phase v1.Phase, conditions []metav1.Condition, failure *v1.FailureStatus, uid string) end {
	e := end{Phase: phase}
	if c := meta.FindStatusCondition(conditions, v1.ConditionSucceeded); c != nil {
		e.Reason = c.Reason
	}
	if failure != nil {
		e.Failure = *failure
		if uid != "" {
			e.Failure.Message = strings.ReplaceAll(e.Failure.Message, uid, "<uid>")
		}
	}
	return e
}

// leftInServices is what the services hold of one saga's order, with the IDs derived from its UID,
// the run's products, tracking numbers and timestamps written alike for every saga.
type leftInServices struct {
	Order                                            any
	Reservations, Payments, Shipments, Notifications []any
}

func sagaEffects(ctx context.Context, kind, uid string) leftInServices {
	GinkgoHelper()
	id := "ord-" + uid
	var o map[string]any
	if getJSON(ctx, "order", "/v1/orders/"+id, &o) != http.StatusOK {
		o = nil
	}
	e := leftInServices{
		Order:         o,
		Reservations:  byOrder[any](ctx, "inventory", "/v1/reservations", id),
		Payments:      byOrder[any](ctx, "payment", "/v1/payments", id),
		Shipments:     byOrder[any](ctx, "shipping", "/v1/shipments", id),
		Notifications: byOrder[any](ctx, "notification", "/v1/notifications", id),
	}
	// Tracking numbers first: they derive from the shipment's ID, which holds the UID.
	var alike []replacement
	for _, s := range e.Shipments {
		if tn, _ := s.(map[string]any)["trackingNumber"].(string); tn != "" {
			alike = append(alike, replacement{tn, "<tracking number>"})
		}
	}
	alike = append(alike, replacement{uid, "<uid>"}, replacement{runProduct(kind, ""), ""})
	e.Order = normalize(e.Order, alike)
	for _, list := range [][]any{e.Reservations, e.Payments, e.Shipments, e.Notifications} {
		for i := range list {
			list[i] = normalize(list[i], alike)
		}
	}
	return e
}

// replacement is a text that differs between two runs of the same order, and what it is
// written as.
type replacement struct{ from, to string }

// volatile are the fields that differ between two runs of the same order: when.
var volatile = map[string]bool{"createdAt": true, "updatedAt": true, "estimatedDelivery": true}

// normalize drops the volatile fields of v and makes each replacement, in order, in every
// string.
func normalize(v any, alike []replacement) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			if !volatile[k] {
				out[k] = normalize(x, alike)
			}
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = normalize(x, alike)
		}
		return out
	case string:
		for _, r := range alike {
			v = strings.ReplaceAll(v, r.from, r.to)
		}
		return v
	}
	return v
}

// asOrderSagas views Sagas of the order definition as OrderSagas, for the checks that read
// an OrderSaga's UID, phase and total.
func asOrderSagas(sagas map[string]v1.Saga) []v1.OrderSaga {
	out := make([]v1.OrderSaga, 0, len(sagas))
	for _, s := range sagas {
		o := v1.OrderSaga{ObjectMeta: s.ObjectMeta, Status: v1.OrderSagaStatus{Phase: s.Status.Phase, Message: s.Status.Message}}
		for _, st := range s.Status.Steps {
			if st.Name == v1.StepCreateOrder {
				o.Status.OrderID, o.Status.Total = st.Outputs["orderId"], st.Outputs["total"]
			}
		}
		out = append(out, o)
	}
	return out
}

func mapValues[T any](m map[string]T) []T {
	out := make([]T, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
