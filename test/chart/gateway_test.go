package chart_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// The gateway's rules: it reviews its callers' tokens and access (gatewayReviewRules, always
// a ClusterRole), reads and changes OrderSagas on their behalf and watches the sagas' Events
// (gatewaySagaRules: in the ClusterRole with rbac.scope=cluster, else a Role in the operator's
// namespace). Nothing more.
var (
	gatewayReviewRules = []rbacv1.PolicyRule{
		{APIGroups: []string{"authentication.k8s.io"}, Resources: []string{"tokenreviews"}, Verbs: []string{"create"}},
		{APIGroups: []string{"authorization.k8s.io"}, Resources: []string{"subjectaccessreviews"}, Verbs: []string{"create"}},
	}
	gatewaySagaRules = []rbacv1.PolicyRule{
		{APIGroups: []string{"saga.ordersaga.io"}, Resources: []string{"ordersagas"}, Verbs: []string{"get", "list", "watch", "create", "delete", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"events"}, Verbs: []string{"list", "watch"}},
	}
)

// shopFrontendRules are the example caller's Role in the release namespace.
var shopFrontendRules = []rbacv1.PolicyRule{
	{APIGroups: []string{"saga.ordersaga.io"}, Resources: []string{"ordersagas"}, Verbs: []string{"create", "get", "list", "watch", "delete", "patch"}},
}

// TestGateway checks the gateway in every variant: one Deployment of the chart's image running
// /gateway on port 8090 with the probes, its own ServiceAccount bound to exactly its
// ClusterRole (and with rbac.scope=namespace its Role, and --watch-namespace), the operator's
// service URLs, a Service whose selector finds its pods, and
// NetworkPolicies that let it reach the services but not the store and never select it; and
// the example shop front end's ServiceAccount, Role and RoleBinding in the release namespace.
func TestGateway(t *testing.T) {
	t.Parallel()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := "gw-" + v.name
			objs := render(t, v, ns)
			name := fullname(v) + "-gateway"
			d := gatewayDeployment(t, objs)
			if d.Name != name {
				t.Errorf("gateway Deployment %s, want %s", d.Name, name)
			}
			wantReplicas := int32(1)
			if v.name == "replica-set" {
				wantReplicas = 2
			}
			if got := deref(d.Spec.Replicas, -1); got != wantReplicas {
				t.Errorf("gateway replicas %d, want %d", got, wantReplicas)
			}
			pod := d.Spec.Template
			c := pod.Spec.Containers[0]
			checkGatewayContainer(t, objs, ns, c)
			scoped := v.name == "namespace-scoped-rbac"
			if watch := slices.Contains(c.Args, "--watch-namespace="+ns); watch != scoped {
				t.Errorf("gateway args %v: --watch-namespace=%s %t, want %t (rbac.scope=namespace)", c.Args, ns, watch, scoped)
			}
			sa := pod.Spec.ServiceAccountName
			if want := map[bool]string{true: "shop-gateway", false: name}[v.name == "namespace-scoped-rbac"]; sa != want {
				t.Errorf("gateway runs as ServiceAccount %q, want %q", sa, want)
			}
			if find(objs, "ServiceAccount")[sa] == nil || pod.Spec.AutomountServiceAccountToken == nil || !*pod.Spec.AutomountServiceAccountToken {
				t.Errorf("gateway: ServiceAccount %s rendered: %t, token mounted: %v; want both", sa, find(objs, "ServiceAccount")[sa] != nil, pod.Spec.AutomountServiceAccountToken)
			}
			checkGatewayRBAC(t, objs, name, ns, sa, scoped)
			checkGatewayService(t, objs, name, pod.Labels)
			checkGatewayNetwork(t, objs, pod.Labels)
			checkShopFrontend(t, objs, fullname(v)+"-shop-frontend", ns, v.name != "namespace-scoped-rbac")
		})
	}
}

// TestGatewayDisabled checks that gateway.enabled=false renders nothing of the gateway, and
// lets no gateway pod through the NetworkPolicies.
func TestGatewayDisabled(t *testing.T) {
	t.Parallel()
	objs := render(t, variant{name: "defaults"}, "gw-off", "--set", "gateway.enabled=false")
	for _, o := range objs {
		if c := o.GetLabels()["app.kubernetes.io/component"]; c == "gateway" || c == "shop-frontend" || strings.Contains(o.GetName(), "gateway") {
			t.Errorf("gateway.enabled=false renders %s %s", o.GetKind(), o.GetName())
		}
	}
	gatewayPod := map[string]string{"app.kubernetes.io/name": "ordersaga", "app.kubernetes.io/instance": "ordersaga", "app.kubernetes.io/component": "gateway"}
	for _, np := range networkPolicies(t, objs) {
		if admits(np, gatewayPod, 8080) {
			t.Errorf("gateway.enabled=false, yet NetworkPolicy %s admits gateway pods", np.Name)
		}
	}
}

// TestGatewayPodDisruptionBudget checks that podDisruptionBudget.enabled protects the gateway
// too.
func TestGatewayPodDisruptionBudget(t *testing.T) {
	t.Parallel()
	objs := render(t, variant{name: "defaults"}, "gw-pdb", "--set", "podDisruptionBudget.enabled=true")
	if _, ok := find(objs, "PodDisruptionBudget")["ordersaga-gateway"]; !ok {
		t.Errorf("no gateway PodDisruptionBudget among %v", keys(find(objs, "PodDisruptionBudget")))
	}
}

// gatewayDeployment is the one Deployment that runs /gateway.
func gatewayDeployment(t *testing.T, objs []*unstructured.Unstructured) appsv1.Deployment {
	t.Helper()
	var found []appsv1.Deployment
	for _, d := range deployments(t, objs) {
		if c := d.Spec.Template.Spec.Containers; len(c) > 0 && len(c[0].Command) > 0 && c[0].Command[0] == "/gateway" {
			found = append(found, d)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d Deployments run /gateway, want 1", len(found))
	}
	return found[0]
}

// checkGatewayContainer checks the image, the port and probes, the arguments the services are
// found by (the operator's own), and the namespace for callers who name none.
func checkGatewayContainer(t *testing.T, objs []*unstructured.Unstructured, ns string, c corev1.Container) {
	t.Helper()
	if want := operatorImage(t, objs); c.Image != want {
		t.Errorf("gateway image %s, want the chart's image %s", c.Image, want)
	}
	checkGatewayProbes(t, c)
	if !slices.Contains(c.Args, "--listen-address=:8090") || !slices.Contains(c.Args, "--services-namespace="+ns) {
		t.Errorf("gateway args %v, want --listen-address=:8090 and --services-namespace=%s", c.Args, ns)
	}
	if slices.ContainsFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--insecure-no-auth") }) {
		t.Errorf("gateway args %v turn authentication off", c.Args)
	}
	serviceArgs := func(args []string) []string {
		return slices.DeleteFunc(slices.Clone(args), func(a string) bool {
			return !strings.HasPrefix(a, "--service-url-template=") && !strings.HasPrefix(a, "--service-urls=") && !strings.HasPrefix(a, "--services-namespace=")
		})
	}
	if diff := cmp.Diff(serviceArgs(managerContainer(t, objs).Args), serviceArgs(c.Args)); diff != "" {
		t.Errorf("the gateway does not find the services as the operator does (-manager +gateway):\n%s", diff)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == "POD_NAMESPACE" && e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.namespace"
	}) {
		t.Errorf("gateway env %v, want POD_NAMESPACE from metadata.namespace", c.Env)
	}
}

// checkGatewayProbes checks the gateway's one port, 8090, and its probes on it.
func checkGatewayProbes(t *testing.T, c corev1.Container) {
	t.Helper()
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8090 || c.Ports[0].Name != "http" {
		t.Errorf("gateway ports %v, want http 8090", c.Ports)
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("gateway liveness probe %v, want GET /healthz on http", p)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" || p.HTTPGet.Port.String() != "http" {
		t.Errorf("gateway readiness probe %v, want GET /readyz on http", p)
	}
}

// checkGatewayRBAC checks the rules of the gateway's ClusterRole and, with rbac.scope
// namespace (scoped), its Role in ns, and that each binding names the gateway's
// ServiceAccount and nothing else.
func checkGatewayRBAC(t *testing.T, objs []*unstructured.Unstructured, name, ns, serviceAccount string, scoped bool) {
	t.Helper()
	clusterRules := slices.Concat(gatewayReviewRules, gatewaySagaRules)
	if scoped {
		clusterRules = gatewayReviewRules
		checkGatewayRole(t, objs, "Role", name, gatewaySagaRules, ns, serviceAccount)
	} else if find(objs, "Role")[name] != nil {
		t.Errorf("rbac.scope=cluster renders a gateway Role %s", name)
	}
	checkGatewayRole(t, objs, "ClusterRole", name, clusterRules, ns, serviceAccount)
}

// checkGatewayRole checks one role of kind (ClusterRole or Role) called name: its rules, and a
// binding of the same name and scope to the gateway's ServiceAccount in ns.
func checkGatewayRole(t *testing.T, objs []*unstructured.Unstructured, kind, name string, rules []rbacv1.PolicyRule, ns, serviceAccount string) {
	t.Helper()
	role := find(objs, kind)[name]
	if role == nil {
		t.Fatalf("no %s %s among %v", kind, name, keys(find(objs, kind)))
	}
	if diff := cmp.Diff(rules, rulesOf(t, role)); diff != "" {
		t.Errorf("%s %s rules (-want +got):\n%s", kind, name, diff)
	}
	o := find(objs, kind+"Binding")[name]
	if o == nil {
		t.Fatalf("no %sBinding %s", kind, name)
	}
	var b rbacv1.ClusterRoleBinding // a RoleBinding has the same fields
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &b); err != nil {
		t.Fatal(err)
	}
	want := []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: ns}}
	if b.RoleRef.Kind != kind || b.RoleRef.Name != name || !slices.Equal(b.Subjects, want) || role.GetNamespace() != o.GetNamespace() {
		t.Errorf("%sBinding %s binds %v to %v, want %s %s to %v", kind, name, b.RoleRef, b.Subjects, kind, name, want)
	}
}

// checkGatewayService checks that the Service listens on 8090 and selects the gateway's pods
// and no other.
func checkGatewayService(t *testing.T, objs []*unstructured.Unstructured, name string, podLabels map[string]string) {
	t.Helper()
	o := find(objs, "Service")[name]
	if o == nil {
		t.Fatalf("no Service %s", name)
	}
	var svc corev1.Service
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &svc); err != nil {
		t.Fatal(err)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 8090 || svc.Spec.Ports[0].TargetPort.String() != "http" {
		t.Errorf("Service %s ports %v, want 8090 to the container's http", name, svc.Spec.Ports)
	}
	for k, v := range svc.Spec.Selector {
		if podLabels[k] != v {
			t.Errorf("Service %s selects %s=%s, which the gateway's pods (labels %v) lack", name, k, v, podLabels)
		}
	}
	if svc.Spec.Selector["app.kubernetes.io/component"] != "gateway" {
		t.Errorf("Service %s selector %v, want the gateway component only", name, svc.Spec.Selector)
	}
}

// checkGatewayNetwork checks that, where NetworkPolicies are rendered, the services' admits
// the gateway on 8080, the store's does not, and none selects the gateway (its port stays
// open to callers, its egress to the API server and the services).
func checkGatewayNetwork(t *testing.T, objs []*unstructured.Unstructured, podLabels map[string]string) {
	t.Helper()
	for _, np := range networkPolicies(t, objs) {
		if selects(t, np.Spec.PodSelector, podLabels) {
			t.Errorf("NetworkPolicy %s selects the gateway's pods", np.Name)
		}
		switch {
		case strings.HasSuffix(np.Name, "-services") && !admits(np, podLabels, 8080):
			t.Errorf("NetworkPolicy %s does not let the gateway (labels %v) reach port 8080", np.Name, podLabels)
		case strings.HasSuffix(np.Name, "-mongodb") && admits(np, podLabels, 27017):
			t.Errorf("NetworkPolicy %s lets the gateway reach the store", np.Name)
		}
	}
}

// checkShopFrontend checks the example caller: a ServiceAccount with no token mounted, a Role
// with exactly its rules and a RoleBinding between them, all in ns; or none of them.
func checkShopFrontend(t *testing.T, objs []*unstructured.Unstructured, name, ns string, want bool) {
	t.Helper()
	sa, role, o := find(objs, "ServiceAccount")[name], find(objs, "Role")[name], find(objs, "RoleBinding")[name]
	if !want {
		if sa != nil || role != nil || o != nil {
			t.Errorf("gateway.shopFrontend.create=false renders the shop front end's objects")
		}
		return
	}
	if sa == nil || role == nil || o == nil {
		t.Fatalf("shop front end %s: ServiceAccount %t, Role %t, RoleBinding %t; want all three", name, sa != nil, role != nil, o != nil)
	}
	for _, obj := range []*unstructured.Unstructured{sa, role, o} {
		if obj.GetNamespace() != ns {
			t.Errorf("%s %s is in namespace %q, want the release namespace %s", obj.GetKind(), name, obj.GetNamespace(), ns)
		}
	}
	if diff := cmp.Diff(shopFrontendRules, rulesOf(t, role)); diff != "" {
		t.Errorf("Role %s rules (-want +got):\n%s", name, diff)
	}
	var rb rbacv1.RoleBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &rb); err != nil {
		t.Fatal(err)
	}
	subjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: name, Namespace: ns}}
	if rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != name || !slices.Equal(rb.Subjects, subjects) {
		t.Errorf("RoleBinding %s binds %v to %v, want Role %s to %v", name, rb.RoleRef, rb.Subjects, name, subjects)
	}
}
