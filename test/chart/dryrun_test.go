package chart_test

import (
	"testing"
)

// TestChartObjectsPassAPIServerValidation renders every variant, CRDs included, and sends
// each object to the envtest API server with server-side dry-run: Deployments, the
// StatefulSet, Services, RBAC, NetworkPolicies, PodDisruptionBudgets, the ServiceMonitor,
// the replica-set Job and the CRD are all judged by the real server.
func TestChartObjectsPassAPIServerValidation(t *testing.T) {
	c := testCluster(t)
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			ns := "dry-" + v.name
			objs := render(t, v, ns, "--include-crds")
			if len(objs) < 20 {
				t.Fatalf("rendered only %d objects", len(objs))
			}
			c.dryRun(t, ns, objs)
		})
	}
}

// TestKustomizeDefaultPassesAPIServerValidation does the same for `kustomize build
// config/default`, the manifests `make deploy` applies.
func TestKustomizeDefaultPassesAPIServerValidation(t *testing.T) {
	c := testCluster(t)
	r := run(t, nil, tool(t, "kustomize"), "build", "config/default")
	if r.err != nil {
		t.Fatalf("kustomize build config/default: %v\n%s", r.err, r.stderr)
	}
	objs := decode(t, r.stdout)
	kinds := map[string]int{}
	for _, o := range objs {
		kinds[o.GetKind()]++
	}
	for _, kind := range []string{"Namespace", "CustomResourceDefinition", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Deployment"} {
		if kinds[kind] == 0 {
			t.Errorf("kustomize build config/default has no %s (kinds: %v)", kind, kinds)
		}
	}
	// dryRun creates the ordersaga-system namespace for real first; the Namespace object
	// itself is then dry-run updated.
	for _, o := range objs {
		if ns := o.GetNamespace(); ns != "" && ns != "ordersaga-system" {
			t.Errorf("%s %s is in namespace %q, want ordersaga-system", o.GetKind(), o.GetName(), ns)
		}
	}
	c.dryRun(t, "ordersaga-system", objs)
}
