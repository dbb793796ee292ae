package sagasim

import (
	"fmt"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// Kind is what a schedule's sagas are. The same orders, faults and invariants run on
// either kind.
type Kind string

const (
	// KindOrderSaga runs every order as an OrderSaga, on the OrderSaga reconciler.
	KindOrderSaga Kind = "ordersaga"
	// KindSaga runs every order as a Saga of the order SagaDefinition, on the Saga
	// reconciler.
	KindSaga Kind = "saga"
)

// Kinds lists every kind.
func Kinds() []Kind { return []Kind{KindOrderSaga, KindSaga} }

// ParseKind returns the kind named s.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", fmt.Errorf("unknown saga kind %q: want %q or %q", s, KindOrderSaga, KindSaga)
}

// sagaKind is how a schedule runs its kind of saga. The schedule generates orders, as
// OrderSagas; the kind stores each as an object of its own, shows a stored object as the
// OrderSaga that the invariants judge, and reconciles it with its real reconciler.
type sagaKind interface {
	// empty returns an object of the kind to read into.
	empty() client.Object
	// fromOrder returns the object that kubectl apply creates for the order.
	fromOrder(order *v1.OrderSaga) client.Object
	// view returns obj as the OrderSaga it runs: the invariants judge this.
	view(obj client.Object) *v1.OrderSaga
	// suspend is obj's spec.suspend.
	suspend(obj client.Object) *bool
	// reconciler is the kind's reconciler in the running manager.
	reconciler() reconcile.Reconciler
	// replica is the kind's reconciler in another replica of the manager, whose cache is
	// current: it reads the API server.
	replica() reconcile.Reconciler
	// callTimeout bounds a call of step for the saga of order.
	callTimeout(order *v1.OrderSaga, step v1.StepName) time.Duration
}

var (
	_ sagaKind = orderSagas{}
	_ sagaKind = (*sagas)(nil)
)

// orderSagas runs every order as the OrderSaga it is.
type orderSagas struct{ sim *sim }

func (orderSagas) empty() client.Object                    { return &v1.OrderSaga{} }
func (orderSagas) fromOrder(o *v1.OrderSaga) client.Object { return o }
func (orderSagas) suspend(obj client.Object) *bool         { return &asOrderSaga(obj).Spec.Suspend }

func (orderSagas) view(obj client.Object) *v1.OrderSaga { return asOrderSaga(obj) }

// callTimeout is the saga's stepTimeout, which bounds every call of an OrderSaga.
func (orderSagas) callTimeout(o *v1.OrderSaga, _ v1.StepName) time.Duration {
	return ordersaga.Plan(&o.Spec).LongestTimeout()
}

// reconciler is the real OrderSaga reconciler, wired to the models: the API server model,
// the simulated network and clock, and an Event recorder that writes to the trace.
//
// Caveats: it is a new one for every reconcile, so its conflict backoff starts afresh
// each time (a real manager keeps it while it runs); kept so, because a seed replays the
// schedule it replayed before Saga mode came.
func (k orderSagas) reconciler() reconcile.Reconciler { return k.newReconciler(k.sim.api.client()) }

func (k orderSagas) replica() reconcile.Reconciler { return k.newReconciler(k.sim.api.live()) }

// newReconciler is an OrderSagaReconciler that reads OrderSagas through reader.
func (k orderSagas) newReconciler(reader client.Client) *controllers.OrderSagaReconciler {
	s := k.sim
	return &controllers.OrderSagaReconciler{
		Client:               reader,
		Steps:                ordersaga.Caller{Client: s.stepClient()},
		Recorder:             recorder{s},
		Clock:                s.clock,
		MaxCallsPerReconcile: controllers.DefaultMaxCallsPerReconcile,
		ReconcileBudget:      controllers.DefaultReconcileBudget,
		ProgressInterval:     controllers.DefaultProgressInterval,
	}
}

func asOrderSaga(obj client.Object) *v1.OrderSaga {
	o, ok := obj.(*v1.OrderSaga)
	if !ok {
		panic(fmt.Sprintf("sagasim: want an OrderSaga, got %T", obj))
	}
	return o
}

// stepClient is the step client of the manager, which reaches the service models through
// the simulated network.
func (s *sim) stepClient() *stepclient.Client {
	overrides := map[string]string{}
	for _, name := range stepclient.Services() {
		overrides[name] = s.models.URL(name)
	}
	return stepclient.NewWithTransport(stepclient.Resolver{Overrides: overrides}, s.net)
}
