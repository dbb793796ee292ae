package collect_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/consistency"
	"github.com/ordersaga/ordersaga/internal/consistency/collect"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/mongotest"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/platform"
	"github.com/ordersaga/ordersaga/services/platform/platformtest"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// world is one test's system: the five real services, each on a database of its own, a
// namespace for its sagas, and the step client the controller uses.
type world struct {
	t       *testing.T
	ns      string
	dbs     map[string]*mongo.Database
	clients map[string]*platformtest.Client
	urls    collect.ServiceURLs
	steps   ordersaga.Caller
	sagas   map[string]*v1.OrderSaga
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ns: newNamespace(t), dbs: map[string]*mongo.Database{},
		clients: map[string]*platformtest.Client{}, sagas: map[string]*v1.OrderSaga{}}
	w.urls = collect.ServiceURLs{
		Order: w.serve("order", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
			return order.Register(srv, db, order.Config{}).SetUp(ctx)
		}),
		Inventory: w.serve("inventory", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
			return inventory.Register(srv, db, inventory.Config{Catalog: inventory.DefaultCatalog(), SweepInterval: -1}).SetUp(ctx)
		}),
		Payment: w.serve("payment", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
			return payment.Register(srv, db, payment.Config{Rules: payment.Rules{DeclineAbove: payment.DefaultDeclineAbove}}).SetUp(ctx)
		}),
		Shipping: w.serve("shipping", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
			return shipping.Register(srv, db, shipping.Config{}).SetUp(ctx)
		}),
		Notification: w.serve("notification", func(ctx context.Context, srv *platform.Server, db *mongo.Database) error {
			return notification.Register(srv, db, notification.Config{}).SetUp(ctx)
		}),
	}
	w.steps = ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: map[string]string{
		"order": w.urls.Order, "inventory": w.urls.Inventory, "payment": w.urls.Payment,
		"shipping": w.urls.Shipping, "notification": w.urls.Notification,
	}})}
	return w
}

func (w *world) serve(name string, register func(context.Context, *platform.Server, *mongo.Database) error) string {
	db := mongotest.Database(w.t, mongoURI)
	c, _ := platformtest.NewServer(w.t, name, func(ctx context.Context, srv *platform.Server) error {
		return register(ctx, srv, db)
	})
	w.dbs[name], w.clients[name] = db, c
	return c.BaseURL
}

// healthy runs the sagas of a consistent system and checks that each ends as expected.
func (w *world) healthy() {
	w.t.Helper()
	w.run("completed", "", v1.PhaseCompleted)
	w.run("out-of-stock", "", v1.PhaseCompensated, testgen.WithItems(testgen.Item("MON-001", 1000, "299.99")))
	w.run("declined", "", v1.PhaseCompensated, testgen.WithQuantity(6)) // 5999.94 is above the 5000.00 limit
	w.run("undeliverable", "", v1.PhaseCompensated, testgen.WithCountry("BR"))
	w.run("in-flight", v1.StepSendNotification, v1.PhaseRunning, testgen.WithItems(testgen.Item("HDP-001", 2, "149.99")))
}

// run creates the saga, then drives it as the controller does, with the real engine and
// step client against the real services, stopping before the step stopBefore ("" runs it
// to the end), and writes the status it reached.
func (w *world) run(name string, stopBefore v1.StepName, want v1.Phase, opts ...testgen.OrderSagaOption) {
	w.t.Helper()
	ctx := w.t.Context()
	obj := testgen.OrderSaga(name, append([]testgen.OrderSagaOption{testgen.WithNamespace(w.ns)}, opts...)...)
	if err := kube.Create(ctx, obj); err != nil {
		w.t.Fatalf("create saga %s: %v", name, err)
	}
	now := time.Now()
	for range 40 { // as the controller's reconcile loop, without its write budget
		d := saga.Next(ordersaga.ViewOf(obj), now)
		if d.Kind == saga.KindCall && d.Call.Step == stopBefore {
			break
		}
		var out saga.Outcome
		if d.Kind == saga.KindCall {
			out = w.steps.Call(ctx, obj, *d.Call)
		}
		ordersaga.Record(obj, d, out, now)
		if d.Kind != saga.KindCall && !d.Continue() {
			break
		}
	}
	if obj.Status.Phase != want {
		w.t.Fatalf("saga %s ended %s (%s), want %s", name, obj.Status.Phase, obj.Status.Message, want)
	}
	if err := kube.Status().Update(ctx, obj); err != nil {
		w.t.Fatalf("write status of saga %s: %v", name, err)
	}
	w.sagas[name] = obj
}

// uid returns the UID of the saga name, from which the services' IDs derive.
func (w *world) uid(name string) string {
	w.t.Helper()
	s, ok := w.sagas[name]
	if !ok {
		w.t.Fatalf("no saga %s", name)
	}
	return string(s.UID)
}

// set plants an inconsistency: $set on one document of a service's collection.
func (w *world) set(service, collection, id string, fields bson.D) {
	w.t.Helper()
	res, err := w.dbs[service].Collection(collection).UpdateOne(w.t.Context(), bson.D{{Key: "_id", Value: id}}, bson.D{{Key: "$set", Value: fields}})
	if err != nil || res.MatchedCount != 1 {
		w.t.Fatalf("set %v on %s %s/%s: matched %v, %v", fields, service, collection, id, res, err)
	}
}

// remove plants an inconsistency: deletes one document of a service's collection.
func (w *world) remove(service, collection, id string) {
	w.t.Helper()
	res, err := w.dbs[service].Collection(collection).DeleteOne(w.t.Context(), bson.D{{Key: "_id", Value: id}})
	if err != nil || res.DeletedCount != 1 {
		w.t.Fatalf("delete %s %s/%s: %v, %v", service, collection, id, res, err)
	}
}

// put calls a service's write API, as a client that is not idempotent would.
func (w *world) put(service, path string, body any) {
	w.t.Helper()
	w.clients[service].Do(http.MethodPut, path, body).Want(w.t, http.StatusCreated, nil)
}

// updateStatus plants an inconsistency in a saga's status.
func (w *world) updateStatus(name string, change func(*v1.OrderSagaStatus)) {
	w.t.Helper()
	obj := w.sagas[name]
	change(&obj.Status)
	if err := kube.Status().Update(w.t.Context(), obj); err != nil {
		w.t.Fatalf("update status of saga %s: %v", name, err)
	}
}

// check collects a snapshot of the world (two items per page, so that every list is
// paginated) and checks it.
func (w *world) check() (consistency.Snapshot, []consistency.Finding) {
	w.t.Helper()
	c := collect.Collector{Kube: kube, Namespace: w.ns, URLs: w.urls, PageSize: 2, RequestTimeout: 5 * time.Second}
	snap, err := c.Collect(w.t.Context())
	if err != nil {
		w.t.Fatalf("collect: %v", err)
	}
	return snap, consistency.Check(snap, time.Now(), consistency.Options{})
}
