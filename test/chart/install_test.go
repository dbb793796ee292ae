package chart_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ordersaga/ordersaga/internal/stepclient"
)

// TestHelmInstall installs the chart with its defaults into the envtest control plane the way
// docs/install.md says (`helm install ordersaga charts/ordersaga -n shop --create-namespace`),
// checks the objects it creates and that the operator's URL template names the chart's own
// Services, runs `helm test` far enough to see the API server accept its hooks, upgrades it
// (the MongoDB password must survive), and uninstalls it (the Secret must stay, with the data
// volumes). No pod runs in envtest.
func TestHelmInstall(t *testing.T) {
	c := testCluster(t)
	ctx := context.Background()
	const ns, release = "shop", "ordersaga"
	kube := []string{"--kubeconfig", c.kubeconfig, "--namespace", ns}

	out := helm(t, append([]string{"install", release, chartDir, "--create-namespace"}, kube...)...)
	for _, want := range []string{"kubectl -n shop apply -f config/samples/", "kubectl -n shop get ordersagas -w",
		"kubectl -n shop port-forward svc/ordersaga-gateway 8090:8090", "kubectl -n shop create token ordersaga-shop-frontend"} {
		if !strings.Contains(out, want) {
			t.Errorf("helm install NOTES do not tell %q:\n%s", want, out)
		}
	}

	exists := func(obj client.Object, name string, namespaced bool) {
		t.Helper()
		key := client.ObjectKey{Name: name}
		if namespaced {
			key.Namespace = ns
		}
		if err := c.client.Get(ctx, key, obj); err != nil {
			t.Errorf("after helm install, %T %s: %v", obj, name, err)
		}
	}
	for _, name := range []string{"operator", "order", "inventory", "payment", "shipping", "notification"} {
		exists(&appsv1.Deployment{}, release+"-"+name, true)
	}
	exists(&appsv1.StatefulSet{}, release+"-mongodb", true)
	exists(&corev1.Service{}, release+"-mongodb-headless", true)
	exists(&corev1.Service{}, release+"-operator-metrics", true)
	exists(&corev1.ServiceAccount{}, release+"-operator", true)
	exists(&rbacv1.ClusterRole{}, release+"-manager", false)
	exists(&rbacv1.ClusterRoleBinding{}, release+"-manager", false)
	exists(&rbacv1.Role{}, release+"-leader-election", true)
	exists(&rbacv1.RoleBinding{}, release+"-leader-election", true)
	exists(&networkingv1.NetworkPolicy{}, release+"-services", true)
	exists(&networkingv1.NetworkPolicy{}, release+"-mongodb", true)
	exists(&appsv1.Deployment{}, release+"-gateway", true)
	exists(&corev1.Service{}, release+"-gateway", true)
	exists(&corev1.ServiceAccount{}, release+"-gateway", true)
	exists(&rbacv1.ClusterRole{}, release+"-gateway", false)
	exists(&rbacv1.ClusterRoleBinding{}, release+"-gateway", false)
	exists(&corev1.ServiceAccount{}, release+"-shop-frontend", true)
	exists(&rbacv1.Role{}, release+"-shop-frontend", true)
	exists(&rbacv1.RoleBinding{}, release+"-shop-frontend", true)

	checkServiceURLs(t, c, ns, release)

	// No kubelet runs the test pod here, so helm test creates its hooks and then times out
	// waiting for the pod to finish.
	r := run(t, helmEnv(t), tool(t, "helm"), append([]string{"test", release, "--timeout", "5s"}, kube...)...)
	if r.err == nil {
		t.Errorf("helm test succeeded, but no pod can run in envtest:\n%s", r.stdout)
	}
	for _, obj := range []client.Object{&corev1.ServiceAccount{}, &rbacv1.Role{}, &rbacv1.RoleBinding{}, &corev1.Pod{}} {
		if err := c.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: release + "-helm-test"}, obj); err != nil {
			t.Errorf("after helm test, %T %s-helm-test: %v\nhelm test: %v\n%s", obj, release, err, r.err, r.stderr)
		}
	}

	secret := &corev1.Secret{}
	exists(secret, release+"-mongodb", true)
	password := string(secret.Data["mongodb-root-password"])
	if len(password) < 16 {
		t.Fatalf("generated MongoDB password is %d characters, want at least 16", len(password))
	}

	helm(t, append([]string{"upgrade", release, chartDir, "--set", "services.payment.declineAbove=1000.00"}, kube...)...)
	exists(secret, release+"-mongodb", true)
	if got := string(secret.Data["mongodb-root-password"]); got != password {
		t.Error("helm upgrade changed the MongoDB root password; it must be kept (lookup)")
	}

	helm(t, append([]string{"uninstall", release}, kube...)...)
	if err := c.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: release + "-mongodb"}, secret); err != nil {
		t.Errorf("helm uninstall removed the MongoDB Secret, which the volumes still need: %v", err)
	}
	err := c.client.Get(ctx, client.ObjectKey{Namespace: ns, Name: release + "-operator"}, &appsv1.Deployment{})
	if !apierrors.IsNotFound(err) {
		t.Errorf("after helm uninstall, the operator Deployment: %v, want not found", err)
	}
}

// checkServiceURLs resolves each service's URL as the manager would, from the installed
// operator Deployment's --service-url-template and --services-namespace, and checks it names
// an installed Service on port 8080.
func checkServiceURLs(t *testing.T, c *cluster, ns, release string) {
	t.Helper()
	dep := &appsv1.Deployment{}
	if err := c.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: release + "-operator"}, dep); err != nil {
		t.Fatal(err)
	}
	var r stepclient.Resolver
	for _, arg := range dep.Spec.Template.Spec.Containers[0].Args {
		if v, ok := strings.CutPrefix(arg, "--service-url-template="); ok {
			r.Template = v
		}
		if v, ok := strings.CutPrefix(arg, "--services-namespace="); ok {
			r.Namespace = v
		}
	}
	if r.Template == "" || r.Namespace != ns {
		t.Fatalf("operator args %v: want --service-url-template and --services-namespace=%s", dep.Spec.Template.Spec.Containers[0].Args, ns)
	}
	for _, name := range stepclient.Services() {
		u, err := url.Parse(r.BaseURL(name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		svcName, rest, _ := strings.Cut(u.Hostname(), ".")
		if rest != ns+".svc.cluster.local" || u.Port() != "8080" {
			t.Errorf("%s resolves to %s, want <service>.%s.svc.cluster.local:8080", name, u, ns)
			continue
		}
		svc := &corev1.Service{}
		if err := c.client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: svcName}, svc); err != nil {
			t.Errorf("%s resolves to %s, but Service %s: %v", name, u, svcName, err)
			continue
		}
		if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8080 {
			t.Errorf("Service %s ports %v, want 8080 only", svcName, svc.Spec.Ports)
		}
	}
}
