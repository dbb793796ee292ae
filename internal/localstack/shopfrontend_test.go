package localstack

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// TestShopFrontendToken checks, on the stack's own control plane, what the gateway relies on
// there: the envtest kube-apiserver issues a ServiceAccount token through the TokenRequest
// API (it runs with service-account signing keys), accepts it in a TokenReview as the shop
// front end, and answers SubjectAccessReviews for it from the Role: OrderSagas and their
// Events in its namespace, nothing elsewhere, no Secrets.
func TestShopFrontendToken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kube-apiserver and etcd; skipped with -short")
	}
	ctrllog.SetLogger(logr.Discard())
	root, err := mongoserver.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	s := &Stack{opts: Options{Root: root, StateDir: t.TempDir(), Assets: os.Getenv("KUBEBUILDER_ASSETS")}}
	if err := s.startControlPlane(ctx); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.env.Stop(); err != nil {
			t.Errorf("stop the control plane: %v", err)
		}
	}()
	if err := s.createShopFrontend(ctx); err != nil {
		t.Fatal(err)
	}
	if lifetime := tokenLifetime(t, s.ShopToken); lifetime != shopTokenSeconds {
		t.Errorf("the token is valid for %d s, want %d", lifetime, shopTokenSeconds)
	}
	cs, err := kubernetes.NewForConfig(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	review, err := cs.AuthenticationV1().TokenReviews().Create(ctx,
		&authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: s.ShopToken}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("TokenReview: %v", err)
	}
	const user = "system:serviceaccount:" + ShopNamespace + ":" + ShopFrontend
	if !review.Status.Authenticated || review.Status.User.Username != user {
		t.Fatalf("TokenReview: authenticated %t as %q (%s), want %s", review.Status.Authenticated, review.Status.User.Username, review.Status.Error, user)
	}
	cases := []struct {
		verb, group, resource, namespace string
		allowed                          bool
	}{
		{"create", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"get", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"list", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"watch", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"patch", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"delete", "saga.ordersaga.io", "ordersagas", ShopNamespace, true},
		{"list", "", "events", ShopNamespace, true},
		{"watch", "", "events", ShopNamespace, true},
		{"update", "saga.ordersaga.io", "ordersagas", ShopNamespace, false},
		{"list", "saga.ordersaga.io", "ordersagas", "kube-system", false},
		{"get", "", "secrets", ShopNamespace, false},
	}
	for _, c := range cases {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:   review.Status.User.Username,
			Groups: review.Status.User.Groups,
			UID:    review.Status.User.UID,
			ResourceAttributes: &authorizationv1.ResourceAttributes{
				Namespace: c.namespace, Verb: c.verb, Group: c.group, Resource: c.resource,
			},
		}}
		got, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("SubjectAccessReview: %v", err)
		}
		if got.Status.Allowed != c.allowed {
			t.Errorf("may %s %s %s in %s: %t (%s), want %t", user, c.verb, c.resource, c.namespace, got.Status.Allowed, got.Status.Reason, c.allowed)
		}
	}
}

// tokenLifetime reads exp - iat from the token's claims (a JWT the API server signed).
func tokenLifetime(t *testing.T, token string) int64 {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("the token has %d parts, want a JWT's 3", len(parts))
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatalf("the token's claims: %v", err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
		Iat int64 `json:"iat"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatalf("the token's claims: %v", err)
	}
	return claims.Exp - claims.Iat
}
