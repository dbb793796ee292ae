package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/ordersaga"
	"github.com/ordersaga/ordersaga/internal/saga"
	"github.com/ordersaga/ordersaga/internal/sagadef"
)

// sagaKind is a kind of saga that describe, retry and abandon work on.
type sagaKind struct {
	// name is the kind as kubectl and this command's messages write it: ordersaga, saga.
	name string
	// apiKind is the API kind, as Events name what they are about.
	apiKind string
	// aliases are the other words for the kind in KIND/NAME: its plural and short name,
	// as kubectl accepts them.
	aliases []string
	// get reads one saga of the kind.
	get func(ctx context.Context, c client.Client, key client.ObjectKey) (*target, error)
}

// sagaKinds returns the kinds. The first, OrderSaga, is what a bare NAME names, as it was
// before Sagas existed.
func sagaKinds() []*sagaKind {
	return []*sagaKind{
		{name: "ordersaga", apiKind: "OrderSaga", aliases: []string{"ordersagas", "osaga"}, get: getOrderSaga},
		{name: "saga", apiKind: "Saga", aliases: []string{"sagas"}, get: getGenericSaga},
	}
}

// kindNamed returns the kind that word names, as kubectl reads a resource type: the kind,
// its plural or short name, any of them with the API group (sagas.saga.ordersaga.io),
// in any case. Nil: no such kind.
func kindNamed(word string) *sagaKind {
	word = strings.TrimSuffix(strings.ToLower(word), "."+v1.GroupVersion.Group)
	for _, k := range sagaKinds() {
		if word == k.name || slices.Contains(k.aliases, word) {
			return k
		}
	}
	return nil
}

// parseSagaArg reads the saga argument of describe, retry and abandon: KIND/NAME, as
// kubectl writes it (ordersaga/order-1002, saga/onboard-7), or a bare NAME, an OrderSaga.
func parseSagaArg(arg string) (*sagaKind, string, error) {
	word, name, typed := strings.Cut(arg, "/")
	if !typed {
		word, name = sagaKinds()[0].name, arg
	}
	k := kindNamed(word)
	switch {
	case k == nil:
		return nil, "", usageError("unknown kind %q in %q: want ordersaga/NAME or saga/NAME (a bare NAME is an ordersaga)", word, arg)
	case name == "" || strings.Contains(name, "/"):
		return nil, "", usageError("%q is not a saga: want NAME or KIND/NAME, such as ordersaga/order-1002 or saga/onboard-7", arg)
	}
	return k, name, nil
}

// target is one saga as the commands see it, whatever its kind.
type target struct {
	kind *sagaKind
	// obj is the object as read, for patches, deletion, its UID and its Events.
	obj client.Object
	// run is its status as the engine runs it (internal/ordersaga.ToRun for an OrderSaga).
	run     v1.SagaStatus
	suspend bool
	// details are the rows describe's header shows after the phase: what the saga runs on.
	details []row
	// compensation says what undoing a step does; onRollback names the call after a
	// rollback.
	compensation func(v1.StepName) string
	onRollback   string
	// outputs: describe lists the steps' outputs. An OrderSaga's outputs are fields of its
	// status, and its timeline shows the order and total in the header instead.
	outputs bool
	// plan returns the plan the saga runs, which abandon lists what is left undone by.
	plan func(ctx context.Context, c client.Client) (*saga.Plan, error)
}

// row is one "Key: value" line of describe's header; an empty value is left out.
type row struct{ key, value string }

// getSaga reads one saga; a missing one is a failure (exit 1), not a connection error.
func getSaga(ctx context.Context, c client.Client, k *sagaKind, ns, name string) (*target, error) {
	t, err := k.read(ctx, c, client.ObjectKey{Namespace: ns, Name: name})
	if apierrors.IsNotFound(err) {
		return nil, failure("%s %q not found in namespace %q", k.name, name, ns)
	}
	return t, err
}

// read reads the saga key of kind k.
func (k *sagaKind) read(ctx context.Context, c client.Client, key client.ObjectKey) (*target, error) {
	t, err := k.get(ctx, c, key)
	if err != nil {
		return nil, err
	}
	t.kind = k
	return t, nil
}

func getOrderSaga(ctx context.Context, c client.Client, key client.ObjectKey) (*target, error) {
	obj := &v1.OrderSaga{}
	if err := c.Get(ctx, key, obj); err != nil {
		return nil, fmt.Errorf("get ordersaga %s: %w", key, err)
	}
	return &target{
		obj:     obj,
		run:     ordersaga.ToRun(&obj.Status),
		suspend: obj.Spec.Suspend,
		details: []row{
			{"Order", orDash(obj.Status.OrderID)},
			{"Customer", obj.Spec.CustomerID},
			{"Total", joinNonEmpty(" ", obj.Status.Total, currencyOf(obj))},
			{"Items", items(obj)},
		},
		compensation: compensationName,
		onRollback:   "cancellation notice",
		plan: func(context.Context, client.Client) (*saga.Plan, error) {
			return ordersaga.Plan(&obj.Spec), nil
		},
	}, nil
}

func getGenericSaga(ctx context.Context, c client.Client, key client.ObjectKey) (*target, error) {
	obj := &v1.Saga{}
	if err := c.Get(ctx, key, obj); err != nil {
		return nil, fmt.Errorf("get saga %s: %w", key, err)
	}
	return &target{
		obj:          obj,
		run:          *obj.Status.DeepCopy(),
		suspend:      obj.Spec.Suspend,
		details:      []row{{"Definition", definitionOf(obj)}, {"Input", inputOf(obj)}},
		compensation: func(v1.StepName) string { return "compensation" },
		onRollback:   "onRollback",
		outputs:      true,
		plan: func(ctx context.Context, c client.Client) (*saga.Plan, error) {
			return definitionPlan(ctx, c, obj)
		},
	}, nil
}

// definitionOf names the SagaDefinition the saga runs on: the one pinned in its status, or,
// before it started, the one its spec names.
func definitionOf(obj *v1.Saga) string {
	if pin := obj.Status.Definition; pin != nil {
		return fmt.Sprintf("%s (uid %s)", pin.Name, pin.UID)
	}
	return obj.Spec.DefinitionRef.Name + " (not pinned yet: the saga has not started)"
}

// maxInputShown bounds the input describe prints, in bytes of compact JSON.
const maxInputShown = 160

// inputOf is the saga's input as compact JSON, cut short after maxInputShown bytes.
func inputOf(obj *v1.Saga) string {
	if obj.Spec.Input == nil || len(obj.Spec.Input.Raw) == 0 {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, obj.Spec.Input.Raw); err != nil {
		return string(obj.Spec.Input.Raw) // the API server stores JSON; print it as it is
	}
	s := b.String()
	if len(s) <= maxInputShown {
		return s
	}
	cut := maxInputShown
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// definitionPlan is the plan of the SagaDefinition a Saga started on, which it finishes on.
// A saga that never started has called nothing: its plan is empty. A definition that is
// gone, or was replaced under the same name, is a failure: the operator cannot release the
// saga either, as it needs that definition too.
func definitionPlan(ctx context.Context, c client.Client, obj *v1.Saga) (*saga.Plan, error) {
	pin := obj.Status.Definition
	if pin == nil {
		return &saga.Plan{}, nil
	}
	def := &v1.SagaDefinition{}
	key := client.ObjectKey{Namespace: obj.Namespace, Name: pin.Name}
	err := c.Get(ctx, key, def)
	switch {
	case apierrors.IsNotFound(err) || (err == nil && string(def.UID) != pin.UID):
		return nil, failure("saga %s/%s started on SagaDefinition %s (uid %s), which is gone: the operator cannot release the saga; "+
			"restore the definition, or clean up by hand and remove the saga's finalizer", obj.Namespace, obj.Name, pin.Name, pin.UID)
	case err != nil:
		return nil, fmt.Errorf("get sagadefinition %s: %w", key, err)
	}
	program, err := sagadef.Compile(ctx, &def.Spec)
	if err != nil {
		return nil, failure("SagaDefinition %s does not compile, so what saga %s/%s leaves undone is unknown: %w", key, obj.Namespace, obj.Name, err)
	}
	return program.Plan(), nil
}
