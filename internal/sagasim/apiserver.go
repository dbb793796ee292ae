package sagasim

import (
	"context"
	"fmt"
	"strconv"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// apiServer is the model of the Kubernetes API: controller-runtime's fake client, which
// keeps resourceVersions and refuses a stale optimistic-lock write with a conflict, and
// in front of it, for the reconciler only, interceptors that crash, lose writes, lose
// replies and let a concurrent writer change the object first.
type apiServer struct {
	sim *sim
	// store is the API server itself; the simulator's own changes (a user's kubectl) go
	// to it directly.
	store client.WithWatch
	// archive keeps the last stored version of every saga, so that the invariants can
	// judge a saga that was deleted once it finished.
	archive map[string]*v1.OrderSaga
}

var sagaResource = schema.GroupResource{Group: v1.GroupVersion.Group, Resource: "ordersagas"}

func newAPIServer(s *sim) (*apiServer, error) {
	scheme := runtime.NewScheme()
	if err := v1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("register the OrderSaga API: %w", err)
	}
	store := fake.NewClientBuilder().WithScheme(scheme).WithStatusSubresource(&v1.OrderSaga{}).Build()
	return &apiServer{sim: s, store: store, archive: map[string]*v1.OrderSaga{}}, nil
}

// client returns the client the reconciler uses.
func (a *apiServer) client() client.WithWatch {
	return interceptor.NewClient(a.store, interceptor.Funcs{
		Get: func(ctx context.Context, c client.WithWatch, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
			if a.sim.proc.dead {
				return errCrashed
			}
			return c.Get(ctx, key, obj, opts...)
		},
		Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			return a.write(ctx, "patch", obj, func() error { return c.Patch(ctx, obj, patch, opts...) })
		},
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			return a.write(ctx, "update", obj, func() error { return c.Update(ctx, obj, opts...) })
		},
		Delete: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.DeleteOption) error {
			return a.write(ctx, "delete", obj, func() error {
				err := c.Delete(ctx, obj, opts...)
				if err == nil { // deletionTimestamp passes the controller's predicate: a watch event
					a.sim.enqueue(obj.GetName(), a.sim.clock.Now())
				}
				return err
			})
		},
		SubResourcePatch: func(ctx context.Context, c client.Client, sub string, obj client.Object, patch client.Patch, opts ...client.SubResourcePatchOption) error {
			return a.write(ctx, sub+" patch", obj, func() error { return c.SubResource(sub).Patch(ctx, obj, patch, opts...) })
		},
		SubResourceUpdate: func(ctx context.Context, c client.Client, sub string, obj client.Object, opts ...client.SubResourceUpdateOption) error {
			return a.write(ctx, sub+" update", obj, func() error { return c.SubResource(sub).Update(ctx, obj, opts...) })
		},
	})
}

// write sends one write of the reconciler, with the fault the schedule draws for it.
func (a *apiServer) write(ctx context.Context, verb string, obj client.Object, do func() error) error {
	s := a.sim
	name := obj.GetName()
	if !s.proc.op() {
		s.trace.add("%s: crash before %s", name, verb)
		return errCrashed
	}
	switch f := s.draw(s.faults.write); f {
	case writeLost:
		s.trace.add("%s: %s lost before it reached the API server", name, verb)
		return apierrors.NewServiceUnavailable("sagasim: write lost")
	case writeRaced:
		s.externalChange(ctx, name, "during "+verb)
	case writeReplyLost:
		err := do()
		a.remember(ctx, name)
		s.trace.add("%s: %s applied (err=%v), reply lost", name, verb, errText(err))
		return apierrors.NewTimeoutError("sagasim: reply lost", 1)
	}
	err := do()
	a.remember(ctx, name)
	if err != nil {
		s.trace.add("%s: %s refused: %v", name, verb, errText(err))
	}
	return err
}

// remember archives the stored version of a saga after a write.
func (a *apiServer) remember(ctx context.Context, name string) {
	obj := &v1.OrderSaga{}
	if err := a.store.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, obj); err == nil {
		a.archive[string(obj.UID)] = obj
	}
}

// get reads a saga from the store; found is false once it is gone.
func (a *apiServer) get(ctx context.Context, name string) (*v1.OrderSaga, bool) {
	obj := &v1.OrderSaga{}
	if err := a.store.Get(ctx, client.ObjectKey{Namespace: Namespace, Name: name}, obj); err != nil {
		return nil, false
	}
	return obj, true
}

// mutate applies a user's change to a saga, as kubectl would: read, change, update
// (which bumps the resourceVersion, so that a write of the reconciler in flight conflicts).
func (a *apiServer) mutate(ctx context.Context, name string, change func(*v1.OrderSaga)) bool {
	obj, ok := a.get(ctx, name)
	if !ok {
		return false
	}
	change(obj)
	if err := a.store.Update(ctx, obj); err != nil {
		a.sim.trace.add("%s: user update refused: %v", name, err)
		return false
	}
	a.remember(ctx, name)
	return true
}

// nextToken is a fresh annotation or label value.
func (a *apiServer) nextToken() string {
	a.sim.tokens++
	return "t" + strconv.Itoa(a.sim.tokens)
}

func errText(err error) string {
	if err == nil {
		return "none"
	}
	if apierrors.IsConflict(err) {
		return "Conflict"
	}
	return err.Error()
}
