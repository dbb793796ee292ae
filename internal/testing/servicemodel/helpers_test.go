package servicemodel_test

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/ordersaga/ordersaga/internal/testing/servicemodel"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// contractCase is a sequence of requests to one service.
type contractCase struct {
	name string
	// config changes the shared configuration (baseConfig) for both targets.
	config func(*servicemodel.Config)
	steps  []step
}

// step is one request and what each target must answer.
type step struct {
	method, path string
	body         any // nil: none; string: raw; otherwise JSON-encoded
	key          string
	advance      time.Duration // both clocks move by this before the request
	want         want
	same         int // 1-based index of an earlier step whose answer must be repeated byte for byte
}

// want is the expected answer: status, and for an error its code and field; has lists
// top-level body fields and their JSON values; a list answer's items carry the IDs listed
// under idKey, in that order, when idKey is set.
type want struct {
	status      int
	code, field string
	has         map[string]any
	idKey       string
	listed      []string
}

func put(path string, body any, w want) step {
	return step{method: http.MethodPut, path: path, body: body, want: w}
}
func post(path string, body any, w want) step {
	return step{method: http.MethodPost, path: path, body: body, want: w}
}
func get(path string, w want) step          { return step{method: http.MethodGet, path: path, want: w} }
func call(method, path string, w want) step { return step{method: method, path: path, want: w} }

func (s step) withKey(k string) step      { s.key = k; return s }
func (s step) after(d time.Duration) step { s.advance = d; return s }
func (s step) sameAs(n int) step          { s.same = n; return s }
func (s step) plus(kv ...any) step        { s.want = s.want.plus(kv...); return s }
func (w want) plus(kv ...any) want        { w.has = pairs(w.has, kv); return w }
func fails(status int, code, field string) want {
	return want{status: status, code: code, field: field}
}

// is expects a success with status and the given field/value pairs.
func is(status int, kv ...any) want { return want{status: status, has: pairs(nil, kv)} }

// pairs returns a copy of m with the key/value pairs kv set; m is never changed, so
// that shared bodies and outcomes can be extended.
func pairs(m map[string]any, kv []any) map[string]any {
	m = maps.Clone(m)
	if m == nil {
		m = map[string]any{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1]
	}
	return m
}

// invalid expects a 400 INVALID_ARGUMENT naming field.
func invalid(field string) want {
	return fails(http.StatusBadRequest, platform.CodeInvalidArgument, field)
}

// Outcomes used across services.
var (
	keyReused          = fails(http.StatusConflict, platform.CodeIdempotencyKeyReused, "")
	alreadyCompensated = fails(http.StatusConflict, platform.CodeAlreadyCompensated, "")
)

// baseConfig is the configuration both targets share unless a case changes it: PAYPAL
// declined, one customer whose notifications fail, the default catalog and countries.
func baseConfig(now func() time.Time) servicemodel.Config {
	return servicemodel.Config{
		Now:           now,
		Payment:       payment.Rules{DeclinedMethods: []string{"PAYPAL"}},
		FailCustomers: []string{"c-unlucky"},
	}
}

// registerReal returns the set-up of the real service configured like a model with cfg.
func registerReal(service string, cfg servicemodel.Config) func(context.Context, *platform.Server, *mongo.Database) error {
	return func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
		switch service {
		case servicemodel.Order:
			return order.Register(srv, db, order.Config{Now: cfg.Now}).SetUp(ctx)
		case servicemodel.Inventory:
			catalog := cfg.Catalog
			if catalog == nil {
				catalog = inventory.DefaultCatalog()
			}
			return inventory.Register(srv, db, inventory.Config{Catalog: catalog, SweepInterval: -1, Now: cfg.Now}).SetUp(ctx)
		case servicemodel.Payment:
			rules := cfg.Payment
			if rules.DeclineAbove == 0 {
				rules.DeclineAbove = payment.DefaultDeclineAbove
			}
			return payment.Register(srv, db, payment.Config{Rules: rules, Now: cfg.Now}).SetUp(ctx)
		case servicemodel.Shipping:
			return shipping.Register(srv, db, shipping.Config{Countries: cfg.Countries, Now: cfg.Now}).SetUp(ctx)
		case servicemodel.Notification:
			return notification.Register(srv, db, notification.Config{
				Delivery: notification.Delivery{FailCustomers: cfg.FailCustomers}, Now: cfg.Now}).SetUp(ctx)
		}
		return fmt.Errorf("no real service %q", service)
	}
}

// obj returns a JSON object from key/value pairs.
func obj(kv ...any) map[string]any { return pairs(nil, kv) }

// list returns a JSON array.
func list(items ...any) []any { return append([]any{}, items...) }

// runes returns a string of n copies of r.
func runes(n int, r string) string { return strings.Repeat(r, n) }

func itoa(n int) string { return strconv.Itoa(n) }

// token is the nextPageToken of a page ending at id.
func token(id string) string { return platform.EncodePageToken(id) }

// tooLarge is a body just over platform.MaxBody.
func tooLarge() string { return `{"x":"` + strings.Repeat("a", platform.MaxBody) + `"}` }
