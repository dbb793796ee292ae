package sagasim

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// What the store must know of each kind it keeps: its resource, its status (which only
// the status subresource writes), and its spec (whose change bumps the generation). The
// store keeps OrderSagas, Sagas and SagaDefinitions; any other type is a bug of the
// simulator, and panics.

// resourceOf names the resource of obj, an object or a list, for keys and API errors.
func resourceOf(obj runtime.Object) schema.GroupResource {
	var resource string
	switch obj.(type) {
	case *v1.OrderSaga, *v1.OrderSagaList:
		resource = "ordersagas"
	case *v1.Saga, *v1.SagaList:
		resource = "sagas"
	case *v1.SagaDefinition, *v1.SagaDefinitionList:
		resource = "sagadefinitions"
	default:
		panic(fmt.Sprintf("sagasim: the API model stores OrderSagas, Sagas and SagaDefinitions only, not %T", obj))
	}
	return schema.GroupResource{Group: v1.GroupVersion.Group, Resource: resource}
}

func deepCopy(obj client.Object) client.Object {
	o, ok := obj.DeepCopyObject().(client.Object)
	if !ok {
		panic(fmt.Sprintf("sagasim: a copy of %T is not a client.Object", obj))
	}
	return o
}

// copyInto makes dst a deep copy of src, of the same kind.
func copyInto(dst, src client.Object) {
	switch d := dst.(type) {
	case *v1.OrderSaga:
		src.(*v1.OrderSaga).DeepCopyInto(d) //nolint:forcetypeassert // both come from the same key of the store
	case *v1.Saga:
		src.(*v1.Saga).DeepCopyInto(d) //nolint:forcetypeassert // as above
	case *v1.SagaDefinition:
		src.(*v1.SagaDefinition).DeepCopyInto(d) //nolint:forcetypeassert // as above
	default:
		resourceOf(dst) // panics
	}
}

// copyStatus sets dst's status to a copy of src's.
func copyStatus(dst, src client.Object) {
	switch d := dst.(type) {
	case *v1.OrderSaga:
		d.Status = *src.(*v1.OrderSaga).Status.DeepCopy() //nolint:forcetypeassert // both come from the same key of the store
	case *v1.Saga:
		d.Status = *src.(*v1.Saga).Status.DeepCopy() //nolint:forcetypeassert // as above
	case *v1.SagaDefinition:
		d.Status = *src.(*v1.SagaDefinition).Status.DeepCopy() //nolint:forcetypeassert // as above
	default:
		resourceOf(dst) // panics
	}
}

// sameSpec reports whether a and b, of the same kind, have equal specs.
func sameSpec(a, b client.Object) bool {
	switch x := a.(type) {
	case *v1.OrderSaga:
		return equality.Semantic.DeepEqual(&x.Spec, &b.(*v1.OrderSaga).Spec) //nolint:forcetypeassert // both come from the same key of the store
	case *v1.Saga:
		return equality.Semantic.DeepEqual(&x.Spec, &b.(*v1.Saga).Spec) //nolint:forcetypeassert // as above
	case *v1.SagaDefinition:
		return equality.Semantic.DeepEqual(&x.Spec, &b.(*v1.SagaDefinition).Spec) //nolint:forcetypeassert // as above
	}
	resourceOf(a) // panics
	return false
}

// fill sets the items of list to copies of objects, which are of the list's kind.
func fill(list client.ObjectList, objects []client.Object) {
	switch l := list.(type) {
	case *v1.OrderSagaList:
		l.Items = l.Items[:0]
		for _, o := range objects {
			l.Items = append(l.Items, *o.(*v1.OrderSaga).DeepCopy()) //nolint:forcetypeassert // stored under the list's resource
		}
	case *v1.SagaList:
		l.Items = l.Items[:0]
		for _, o := range objects {
			l.Items = append(l.Items, *o.(*v1.Saga).DeepCopy()) //nolint:forcetypeassert // as above
		}
	case *v1.SagaDefinitionList:
		l.Items = l.Items[:0]
		for _, o := range objects {
			l.Items = append(l.Items, *o.(*v1.SagaDefinition).DeepCopy()) //nolint:forcetypeassert // as above
		}
	default:
		resourceOf(list) // panics
	}
	list.SetContinue("")
}
