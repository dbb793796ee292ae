package sagasim

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/controllers"
	"github.com/ordersaga/ordersaga/internal/saga"
)

// The SagaDefinition every Saga of a schedule names, and its key in the reconcile queue,
// beside the sagas' names.
const (
	definitionName = "order-fulfilment"
	definitionKey  = "sagadefinition/" + definitionName
	definitionUID  = "00000000-0000-4000-8000-00000000def1"
)

// definition is the SagaDefinition of a schedule in Saga mode.
type definition struct {
	// spec is the definition as created.
	spec *v1.SagaDefinitionSpec
	// deleted: a user deleted it. Its controller then keeps it while a Saga runs on it.
	deleted bool
	// released: it was seen gone, and checked that no Saga ran on it then.
	released bool
	// phases are the sagas' last phases, for the watch events of its controller; pinned
	// says which sagas store a pin of it, for the trace.
	phases map[string]v1.Phase
	pinned map[string]bool
}

// LoadDefinition reads the order saga written as a SagaDefinition: a whole manifest, or
// its spec alone (internal/sagadef/testdata/order.yaml).
func LoadDefinition(path string) (*v1.SagaDefinitionSpec, error) {
	data, err := os.ReadFile(path) //nolint:gosec // G304: the caller names a file of this repository
	if err != nil {
		return nil, fmt.Errorf("read the order SagaDefinition: %w", err)
	}
	var manifest v1.SagaDefinition
	if yaml.Unmarshal(data, &manifest) == nil && manifest.Kind == "SagaDefinition" {
		if err := yaml.UnmarshalStrict(data, &manifest); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return &manifest.Spec, nil
	}
	spec := &v1.SagaDefinitionSpec{}
	if err := yaml.UnmarshalStrict(data, spec); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return spec, nil
}

// policy is the definition's retry policy and step timeout: every Saga runs with them,
// unless a step overrides them.
func (d *definition) policy() (*v1.RetryPolicy, *metav1.Duration) {
	return d.spec.RetryPolicy.DeepCopy(), d.spec.StepTimeout.DeepCopy()
}

// callTimeout bounds a call of step as the definition's plan does: the step's timeout,
// else stepTimeout; onRollback has stepTimeout.
func (d *definition) callTimeout(step v1.StepName) time.Duration {
	timeout := saga.DurationOr(d.spec.StepTimeout, saga.DefaultStepTimeout)
	for _, st := range d.spec.Steps {
		if st.Name == step {
			return saga.DurationOr(st.Timeout, timeout)
		}
	}
	return timeout
}

// drawDefinition is the definition a schedule runs: the one written, with the defaults
// the API server gives; and in half the schedules, with a retry policy and step timeout
// drawn across the ranges that OrderSaga schedules draw per saga. The steps' own
// overrides stay as written.
func drawDefinition(rng *rand.Rand, written *v1.SagaDefinitionSpec) *v1.SagaDefinitionSpec {
	spec := written.DeepCopy()
	if spec.RetryPolicy == nil {
		spec.RetryPolicy = &v1.RetryPolicy{MaxAttempts: 5, InitialBackoff: &metav1.Duration{Duration: time.Second},
			MaxBackoff: &metav1.Duration{Duration: time.Minute}}
	}
	if spec.StepTimeout == nil {
		spec.StepTimeout = &metav1.Duration{Duration: 10 * time.Second}
	}
	if rng.IntN(2) == 0 {
		return spec
	}
	spec.RetryPolicy = &v1.RetryPolicy{
		MaxAttempts:    1 + rng.Int32N(5),
		InitialBackoff: &metav1.Duration{Duration: time.Duration(1+rng.IntN(20)) * 100 * time.Millisecond},
		MaxBackoff:     &metav1.Duration{Duration: time.Duration(2+rng.IntN(60)) * time.Second},
	}
	spec.StepTimeout = &metav1.Duration{Duration: pick(rng, 100*time.Millisecond, time.Second, 10*time.Second, time.Minute, 5*time.Minute)}
	return spec
}

// setUpDefinition starts a schedule in Saga mode: it creates the definition, which its
// real controller then makes Ready (with its in-use finalizer) before any Saga exists.
// The definition is drawn from a stream of its own, so that the schedule's other draws
// start as they do in OrderSaga mode.
func (s *sim) setUpDefinition(ctx context.Context, seed uint64) bool {
	if s.opts.Definition == nil {
		s.violatef(invSetup, "Saga mode needs the order SagaDefinition (Options.Definition)")
		return false
	}
	rng := rand.New(rand.NewPCG(seed^0xdef1, seed)) //nolint:gosec // G404: seeded on purpose, so that a seed replays its schedule
	s.def = &definition{spec: drawDefinition(rng, s.opts.Definition), phases: map[string]v1.Phase{}, pinned: map[string]bool{}}
	s.kind = &sagas{sim: s, def: s.def}
	obj := &v1.SagaDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: definitionName, Namespace: Namespace, UID: definitionUID,
			CreationTimestamp: metav1.NewTime(s.clock.Now())},
		Spec: *s.def.spec.DeepCopy(),
	}
	if err := s.api.store.Create(ctx, obj); err != nil {
		s.violatef(invSetup, "create SagaDefinition %s: %v", definitionName, err)
		return false
	}
	r := &controllers.SagaDefinitionReconciler{Client: s.api.store, APIReader: s.api.store}
	if _, err := r.Reconcile(ctx, definitionRequest()); err != nil {
		s.violatef(invSetup, "reconcile SagaDefinition %s: %v", definitionName, err)
		return false
	}
	ready := meta.FindStatusCondition(s.definitionObject(ctx).Status.Conditions, v1.ConditionReady)
	if ready == nil || ready.Status != metav1.ConditionTrue {
		s.violatef(invSetup, "SagaDefinition %s is not Ready: %+v", definitionName, ready)
		return false
	}
	p := s.def.spec.RetryPolicy
	s.trace.addf("definition %s: created, Ready (%s): maxAttempts %d, initialBackoff %s, maxBackoff %s, stepTimeout %s",
		definitionName, ready.Message, p.MaxAttempts, p.InitialBackoff.Duration, p.MaxBackoff.Duration, s.def.spec.StepTimeout.Duration)
	return true
}

func definitionRequest() ctrl.Request {
	return ctrl.Request{NamespacedName: types.NamespacedName{Namespace: Namespace, Name: definitionName}}
}

// definitionObject is the definition as stored; nil once it is gone.
func (s *sim) definitionObject(ctx context.Context) *v1.SagaDefinition {
	obj := &v1.SagaDefinition{}
	if err := s.api.store.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: definitionName}, obj); err != nil {
		return nil
	}
	return obj
}

// reconcileDefinition runs the definition's real controller once, through the faulty API
// server, and checks it did not let the definition go while a Saga runs on it.
func (s *sim) reconcileDefinition(ctx context.Context) (ctrl.Result, error) {
	r := &controllers.SagaDefinitionReconciler{Client: s.api.client(), APIReader: s.api.live()}
	res, err := r.Reconcile(ctx, definitionRequest())
	if s.proc.dead {
		return res, err
	}
	if obj := s.definitionObject(ctx); obj != nil {
		state := "no Ready condition"
		if ready := meta.FindStatusCondition(obj.Status.Conditions, v1.ConditionReady); ready != nil {
			state = fmt.Sprintf("Ready %s, %s", ready.Status, ready.Message)
		}
		s.trace.addf("definition %s: reconciled: %s; %s", definitionName, state, resultText(res, err))
	} else {
		s.trace.addf("definition %s: reconciled: gone", definitionName)
		s.checkDefinitionKept()
	}
	return res, err
}
