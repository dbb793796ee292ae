package graph

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/graph/model"
)

func validInput() model.PlaceOrderInput {
	return model.PlaceOrderInput{
		CustomerID:    "cust-1",
		Items:         []*model.OrderItemInput{{ProductID: "sku-1", Quantity: 2, UnitPrice: "19.99"}},
		PaymentMethod: model.PaymentMethodCreditCard,
		Shipping: &model.ShippingInput{Address: &model.AddressInput{
			Name: "Ada", Line1: "1 Main St", City: "Berlin", PostalCode: "10115", Country: "DE",
		}},
	}
}

func TestValidatePlaceOrderNamesTheField(t *testing.T) {
	cases := []struct {
		name   string
		change func(*model.PlaceOrderInput, *string)
		field  string
	}{
		{"valid", func(*model.PlaceOrderInput, *string) {}, ""},
		{"no key", func(_ *model.PlaceOrderInput, k *string) { *k = "" }, "idempotencyKey"},
		{"long key", func(_ *model.PlaceOrderInput, k *string) { *k = strings.Repeat("k", 129) }, "idempotencyKey"},
		{"no customer", func(in *model.PlaceOrderInput, _ *string) { in.CustomerID = "" }, "input.customerId"},
		{"control character", func(in *model.PlaceOrderInput, _ *string) { in.CustomerID = "a\nb" }, "input.customerId"},
		{"no items", func(in *model.PlaceOrderInput, _ *string) { in.Items = nil }, "input.items"},
		{"zero quantity", func(in *model.PlaceOrderInput, _ *string) { in.Items[0].Quantity = 0 }, "input.items[0].quantity"},
		{"huge quantity", func(in *model.PlaceOrderInput, _ *string) { in.Items[0].Quantity = 1001 }, "input.items[0].quantity"},
		{"bad price", func(in *model.PlaceOrderInput, _ *string) { in.Items[0].UnitPrice = "1.999" }, "input.items[0].unitPrice"},
		{"zero price", func(in *model.PlaceOrderInput, _ *string) { in.Items[0].UnitPrice = "0.00" }, "input.items[0].unitPrice"},
		{"bad product", func(in *model.PlaceOrderInput, _ *string) { in.Items[0].ProductID = "-x" }, "input.items[0].productId"},
		{"duplicate product", func(in *model.PlaceOrderInput, _ *string) {
			in.Items = append(in.Items, &model.OrderItemInput{ProductID: "sku-1", Quantity: 1, UnitPrice: "1"})
		}, "input.items[1].productId"},
		{"too many lines", func(in *model.PlaceOrderInput, _ *string) {
			in.Items = nil
			for i := range 51 {
				in.Items = append(in.Items, &model.OrderItemInput{ProductID: fmt.Sprintf("p%d", i), Quantity: 1, UnitPrice: "1"})
			}
		}, "input.items"},
		{"bad currency", func(in *model.PlaceOrderInput, _ *string) { c := "usd"; in.Currency = &c }, "input.currency"},
		{"no address", func(in *model.PlaceOrderInput, _ *string) { in.Shipping.Address = nil }, "input.shipping.address"},
		{"bad country", func(in *model.PlaceOrderInput, _ *string) { in.Shipping.Address.Country = "Germany" }, "input.shipping.address.country"},
		{"long postal code", func(in *model.PlaceOrderInput, _ *string) { in.Shipping.Address.PostalCode = strings.Repeat("1", 21) }, "input.shipping.address.postalCode"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, key := validInput(), "key-1"
			tc.change(&in, &key)
			errs := validatePlaceOrder(in, key)
			if tc.field == "" {
				if len(errs) != 0 {
					t.Fatalf("errors %v, want none", errs)
				}
				return
			}
			if len(errs) == 0 {
				t.Fatalf("no error, want one at %s", tc.field)
			}
			ce, ok := errors.AsType[*codeError](errs[0])
			if !ok || ce.field != tc.field || ce.code != model.ErrorCodeBadUserInput {
				t.Fatalf("first error %#v, want BAD_USER_INPUT at %s", errs[0], tc.field)
			}
		})
	}
}

func TestNewSagaIsNamedAndHashedByItsRequest(t *testing.T) {
	a, err := newSaga("shop", validInput(), "key-1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := newSaga("shop", validInput(), "key-1")
	other := validInput()
	other.Items[0].Quantity = 3
	c, _ := newSaga("shop", other, "key-1")
	if a.Name != b.Name || a.Name != c.Name || a.Name != NameFor("key-1") {
		t.Errorf("names %s %s %s, want one name per key", a.Name, b.Name, c.Name)
	}
	if a.Annotations[RequestHashAnnotation] != b.Annotations[RequestHashAnnotation] {
		t.Error("the same payload hashed differently")
	}
	if a.Annotations[RequestHashAnnotation] == c.Annotations[RequestHashAnnotation] {
		t.Error("another payload hashed the same")
	}
	if a.Labels[CustomerLabel] != CustomerHash("cust-1") || a.Spec.Currency != "USD" || a.Spec.Shipping.Method != v1.ShippingMethodStandard {
		t.Errorf("saga %+v lacks its label or defaults", a)
	}
}

func TestPagesWalkEveryOrderOnceNewestFirst(t *testing.T) {
	base := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sagas := make([]*v1.OrderSaga, 0, 25)
	// 25 sagas over 10 distinct seconds: ties in creation time are broken by name.
	for i := range 25 {
		s := &v1.OrderSaga{}
		s.Name = fmt.Sprintf("o-%02d", i)
		s.CreationTimestamp = metav1.NewTime(base.Add(time.Duration(i%10) * time.Second))
		sagas = append(sagas, s)
	}
	sorted := sortNewestFirst(sagas)
	seen := map[string]bool{}
	var cursor *string
	for pages := 0; ; pages++ {
		conn, err := page(sorted, 7, cursor)
		if err != nil {
			t.Fatal(err)
		}
		if conn.TotalCount != 25 {
			t.Fatalf("totalCount %d, want 25", conn.TotalCount)
		}
		for _, e := range conn.Edges {
			if seen[e.Node.ID] {
				t.Fatalf("%s served twice", e.Node.ID)
			}
			seen[e.Node.ID] = true
		}
		if !conn.PageInfo.HasNextPage {
			break
		}
		cursor = conn.PageInfo.EndCursor
		if pages > 5 {
			t.Fatal("paging does not end")
		}
	}
	if len(seen) != 25 {
		t.Fatalf("served %d orders, want 25", len(seen))
	}
	if _, err := page(sorted, 7, new("not-a-cursor!")); err == nil {
		t.Error("a garbage cursor was accepted")
	}
}

func TestCancellableStopsAtThePivot(t *testing.T) {
	saga := func(phase v1.Phase, confirm v1.StepState) *v1.OrderSaga {
		s := &v1.OrderSaga{}
		s.Status.Phase = phase
		s.Status.Steps = []v1.StepStatus{{Name: v1.StepProcessPayment, State: v1.StepSucceeded}, {Name: v1.StepConfirmOrder, State: confirm}}
		return s
	}
	cases := []struct {
		saga *v1.OrderSaga
		want model.ErrorCode
	}{
		{&v1.OrderSaga{}, ""},
		{saga(v1.PhaseRunning, v1.StepPending), ""},
		{saga(v1.PhaseRunning, v1.StepRunning), model.ErrorCodeAlreadyConfirmed},
		{saga(v1.PhaseRunning, v1.StepSucceeded), model.ErrorCodeAlreadyConfirmed},
		{saga(v1.PhaseCompleted, v1.StepSucceeded), model.ErrorCodeAlreadyConfirmed},
		{saga(v1.PhaseCompensating, v1.StepSkipped), ""},
		{saga(v1.PhaseCompensated, v1.StepSkipped), model.ErrorCodeAlreadyFinished},
		{saga(v1.PhaseFailed, v1.StepSkipped), model.ErrorCodeAlreadyFinished},
	}
	for i, tc := range cases {
		if got := cancellable(tc.saga); got != tc.want {
			t.Errorf("case %d: cancellable = %q, want %q", i, got, tc.want)
		}
	}
}

func TestInputFieldMapsCRDPaths(t *testing.T) {
	for path, want := range map[string]string{
		"spec.items[0].quantity":        "input.items[0].quantity",
		"spec.shipping.address.country": "input.shipping.address.country",
		"spec":                          "input",
		"metadata.name":                 "metadata.name",
	} {
		if got := inputField(path); got != want {
			t.Errorf("inputField(%q) = %q, want %q", path, got, want)
		}
	}
}
