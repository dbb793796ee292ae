package controllers

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/prometheus/client_golang/prometheus"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
	"github.com/ordersaga/ordersaga/internal/testing/fakeservices"
	"github.com/ordersaga/ordersaga/internal/testing/testgen"
	"github.com/ordersaga/ordersaga/services/inventory"
	"github.com/ordersaga/ordersaga/services/notification"
	"github.com/ordersaga/ordersaga/services/order"
	"github.com/ordersaga/ordersaga/services/payment"
	"github.com/ordersaga/ordersaga/services/shipping"
)

// isolatedLabel marks sagas that the shared manager must not see, because a test runs
// its own managers for them (restart tests).
const isolatedLabel = "test.ordersaga.io/isolated"

// testManager is a manager running the OrderSaga controller against the fake services
// (the service models behind a fault-injecting front), or the Saga and SagaDefinition
// controllers against a spec's test services (startSagaManager; fake is nil).
type testManager struct {
	fake    *fakeservices.Services
	metrics *Metrics
	stop    context.CancelFunc
	done    chan struct{}
}

var (
	sharedOnce sync.Once
	sharedMgr  *testManager
)

// shared returns the manager that runs every non-isolated saga, starting it on first use.
func shared() *testManager {
	sharedOnce.Do(func() {
		notIsolated, err := labels.NewRequirement(isolatedLabel, selection.DoesNotExist, nil)
		Expect(err).NotTo(HaveOccurred())
		sharedMgr = startManager(fakeservices.Start(), labels.NewSelector().Add(*notIsolated))
	})
	return sharedMgr
}

// startManager starts a manager whose controller sees the sagas matching selector and
// calls the fake.
func startManager(fake *fakeservices.Services, selector labels.Selector) *testManager {
	GinkgoHelper()
	return startManagerWith(fake, selector, nil, 0)
}

// startManagerWith is startManager whose calls go through wrap when given (to inject
// crashes), with a graceful shutdown timeout. A non-zero timeout
// makes Stop a crash: reconciles still running when it passes are abandoned, as a killed
// process abandons them, and the manager's timeout error is expected.
func startManagerWith(fake *fakeservices.Services, selector labels.Selector, wrap func(StepCaller) StepCaller, crashAfter time.Duration) *testManager {
	GinkgoHelper()
	mgr := newManager(cache.Options{ByObject: map[client.Object]cache.ByObject{&v1.OrderSaga{}: {Label: selector}}}, crashAfter)
	var steps StepCaller = ordersaga.Caller{Client: stepclient.New(stepclient.Resolver{Overrides: fake.URLs()})}
	if wrap != nil {
		steps = wrap(steps)
	}
	r := NewOrderSagaReconciler(mgr, steps, testOptions())
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	m := &testManager{fake: fake, metrics: r.Metrics}
	m.run(mgr, crashAfter > 0)
	return m
}

// startSagaManager starts, for one spec, a manager that runs the Saga and SagaDefinition
// controllers, wired as cmd/manager wires them, on the Sagas and SagaDefinitions of
// namespace ns only (the spec's own), whose steps call the services at urls (service name
// to base URL; any name, as a Resolver built directly takes them). It stops after the spec.
func startSagaManager(ns string, urls map[string]string) *testManager {
	GinkgoHelper()
	only := map[string]cache.Config{ns: {}}
	mgr := newManager(cache.Options{ByObject: map[client.Object]cache.ByObject{
		&v1.Saga{}: {Namespaces: only}, &v1.SagaDefinition{}: {Namespaces: only},
	}}, 0)
	r := NewSagaReconciler(mgr, stepclient.New(stepclient.Resolver{Overrides: urls}), testOptions())
	Expect(r.SetupWithManager(mgr)).To(Succeed())
	defs := &SagaDefinitionReconciler{Client: mgr.GetClient(), APIReader: mgr.GetAPIReader()}
	Expect(defs.SetupWithManager(mgr)).To(Succeed())
	m := &testManager{metrics: r.Metrics}
	m.run(mgr, false)
	DeferCleanup(m.Stop)
	return m
}

// testOptions are the reconcilers' options in tests: a fresh metrics registry each.
func testOptions() Options {
	return Options{ReconcileBudget: 30 * time.Second, MaxConcurrentReconciles: 16, Metrics: NewMetrics(prometheus.NewRegistry())}
}

// newManager returns a manager on the test API server whose cache is restricted by
// cacheOpts. A non-zero crashAfter is its graceful shutdown timeout (see startManagerWith).
func newManager(cacheOpts cache.Options, crashAfter time.Duration) ctrl.Manager {
	GinkgoHelper()
	var shutdown *time.Duration
	if crashAfter > 0 {
		shutdown = &crashAfter
	}
	mgrCfg := rest.CopyConfig(cfg)
	mgrCfg.QPS, mgrCfg.Burst = 500, 1000 // cmd/manager's defaults (--kube-api-qps, --kube-api-burst)
	mgr, err := ctrl.NewManager(mgrCfg, ctrl.Options{
		GracefulShutdownTimeout: shutdown,
		Scheme:                  testScheme,
		Metrics:                 metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:  "0",
		Controller:              config.Controller{SkipNameValidation: new(true)},
		Cache:                   withProductCache(cacheOpts),
	})
	Expect(err).NotTo(HaveOccurred())
	return mgr
}

// withProductCache adds the manager's own cache settings (CacheOptions) to a test's
// selectors, so that the reconcilers under test read the cache the product gives them.
func withProductCache(o cache.Options) cache.Options {
	o.DefaultTransform = CacheOptions("").DefaultTransform
	return o
}

// run starts mgr in the background until Stop. A manager that may crash (a graceful
// shutdown timeout) may end with the timeout's error.
func (m *testManager) run(mgr ctrl.Manager, mayCrash bool) {
	mctx, stop := context.WithCancel(ctx)
	m.stop, m.done = stop, make(chan struct{})
	go func() {
		defer GinkgoRecover()
		defer close(m.done)
		if err := mgr.Start(mctx); !mayCrash {
			Expect(err).To(Succeed())
		}
	}()
}

// startFake starts fake services for one test and closes them after it.
func startFake() *fakeservices.Services {
	fake := fakeservices.Start()
	DeferCleanup(fake.Close)
	return fake
}

// startIsolated starts a manager of its own for one test, and returns the option that
// puts a saga under it (and out of the shared manager's sight).
func startIsolated(fake *fakeservices.Services) testgen.OrderSagaOption {
	GinkgoHelper()
	id := "m" + strconv.FormatInt(time.Now().UnixNano(), 36)
	m := startManager(fake, labels.SelectorFromSet(labels.Set{isolatedLabel: id}))
	DeferCleanup(m.Stop)
	return testgen.WithLabels(map[string]string{isolatedLabel: id})
}

// Stop stops the manager and waits until it has.
func (m *testManager) Stop() {
	m.stop()
	Eventually(m.done, 30*time.Second).Should(BeClosed())
}

// fastRetries keeps backoffs short so that retry tests take milliseconds.
func fastRetries(maxAttempts int32) testgen.OrderSagaOption {
	return testgen.WithRetryPolicy(maxAttempts, 10*time.Millisecond, 50*time.Millisecond)
}

// create creates a saga in a fresh namespace and returns it.
func create(name string, opts ...testgen.OrderSagaOption) *v1.OrderSaga {
	GinkgoHelper()
	obj := testgen.OrderSaga(name, append([]testgen.OrderSagaOption{testgen.WithNamespace(newNamespace())}, opts...)...)
	Expect(k8sClient.Create(ctx, obj)).To(Succeed())
	return obj
}

// get reads a saga back from the API server.
func get(obj *v1.OrderSaga) *v1.OrderSaga {
	GinkgoHelper()
	out := &v1.OrderSaga{}
	Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), out)).To(Succeed())
	return out
}

// waitForPhase waits until the saga reaches phase and returns it.
func waitForPhase(obj *v1.OrderSaga, phase v1.Phase) *v1.OrderSaga {
	GinkgoHelper()
	var got *v1.OrderSaga
	Eventually(func(g Gomega) v1.Phase {
		got = &v1.OrderSaga{}
		g.Expect(k8sClient.Get(ctx, client.ObjectKeyFromObject(obj), got)).To(Succeed())
		return got.Status.Phase
	}, 30*time.Second, 20*time.Millisecond).Should(Equal(phase), func() string { return describe(got) })
	return got
}

// calls returns "Step/direction" for every call the fake received for the saga, in order,
// whatever the answer (a fault, a refusal or a success).
func calls(fake *fakeservices.Services, obj *v1.OrderSaga) []string {
	received := fake.Calls(string(obj.UID))
	out := make([]string, 0, len(received))
	for _, c := range received {
		out = append(out, c.Step+"/"+c.Direction)
	}
	return out
}

// declined is a spec whose payment the payment model declines by its real rule: six
// LAP-001 at 999.99 come to 5999.94, above fakeservices.DeclineAbove (5000.00).
func declined() testgen.OrderSagaOption {
	return testgen.WithItems(testgen.Item(testgen.DefaultProductID, 6, testgen.DefaultUnitPrice))
}

// expectNothingHeld checks in the models that a rolled-back saga holds nothing: its order
// is cancelled (or was never created), its reservation, payment and shipment hold no stock,
// money or parcel, and every product is back at its catalog stock. Only for a fake that
// served this saga alone.
func expectNothingHeld(fake *fakeservices.Services, obj *v1.OrderSaga) {
	GinkgoHelper()
	w, uid := fake.Model(), string(obj.UID)
	if o, ok := w.Order(ordersaga.OrderID(uid)); ok {
		Expect(o.Status).To(Equal(order.Cancelled), "order")
	}
	if r, ok := w.Reservation(ordersaga.ReservationID(uid)); ok {
		Expect(r.Status).NotTo(Equal(inventory.Reserved), "reservation")
	}
	if p, ok := w.Payment(ordersaga.PaymentID(uid)); ok {
		Expect(p.Status).NotTo(Equal(payment.Captured), "payment")
	}
	if s, ok := w.Shipment(ordersaga.ShipmentID(uid)); ok {
		Expect(s.Status).NotTo(Equal(shipping.Scheduled), "shipment")
	}
	for _, p := range fakeservices.Catalog() {
		stock, _ := w.Stock(p.ID)
		Expect(stock).To(Equal(p.Stock), "stock of %s", p.ID)
	}
}

// expectCancellationNotice checks in the notification model the order-cancelled notice of
// a saga whose order was created: made once, with status want, carrying only the total.
func expectCancellationNotice(fake *fakeservices.Services, obj *v1.OrderSaga, want notification.Status) {
	GinkgoHelper()
	uid := string(obj.UID)
	n, ok := fake.Model().Notification(ordersaga.CancellationNotificationID(uid))
	Expect(ok).To(BeTrue(), "the order-cancelled notice reached the notification service")
	Expect(n.Type).To(Equal(notification.OrderCancelled))
	Expect(n.Status).To(Equal(want))
	Expect(n.Data).To(Equal(map[string]string{"total": obj.Status.Total}))
	Expect(fake.Effects(saga.Key(uid, ordersaga.NotifyCancellation, saga.Action))).To(Equal(1))
}

// distinct drops repeats (retries) while keeping the order of first appearance.
func distinct(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// stepOf returns the status entry of a step.
func stepOf(obj *v1.OrderSaga, name v1.StepName) v1.StepStatus {
	for _, s := range obj.Status.Steps {
		if s.Name == name {
			return s
		}
	}
	return v1.StepStatus{}
}

// setAnnotation sets one annotation on the saga as a person would.
func setAnnotation(obj *v1.OrderSaga, key, value string) {
	GinkgoHelper()
	latest := get(obj)
	patch := client.MergeFrom(latest.DeepCopy())
	if latest.Annotations == nil {
		latest.Annotations = map[string]string{}
	}
	latest.Annotations[key] = value
	Expect(k8sClient.Patch(ctx, latest, patch)).To(Succeed())
}

// eventsAbout returns the Events about the saga.
func eventsAbout(obj *v1.OrderSaga) []eventsv1.Event {
	GinkgoHelper()
	list := &eventsv1.EventList{}
	Expect(k8sClient.List(ctx, list, client.InNamespace(obj.Namespace),
		client.MatchingFieldsSelector{Selector: fields.OneTermEqualSelector("regarding.name", obj.Name)})).To(Succeed())
	return list.Items
}

// eventReasons returns the reasons of the Events about the saga.
func eventReasons(obj *v1.OrderSaga) []string {
	GinkgoHelper()
	events := eventsAbout(obj)
	out := make([]string, 0, len(events))
	for _, e := range events {
		out = append(out, e.Reason)
	}
	return out
}

// eventsOf returns the Events about the saga with the given reason.
func eventsOf(obj *v1.OrderSaga, reason string) []eventsv1.Event {
	GinkgoHelper()
	var out []eventsv1.Event
	for _, e := range eventsAbout(obj) {
		if e.Reason == reason {
			out = append(out, e)
		}
	}
	return out
}

// describe renders a saga's status for failure messages.
func describe(obj *v1.OrderSaga) string {
	if obj == nil {
		return "<no saga>"
	}
	var out strings.Builder
	out.WriteString("phase=" + string(obj.Status.Phase) + " message=" + obj.Status.Message + "\n")
	for _, s := range obj.Status.Steps {
		out.WriteString("  " + string(s.Name) + " " + string(s.State) + " attempts=" + itoa(s.Attempts) + " err=" + s.LastError)
		if c := s.Compensation; c != nil {
			out.WriteString(" comp=" + string(c.State) + "/" + itoa(c.Attempts) + " " + c.LastError)
		}
		out.WriteString("\n")
	}
	return out.String()
}

func itoa(n int32) string { return strconv.Itoa(int(n)) }
