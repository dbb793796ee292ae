// Package auth identifies a gateway caller by its bearer token and asks the API server
// what it may do: TokenReview for who, SubjectAccessReview for each operation. The
// cluster's own RBAC is the gateway's only policy.
package auth

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"
	"k8s.io/client-go/kubernetes"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// ErrUnauthenticated is returned for a missing, malformed, expired or revoked token.
var ErrUnauthenticated = errors.New("unauthenticated")

// Caller is who makes a request.
type Caller struct {
	Username string
	UID      string
	Groups   []string
	Extra    map[string]authzv1.ExtraValue
	// Namespace is where the caller acts unless an operation names another: a
	// ServiceAccount's own namespace, or the gateway's default for anyone else.
	Namespace string
	// Unchecked is set when the gateway runs with --insecure-no-auth: every operation is
	// allowed.
	Unchecked bool
}

// Verb is what an operation does to ordersagas.
type Verb string

// The verbs the gateway checks.
const (
	VerbCreate Verb = "create"
	VerbGet    Verb = "get"
	VerbList   Verb = "list"
	VerbDelete Verb = "delete"
	VerbPatch  Verb = "patch"
)

// DeniedError says that the caller may not do verb on ordersagas in namespace.
type DeniedError struct {
	Username, Namespace string
	Verb                Verb
	Reason              string
}

func (e *DeniedError) Error() string {
	msg := fmt.Sprintf("%s may not %s ordersagas in namespace %q", e.Username, e.Verb, e.Namespace)
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Options configure a Checker.
type Options struct {
	// DefaultNamespace is the namespace of a caller whose identity names none.
	DefaultNamespace string
	// Insecure skips TokenReview and SubjectAccessReview: every request is an anonymous
	// caller allowed everything. For the local stack only.
	Insecure bool
	// CacheTTL is how long an answer of the API server is reused for the same token, or
	// the same caller, verb and namespace; zero disables reuse.
	CacheTTL time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Checker authenticates tokens and authorizes operations through the API server.
type Checker struct {
	kube kubernetes.Interface
	opts Options

	mu      sync.Mutex
	callers map[[sha256.Size]byte]cached[*Caller]
	allowed map[string]cached[string] // "" when allowed, else the reason
}

type cached[T any] struct {
	value   T
	expires time.Time
}

// maxCached bounds each cache; when full it is emptied, which only costs API calls.
const maxCached = 4096

// NewChecker returns a Checker that asks kube.
func NewChecker(kube kubernetes.Interface, opts Options) *Checker {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Checker{
		kube:    kube,
		opts:    opts,
		callers: map[[sha256.Size]byte]cached[*Caller]{},
		allowed: map[string]cached[string]{},
	}
}

// Authenticate returns the caller that the Authorization header value names.
func (c *Checker) Authenticate(ctx context.Context, header string) (*Caller, error) {
	if c.opts.Insecure {
		return &Caller{Username: "system:anonymous", Namespace: c.opts.DefaultNamespace, Unchecked: true}, nil
	}
	token, ok := bearer(header)
	if !ok {
		return nil, fmt.Errorf("%w: send Authorization: Bearer <ServiceAccount token>", ErrUnauthenticated)
	}
	key := sha256.Sum256([]byte(token))
	if caller, ok := lookup(c, c.callers, key); ok {
		return caller, nil
	}
	review, err := c.kube.AuthenticationV1().TokenReviews().Create(ctx, &authnv1.TokenReview{
		Spec: authnv1.TokenReviewSpec{Token: token},
	}, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("token review: %w", err)
	}
	if !review.Status.Authenticated {
		reason := review.Status.Error
		if reason == "" {
			reason = "the API server did not accept the token"
		}
		return nil, fmt.Errorf("%w: %s", ErrUnauthenticated, reason)
	}
	caller := callerOf(review.Status.User, c.opts.DefaultNamespace)
	store(c, c.callers, key, caller)
	return caller, nil
}

// Authorize returns nil when caller may do verb on ordersagas in namespace, and a
// *DeniedError when it may not.
func (c *Checker) Authorize(ctx context.Context, caller *Caller, verb Verb, namespace string) error {
	if caller.Unchecked {
		return nil
	}
	key := strings.Join([]string{caller.UID, caller.Username, string(verb), namespace}, "\x00")
	reason, ok := lookup(c, c.allowed, key)
	if !ok {
		review, err := c.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{
			Spec: authzv1.SubjectAccessReviewSpec{
				User:   caller.Username,
				UID:    caller.UID,
				Groups: caller.Groups,
				Extra:  caller.Extra,
				ResourceAttributes: &authzv1.ResourceAttributes{
					Namespace: namespace,
					Verb:      string(verb),
					Group:     v1.GroupVersion.Group,
					Resource:  "ordersagas",
				},
			},
		}, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("subject access review: %w", err)
		}
		reason = ""
		if !review.Status.Allowed {
			reason = review.Status.Reason
			if reason == "" {
				reason = "no RBAC rule allows it"
			}
		}
		store(c, c.allowed, key, reason)
	}
	if reason != "" {
		return &DeniedError{Username: caller.Username, Namespace: namespace, Verb: verb, Reason: reason}
	}
	return nil
}

func bearer(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

func callerOf(user authnv1.UserInfo, defaultNamespace string) *Caller {
	caller := &Caller{Username: user.Username, UID: user.UID, Groups: user.Groups, Namespace: defaultNamespace}
	if len(user.Extra) > 0 {
		caller.Extra = make(map[string]authzv1.ExtraValue, len(user.Extra))
		for k, v := range user.Extra {
			caller.Extra[k] = authzv1.ExtraValue(v)
		}
	}
	if ns, _, err := serviceaccount.SplitUsername(user.Username); err == nil {
		caller.Namespace = ns
	}
	return caller
}

func lookup[K comparable, V any](c *Checker, m map[K]cached[V], key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	entry, ok := m[key]
	if !ok || !c.opts.Now().Before(entry.expires) {
		var zero V
		return zero, false
	}
	return entry.value, true
}

func store[K comparable, V any](c *Checker, m map[K]cached[V], key K, value V) {
	if c.opts.CacheTTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(m) >= maxCached {
		clear(m)
	}
	m[key] = cached[V]{value: value, expires: c.opts.Now().Add(c.opts.CacheTTL)}
}

type callerKey struct{}

// WithCaller returns ctx carrying caller.
func WithCaller(ctx context.Context, caller *Caller) context.Context {
	return context.WithValue(ctx, callerKey{}, caller)
}

// CallerFrom returns the caller in ctx, if any.
func CallerFrom(ctx context.Context) (*Caller, bool) {
	caller, ok := ctx.Value(callerKey{}).(*Caller)
	return caller, ok && caller != nil
}
