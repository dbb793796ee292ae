package localstack

import (
	"context"
	"fmt"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// ShopFrontend is the ServiceAccount, Role and RoleBinding the stack creates in
// ShopNamespace for a shop front end that calls the gateway: like the chart's example caller,
// it may run OrderSagas there and read their Events, and nothing else.
const (
	ShopFrontend  = "shop-frontend"
	ShopNamespace = "default"
)

// shopTokenSeconds is how long ShopToken is valid: longer than any `make run-local`.
const shopTokenSeconds = 24 * 60 * 60

// shopFrontendRules are the rules of the shop front end's Role.
func shopFrontendRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{
		{APIGroups: []string{v1.GroupVersion.Group}, Resources: []string{"ordersagas"}, Verbs: []string{"get", "list", "watch", "create", "delete", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list", "watch"}},
	}
}

func (s *Stack) createShopFrontend(ctx context.Context) error {
	token, err := shopFrontendToken(ctx, s.Config)
	if err != nil {
		return err
	}
	s.ShopToken = token
	return nil
}

// shopFrontendToken creates the shop front end's ServiceAccount, Role and RoleBinding with
// the admin config cfg, and returns a token of the ServiceAccount from the TokenRequest API,
// signed by the API server and valid for a day.
func shopFrontendToken(ctx context.Context, cfg *rest.Config) (string, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return "", fmt.Errorf("create a clientset: %w", err)
	}
	meta := metav1.ObjectMeta{Name: ShopFrontend, Namespace: ShopNamespace}
	if _, err := cs.CoreV1().ServiceAccounts(ShopNamespace).Create(ctx, &corev1.ServiceAccount{ObjectMeta: meta}, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create ServiceAccount %s/%s: %w", ShopNamespace, ShopFrontend, err)
	}
	if _, err := cs.RbacV1().Roles(ShopNamespace).Create(ctx, &rbacv1.Role{ObjectMeta: meta, Rules: shopFrontendRules()}, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create Role %s/%s: %w", ShopNamespace, ShopFrontend, err)
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: meta,
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: ShopFrontend},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: ShopFrontend, Namespace: ShopNamespace}},
	}
	if _, err := cs.RbacV1().RoleBindings(ShopNamespace).Create(ctx, binding, metav1.CreateOptions{}); err != nil {
		return "", fmt.Errorf("create RoleBinding %s/%s: %w", ShopNamespace, ShopFrontend, err)
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](shopTokenSeconds)}}
	tr, err := cs.CoreV1().ServiceAccounts(ShopNamespace).CreateToken(ctx, ShopFrontend, req, metav1.CreateOptions{})
	if err != nil {
		return "", fmt.Errorf("request a token of ServiceAccount %s/%s: %w", ShopNamespace, ShopFrontend, err)
	}
	return tr.Status.Token, nil
}
