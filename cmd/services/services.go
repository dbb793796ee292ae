package main

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// The per-service flags. Each returns a builder that validates the parsed values.

func orderFlags(*flag.FlagSet, *envDefaults) func() (registrar, error) {
	return func() (registrar, error) {
		return func(srv *platform.Server, db *mongo.Database) func(context.Context) error {
			return order.Register(srv, db, order.Config{}).SetUp
		}, nil
	}
}

func inventoryFlags(fs *flag.FlagSet, e *envDefaults) func() (registrar, error) {
	seed := fs.Bool("seed-catalog", e.boolean("SEED_CATALOG", true), "insert the demo catalog (LAP-001, PHN-001, ...) where absent at start-up (env SEED_CATALOG)")
	ws := fs.String("write-serialization", e.str("INVENTORY_WRITE_SERIALIZATION", string(inventory.SerializeProcess)),
		"what keeps concurrent stock updates of one product apart: process serializes this process's writes per document, "+
			"needed on FerretDB (its conditional updates are a read plus a write, so concurrent reservations oversell), and then "+
			"the inventory must run as ONE replica; none relies on MongoDB's atomic conditional updates, for any number of "+
			"replicas on a real MongoDB (env INVENTORY_WRITE_SERIALIZATION)")
	return func() (registrar, error) {
		mode, err := inventory.ParseWriteSerialization(*ws)
		if err != nil {
			return nil, fmt.Errorf("--write-serialization: %w", err)
		}
		cfg := inventory.Config{WriteSerialization: mode}
		if *seed {
			cfg.Catalog = inventory.DefaultCatalog()
		}
		return func(srv *platform.Server, db *mongo.Database) func(context.Context) error {
			return inventory.Register(srv, db, cfg).SetUp
		}, nil
	}
}

func paymentFlags(fs *flag.FlagSet, e *envDefaults) func() (registrar, error) {
	above := fs.String("payment-decline-above", e.str("PAYMENT_DECLINE_ABOVE", payment.DefaultDeclineAbove.String()),
		"decline payments whose amount is strictly greater than this (env PAYMENT_DECLINE_ABOVE)")
	methods := fs.String("payment-declined-methods", e.str("PAYMENT_DECLINED_METHODS", ""),
		"comma-separated methods always declined, of "+strings.Join(payment.Methods(), ",")+" (env PAYMENT_DECLINED_METHODS)")
	return func() (registrar, error) {
		limit, err := platform.ParseMoney(*above)
		if err != nil {
			return nil, fmt.Errorf("--payment-decline-above: %w", err)
		}
		declined := platform.SplitList(*methods)
		for _, m := range declined {
			if !slices.Contains(payment.Methods(), m) {
				return nil, fmt.Errorf("--payment-declined-methods: unknown method %q", m)
			}
		}
		cfg := payment.Config{Rules: payment.Rules{DeclineAbove: limit, DeclinedMethods: declined}}
		return func(srv *platform.Server, db *mongo.Database) func(context.Context) error {
			return payment.Register(srv, db, cfg).SetUp
		}, nil
	}
}

func shippingFlags(fs *flag.FlagSet, e *envDefaults) func() (registrar, error) {
	countries := fs.String("shipping-countries", e.str("SHIPPING_COUNTRIES", strings.Join(shipping.DefaultCountries(), ",")),
		"comma-separated ISO 3166-1 alpha-2 destinations shipped to (env SHIPPING_COUNTRIES)")
	return func() (registrar, error) {
		list := platform.SplitList(*countries)
		for _, c := range list {
			if len(c) != 2 || strings.ToUpper(c) != c {
				return nil, fmt.Errorf("--shipping-countries: %q is not an ISO 3166-1 alpha-2 code", c)
			}
		}
		cfg := shipping.Config{Countries: append([]string{}, list...)} // never nil: an empty list ships nowhere
		return func(srv *platform.Server, db *mongo.Database) func(context.Context) error {
			return shipping.Register(srv, db, cfg).SetUp
		}, nil
	}
}

func notificationFlags(fs *flag.FlagSet, e *envDefaults) func() (registrar, error) {
	customers := fs.String("notification-fail-customers", e.str("NOTIFICATION_FAIL_CUSTOMERS", ""),
		"comma-separated customer IDs whose deliveries fail (recorded FAILED; env NOTIFICATION_FAIL_CUSTOMERS)")
	rate := fs.Float64("notification-fail-rate", e.float("NOTIFICATION_FAIL_RATE", 0),
		"fraction 0..1 of notification IDs whose delivery fails, chosen by a hash of the ID (env NOTIFICATION_FAIL_RATE)")
	return func() (registrar, error) {
		if *rate < 0 || *rate > 1 {
			return nil, fmt.Errorf("--notification-fail-rate: %v is not between 0 and 1", *rate)
		}
		cfg := notification.Config{Delivery: notification.Delivery{FailCustomers: platform.SplitList(*customers), FailRate: *rate}}
		return func(srv *platform.Server, db *mongo.Database) func(context.Context) error {
			return notification.Register(srv, db, cfg).SetUp
		}, nil
	}
}
