// Package graph resolves the gateway's GraphQL schema (api/graphql/schema.graphqls):
// sagas from the informer cache and the API server, what the services know through the
// request's backend.Loader, every operation checked with the caller's own RBAC.
package graph

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/gateway/auth"
	"github.com/ordersaga/ordersaga/internal/gateway/backend"
	"github.com/ordersaga/ordersaga/internal/gateway/watch"
)

// Labels and annotations the gateway puts on what it creates.
const (
	// CustomerLabel holds a hash of spec.customerId, so that orders(customerId) is a label
	// selector (a customer ID is free text; a label value is not).
	CustomerLabel = "gateway.ordersaga.io/customer"
	// ManagedByLabel marks sagas the gateway placed.
	ManagedByLabel = "app.kubernetes.io/managed-by"
	// ManagedBy is ManagedByLabel's value.
	ManagedBy = "ordersaga-gateway"
	// IdempotencyKeyAnnotation is the key that placed the saga.
	IdempotencyKeyAnnotation = "gateway.ordersaga.io/idempotency-key"
	// RequestHashAnnotation is the SHA-256 of the spec the key placed: a retried call with
	// the same payload matches it, another payload does not.
	RequestHashAnnotation = "gateway.ordersaga.io/request-sha256"
)

// Resolver holds what every resolver needs.
type Resolver struct {
	// Cache reads sagas from the informer cache.
	Cache client.Reader
	// API reads from the API server, for what the cache may not have seen yet.
	API client.Reader
	// Writer creates, deletes and patches sagas.
	Writer client.Writer
	// Auth identifies callers and checks their RBAC.
	Auth *auth.Checker
	// Broker feeds subscriptions from the informer.
	Broker *watch.Broker
	// MaxPageSize bounds orders(first).
	MaxPageSize int
}

// scope returns the namespace the operation acts in, once the caller may
// do verb there.
func (r *Resolver) scope(ctx context.Context, namespace *string, verb auth.Verb) (string, error) {
	caller, err := callerOf(ctx)
	if err != nil {
		return "", err
	}
	ns := caller.Namespace
	if namespace != nil && *namespace != "" {
		ns = *namespace
	}
	if err := r.Auth.Authorize(ctx, caller, verb, ns); err != nil {
		return "", err
	}
	return ns, nil
}

// callerKey carries the outcome of authenticating the request: the middleware and the
// WebSocket init set it, resolvers read it.
type callerKey struct{}

type callerResult struct {
	caller *auth.Caller
	err    error
}

// WithAuthentication returns ctx carrying the outcome of authenticating the request.
func WithAuthentication(ctx context.Context, caller *auth.Caller, err error) context.Context {
	return context.WithValue(ctx, callerKey{}, callerResult{caller, err})
}

func callerOf(ctx context.Context) (*auth.Caller, error) {
	res, ok := ctx.Value(callerKey{}).(callerResult)
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: no credentials", auth.ErrUnauthenticated)
	case res.err != nil:
		return nil, res.err
	}
	return res.caller, nil
}

func loaderOf(ctx context.Context) (*backend.Loader, error) {
	l, ok := backend.LoaderFrom(ctx)
	if !ok {
		return nil, errors.New("no backend loader in the request context")
	}
	return l, nil
}

// stepRecord is the record that a step of the saga made in a service, read through the
// request's loader: null before the step has given it an ID, and null when the service
// has no record under it (a create that was compensated before it arrived).
func stepRecord[R, V any](ctx context.Context, id string, read func(*backend.Loader) (*R, error), view func(*R) *V) (*V, error) {
	if id == "" {
		return nil, nil //nolint:nilnil // null: the step that makes it has not run
	}
	l, err := loaderOf(ctx)
	if err != nil {
		return nil, err
	}
	record, err := read(l)
	switch {
	case errors.Is(err, backend.ErrNotFound):
		return nil, nil //nolint:nilnil // null: the service has no record
	case err != nil:
		return nil, err
	}
	return view(record), nil
}

// getSaga reads a saga from the cache, or from the API server when the cache has not
// seen it yet (an order placed a moment ago).
func (r *Resolver) getSaga(ctx context.Context, key types.NamespacedName) (*v1.OrderSaga, error) {
	saga := &v1.OrderSaga{}
	err := r.Cache.Get(ctx, key, saga)
	if apierrors.IsNotFound(err) {
		err = r.API.Get(ctx, key, saga)
	}
	if apierrors.IsNotFound(err) {
		return nil, errorf("NOT_FOUND", "no order %q in namespace %q", key.Name, key.Namespace)
	}
	if err != nil {
		return nil, fmt.Errorf("read order %s: %w", key, err)
	}
	return saga, nil
}

// NameFor is the saga name an idempotency key places: the same key, the same name.
func NameFor(idempotencyKey string) string {
	sum := sha256.Sum256([]byte(idempotencyKey))
	return "order-" + hex.EncodeToString(sum[:8])
}

// CustomerHash is CustomerLabel's value for a customer ID.
func CustomerHash(customerID string) string {
	sum := sha256.Sum256([]byte(customerID))
	return hex.EncodeToString(sum[:16])
}

func specHash(spec *v1.OrderSagaSpec) (string, error) {
	b, err := json.Marshal(spec)
	if err != nil {
		return "", fmt.Errorf("encode spec: %w", err)
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}

// listSagas returns the sagas of namespace that pass keep, newest first. They are the
// cache's own objects: read them, never change them.
func (r *Resolver) listSagas(ctx context.Context, namespace string, selector client.MatchingLabels, keep func(*v1.OrderSaga) bool) ([]*v1.OrderSaga, error) {
	var list v1.OrderSagaList
	opts := []client.ListOption{client.InNamespace(namespace), client.UnsafeDisableDeepCopy}
	if selector != nil {
		opts = append(opts, selector)
	}
	if err := r.Cache.List(ctx, &list, opts...); err != nil {
		return nil, fmt.Errorf("list orders in %s: %w", namespace, err)
	}
	out := make([]*v1.OrderSaga, 0, len(list.Items))
	for i := range list.Items {
		if keep == nil || keep(&list.Items[i]) {
			out = append(out, &list.Items[i])
		}
	}
	return sortNewestFirst(out), nil
}

// sortNewestFirst sorts sagas by creation time, newest first, and then by name.
func sortNewestFirst(sagas []*v1.OrderSaga) []*v1.OrderSaga {
	slices.SortFunc(sagas, func(a, b *v1.OrderSaga) int {
		if c := b.CreationTimestamp.Compare(a.CreationTimestamp.Time); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return sagas
}

// A cursor is the position of an order in newest-first order: its creation time and name.
func cursorOf(saga *v1.OrderSaga) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(saga.CreationTimestamp.Unix(), 10) + "/" + saga.Name))
}

// after returns the index of the first saga after the cursor.
func after(sagas []*v1.OrderSaga, cursor string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, fieldError("after", "is not a cursor this API returned")
	}
	secs, name, ok := strings.Cut(string(raw), "/")
	unix, perr := strconv.ParseInt(secs, 10, 64)
	if !ok || perr != nil {
		return 0, fieldError("after", "is not a cursor this API returned")
	}
	at := metav1.NewTime(time.Unix(unix, 0))
	idx, _ := slices.BinarySearchFunc(sagas, at, func(s *v1.OrderSaga, t metav1.Time) int {
		return t.Compare(s.CreationTimestamp.Time)
	})
	for idx < len(sagas) && sagas[idx].CreationTimestamp.Equal(&at) && sagas[idx].Name <= name {
		idx++
	}
	return idx, nil
}
