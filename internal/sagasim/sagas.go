package sagasim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
)

// sagas runs every order as a Saga of the order SagaDefinition: the order's spec is the
// Saga's input, and the Saga runs with the definition's retry policy and step timeouts.
type sagas struct {
	sim *sim
	def *definition
	// rec is the running manager's reconciler; a manager that starts after a crash makes
	// its own, with nothing compiled and no conflict backoff.
	rec         *controllers.SagaReconciler
	incarnation int
}

// orderInput is the part of an OrderSaga's spec that is a Saga's input: what the order
// definition's input schema holds. The names are OrderSagaSpec's, so that the input reads
// back into one.
type orderInput struct {
	CustomerID    string           `json:"customerId"`
	Items         []v1.OrderItem   `json:"items"`
	Currency      string           `json:"currency,omitempty"`
	PaymentMethod v1.PaymentMethod `json:"paymentMethod"`
	Shipping      v1.Shipping      `json:"shipping"`
}

func (*sagas) empty() client.Object { return &v1.Saga{} }

func (*sagas) suspend(obj client.Object) *bool { return &asSaga(obj).Spec.Suspend }

// fromOrder is the Saga of the order: the definition's name, the order as input, and
// the order's suspend and TTL.
func (*sagas) fromOrder(o *v1.OrderSaga) client.Object {
	input, err := json.Marshal(orderInput{CustomerID: o.Spec.CustomerID, Items: o.Spec.Items, Currency: o.Spec.Currency,
		PaymentMethod: o.Spec.PaymentMethod, Shipping: o.Spec.Shipping})
	if err != nil {
		panic(fmt.Sprintf("sagasim: encode the input of %s: %v", o.Name, err))
	}
	return &v1.Saga{
		ObjectMeta: *o.ObjectMeta.DeepCopy(),
		Spec: v1.SagaSpec{
			DefinitionRef:           v1.DefinitionReference{Name: definitionName},
			Input:                   &runtime.RawExtension{Raw: input},
			Suspend:                 o.Spec.Suspend,
			TTLSecondsAfterFinished: o.Spec.TTLSecondsAfterFinished,
		},
	}
}

// view is the Saga as an OrderSaga: its spec read back from the input, with the
// definition's retry policy and step timeout, and its status converted as the OrderSaga
// reconciler converts the engine's (ordersaga.FromRun).
func (k *sagas) view(obj client.Object) *v1.OrderSaga {
	sg := asSaga(obj)
	o := &v1.OrderSaga{ObjectMeta: *sg.ObjectMeta.DeepCopy()}
	if in := sg.Spec.Input; in != nil {
		dec := json.NewDecoder(bytes.NewReader(in.Raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o.Spec); err != nil {
			panic(fmt.Sprintf("sagasim: the input of %s is no order: %v", sg.Name, err))
		}
	}
	o.Spec.RetryPolicy, o.Spec.StepTimeout = k.def.policy()
	o.Spec.Suspend = sg.Spec.Suspend
	if ttl := sg.Spec.TTLSecondsAfterFinished; ttl != nil {
		o.Spec.TTLSecondsAfterFinished = new(*ttl)
	}
	ordersaga.FromRun(&o.Spec, &sg.Status, &o.Status)
	return o
}

func (k *sagas) callTimeout(_ *v1.OrderSaga, step v1.StepName) time.Duration {
	return k.def.callTimeout(step)
}

// reconciler is the real Saga reconciler of the running manager, wired to the models as
// the OrderSaga one is. Unlike that one it lives as long as the manager does: it keeps
// the definitions it compiled (a compile costs more than a whole OrderSaga schedule) and
// the conflict backoff of each saga.
func (k *sagas) reconciler() reconcile.Reconciler {
	s := k.sim
	if k.rec == nil || k.incarnation != s.proc.incarnation {
		k.rec = k.newReconciler(s.api.client())
		k.incarnation = s.proc.incarnation
	}
	return k.rec
}

// newReconciler is a SagaReconciler that reads Sagas through reader.
func (k *sagas) newReconciler(reader client.Client) *controllers.SagaReconciler {
	s := k.sim
	return &controllers.SagaReconciler{
		Client:               reader,
		APIReader:            s.api.live(),
		Steps:                s.stepClient(),
		Recorder:             recorder{s},
		Clock:                s.clock,
		MaxCallsPerReconcile: controllers.DefaultMaxCallsPerReconcile,
		ReconcileBudget:      controllers.DefaultReconcileBudget,
		ProgressInterval:     controllers.DefaultProgressInterval,
	}
}

// replica is a SagaReconciler of another replica: new each time, so it compiles the
// definition afresh (overlaps are rare).
func (k *sagas) replica() reconcile.Reconciler { return k.newReconciler(k.sim.api.live()) }

func asSaga(obj client.Object) *v1.Saga {
	o, ok := obj.(*v1.Saga)
	if !ok {
		panic(fmt.Sprintf("sagasim: want a Saga, got %T", obj))
	}
	return o
}
