package fakeservices

import (
	"time"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// What Config sets up, so that a test picks a business failure by its saga's spec and the
// models refuse it by their real rules.
const (
	// PlentifulStock is the stock of every product of the real default catalog (LAP-001,
	// PHN-001, TAB-001, HDP-001, MON-001) that is not discontinued: more than any test or
	// benchmark orders, so that sagas sharing a fake never run out.
	PlentifulStock = 1_000_000
	// ScarceProduct is in stock ScarceStock times: order ScarceStock+1 of it to be refused
	// OUT_OF_STOCK.
	ScarceProduct = "LTD-001"
	ScarceStock   = 2
	// ScarcePrice is ScarceProduct's catalog price.
	ScarcePrice = "149.99"
	// DiscontinuedProduct is in the catalog but discontinued (the real catalog's OLD-001):
	// ordering it is refused PRODUCT_DISCONTINUED.
	DiscontinuedProduct = "OLD-001"
	// UnknownProduct is not in the catalog: ordering it is refused UNKNOWN_PRODUCT.
	UnknownProduct = "NOPE-001"
	// DeclinedMethod is a payment method the payment model always declines.
	DeclinedMethod = "BANK_TRANSFER"
	// UnsupportedCountry is a valid country outside the shipping destinations: shipping
	// there is refused UNSUPPORTED_DESTINATION.
	UnsupportedCountry = "BR"
	// UndeliverableCustomer is a customer whose every notification fails: recorded FAILED
	// and answered 201, as the real --notification-fail-customers does.
	UndeliverableCustomer = "cust-undeliverable"
)

// DeclineAbove is the per-order payment limit: an order total strictly above it is
// declined PAYMENT_DECLINED (the real default, 5000.00).
const DeclineAbove = payment.DefaultDeclineAbove

// Config returns the models' configuration of Start: the wall clock, Catalog(), the real
// payment limit with DeclinedMethod declined, the real shipping destinations, and
// UndeliverableCustomer.
func Config() servicemodel.Config {
	return servicemodel.Config{
		Now:           time.Now,
		Catalog:       Catalog(),
		Payment:       payment.Rules{DeclineAbove: DeclineAbove, DeclinedMethods: []string{DeclinedMethod}},
		Countries:     shipping.DefaultCountries(),
		FailCustomers: []string{UndeliverableCustomer},
	}
}

// Catalog returns the real default catalog with PlentifulStock of each product on sale,
// plus ScarceProduct.
func Catalog() []inventory.SeedProduct {
	var out []inventory.SeedProduct
	for _, p := range inventory.DefaultCatalog() {
		if !p.Discontinued {
			p.Stock = PlentifulStock
		}
		out = append(out, p)
	}
	price, err := platform.ParseMoney(ScarcePrice)
	if err != nil {
		panic("fakeservices: ScarcePrice: " + err.Error())
	}
	return append(out, inventory.SeedProduct{ID: ScarceProduct, Name: "Limited edition", Price: price, Stock: ScarceStock})
}
