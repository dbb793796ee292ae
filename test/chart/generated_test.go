package chart_test

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// TestChartCRDsAreTheGeneratedOnes checks that charts/ordersaga/crds holds exactly the files
// of config/crd/bases, byte for byte, and files/manager-role.yaml is config/rbac/role.yaml:
// `make manifests` (hack/chart-sync.sh) keeps them so.
func TestChartCRDsAreTheGeneratedOnes(t *testing.T) {
	root := repoRoot(t)
	names := func(dir string) []string {
		files, err := filepath.Glob(filepath.Join(root, dir, "*.yaml"))
		if err != nil {
			t.Fatal(err)
		}
		out := make([]string, 0, len(files))
		for _, f := range files {
			out = append(out, filepath.Base(f))
		}
		slices.Sort(out)
		return out
	}
	generated, copied := names("config/crd/bases"), names(chartDir+"/crds")
	if len(generated) == 0 {
		t.Fatal("config/crd/bases holds no CRD")
	}
	if diff := cmp.Diff(generated, copied); diff != "" {
		t.Errorf("%s/crds files differ from config/crd/bases (-generated +chart); run hack/chart-sync.sh:\n%s", chartDir, diff)
	}
	same := func(a, b string) {
		want, err := os.ReadFile(filepath.Join(root, a))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(root, b))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(want, got) {
			t.Errorf("%s is not byte-identical to %s; run hack/chart-sync.sh", b, a)
		}
	}
	for _, name := range generated {
		if slices.Contains(copied, name) {
			same(filepath.Join("config/crd/bases", name), filepath.Join(chartDir, "crds", name))
		}
	}
	same("config/rbac/role.yaml", chartDir+"/files/manager-role.yaml")
}

// TestChartGrantsOnlyTheGeneratedRBAC checks that the manager's ClusterRole (cluster scope)
// or Role (namespace scope) has exactly the rules controller-gen derived from the
// +kubebuilder:rbac markers, and that the only other roles are leader election's, the
// `helm test` pod's, which may only read OrderSagas, the gateway's ClusterRole (in either
// scope: token and access reviews are cluster-scoped) and, with namespace scope, its Role, and
// the example shop front end's Role, each with exactly its rules.
func TestChartGrantsOnlyTheGeneratedRBAC(t *testing.T) {
	t.Parallel()
	generated := generatedRules(t)
	leaderElection := []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get", "list", "watch", "create", "update", "patch", "delete"}},
		{APIGroups: []string{"", "events.k8s.io"}, Resources: []string{"events"}, Verbs: []string{"create", "patch"}},
	}
	helmTest := []rbacv1.PolicyRule{
		{APIGroups: []string{"saga.ordersaga.io"}, Resources: []string{"ordersagas"}, Verbs: []string{"get", "list", "watch"}},
	}
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			objs := render(t, v, "rbac-"+v.name)
			prefix := fullname(v)
			managerKind, gatewayClusterRules := "ClusterRole", slices.Concat(gatewayReviewRules, gatewaySagaRules)
			if v.name == "namespace-scoped-rbac" {
				managerKind, gatewayClusterRules = "Role", gatewayReviewRules
				gateway := []string{prefix + "-gateway"}
				if got := keys(find(objs, "ClusterRole")); !slices.Equal(got, gateway) {
					t.Errorf("namespace scope renders ClusterRoles %v, want only the gateway's %v", got, gateway)
				}
				if got := keys(find(objs, "ClusterRoleBinding")); !slices.Equal(got, gateway) {
					t.Errorf("namespace scope renders ClusterRoleBindings %v, want only the gateway's %v", got, gateway)
				}
			}
			roles := find(objs, managerKind)
			manager := roles[prefix+"-manager"]
			if manager == nil {
				t.Fatalf("no %s %s-manager among %v", managerKind, prefix, keys(roles))
			}
			if diff := cmp.Diff(generated, rulesOf(t, manager)); diff != "" {
				t.Errorf("%s rules differ from config/rbac/role.yaml (-generated +chart):\n%s", managerKind, diff)
			}
			checkOtherRoles(t, objs, managerKind+"/"+prefix+"-manager", map[string][]rbacv1.PolicyRule{
				"Role/" + prefix + "-leader-election": leaderElection,
				"Role/" + prefix + "-helm-test":       helmTest,
				"ClusterRole/" + prefix + "-gateway":  gatewayClusterRules,
				"Role/" + prefix + "-gateway":         gatewaySagaRules,
				"Role/" + prefix + "-shop-frontend":   shopFrontendRules,
			})
		})
	}
}

// checkOtherRoles checks that besides the manager's role (kind/name) every ClusterRole or
// Role is one of others (by kind/name), with exactly its rules.
func checkOtherRoles(t *testing.T, objs []*unstructured.Unstructured, manager string, others map[string][]rbacv1.PolicyRule) {
	t.Helper()
	for _, kind := range []string{"ClusterRole", "Role"} {
		for name, role := range find(objs, kind) {
			want, ok := others[kind+"/"+name]
			switch {
			case kind+"/"+name == manager:
			case !ok:
				t.Errorf("unexpected %s %s grants %v", kind, name, rulesOf(t, role))
			default:
				if diff := cmp.Diff(want, rulesOf(t, role)); diff != "" {
					t.Errorf("%s %s rules (-want +got):\n%s", kind, name, diff)
				}
			}
		}
	}
}

// generatedRules reads the rules of config/rbac/role.yaml.
func generatedRules(t *testing.T) []rbacv1.PolicyRule {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "config/rbac/role.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var role rbacv1.ClusterRole
	if err := yaml.Unmarshal(data, &role); err != nil {
		t.Fatalf("config/rbac/role.yaml: %v", err)
	}
	if len(role.Rules) == 0 {
		t.Fatal("config/rbac/role.yaml has no rules")
	}
	return role.Rules
}

// rulesOf converts a rendered ClusterRole or Role's rules.
func rulesOf(t *testing.T, o *unstructured.Unstructured) []rbacv1.PolicyRule {
	t.Helper()
	var role rbacv1.ClusterRole
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &role); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return role.Rules
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
