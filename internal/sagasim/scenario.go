package sagasim

import (
	"fmt"
	"math/rand/v2"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
)

// Namespace is where the simulated sagas live.
const Namespace = "shop"

// The catalog and business rules the services run with. Stock is scarce on purpose, so
// that sagas compete for it and some run out; the other rules each fail one step.
const (
	scarceProduct       = "SCARCE-1"
	plentyProduct       = "PLENTY-1"
	discontinuedProduct = "OLD-1"
	unknownProduct      = "NOPE-1"
	declinedMethod      = v1.PaymentMethodBankTransfer
	failingCustomer     = "cust-undeliverable"
	unservedCountry     = "AQ"
	declineAbove        = platform.Money(5000_00)
)

func catalog(rng *rand.Rand) []inventory.SeedProduct {
	return []inventory.SeedProduct{
		{ID: scarceProduct, Name: "Scarce", Price: 100_00, Stock: 1 + rng.IntN(4)},
		{ID: plentyProduct, Name: "Plenty", Price: 20_00, Stock: 1000},
		{ID: discontinuedProduct, Name: "Old", Price: 10_00, Stock: 10, Discontinued: true},
	}
}

func paymentRules() payment.Rules {
	return payment.Rules{DeclineAbove: declineAbove, DeclinedMethods: []string{string(declinedMethod)}}
}

// newSaga returns the i-th saga of a schedule: mostly orders that can complete, with a
// share that each step's business rules refuse, and retry policies, step timeouts and
// TTLs drawn across their whole valid range. The object has what the API server would
// have defaulted, since the fake client applies no CRD defaults.
func newSaga(rng *rand.Rand, i int, now time.Time) *v1.OrderSaga {
	s := &v1.OrderSaga{
		ObjectMeta: metav1.ObjectMeta{
			Name: fmt.Sprintf("saga-%d", i), Namespace: Namespace,
			UID:               types.UID(fmt.Sprintf("00000000-0000-4000-8000-%012d", i)),
			CreationTimestamp: metav1.NewTime(now),
		},
		Spec: v1.OrderSagaSpec{
			CustomerID:    fmt.Sprintf("cust-%d", i),
			Items:         []v1.OrderItem{{ProductID: scarceProduct, Quantity: 1 + rng.Int32N(2), UnitPrice: "100.00"}},
			Currency:      "USD",
			PaymentMethod: v1.PaymentMethodCreditCard,
			Shipping: v1.Shipping{Method: v1.ShippingMethodStandard, Address: v1.Address{
				Name: "Ada Lovelace", Line1: "12 Example Street", City: "London", PostalCode: "N1 9GU", Country: "GB"}},
			RetryPolicy: &v1.RetryPolicy{
				MaxAttempts:    1 + rng.Int32N(5),
				InitialBackoff: &metav1.Duration{Duration: time.Duration(1+rng.IntN(20)) * 100 * time.Millisecond},
				MaxBackoff:     &metav1.Duration{Duration: time.Duration(2+rng.IntN(60)) * time.Second},
			},
			StepTimeout: &metav1.Duration{Duration: pick(rng, 100*time.Millisecond, time.Second, 10*time.Second, time.Minute, 5*time.Minute)},
		},
	}
	if rng.IntN(2) == 0 {
		s.Spec.Items = append(s.Spec.Items, v1.OrderItem{ProductID: plentyProduct, Quantity: 1 + rng.Int32N(3), UnitPrice: "20.00"})
	}
	switch rng.IntN(12) { // one business failure in three sagas, spread over the steps
	case 0:
		s.Spec.Items[0].ProductID = pick(rng, discontinuedProduct, unknownProduct)
	case 1:
		s.Spec.PaymentMethod = declinedMethod
	case 2:
		s.Spec.Items[0].UnitPrice = "4999.99" // above the payment limit once doubled, else just below it
	case 3:
		s.Spec.Shipping.Address.Country = unservedCountry
	case 4:
		s.Spec.CustomerID = failingCustomer
	}
	if rng.IntN(3) == 0 {
		ttl := rng.Int32N(600)
		s.Spec.TTLSecondsAfterFinished = &ttl
	}
	s.Spec.Suspend = rng.IntN(8) == 0
	return s
}

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }
