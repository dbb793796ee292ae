package chart_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// mapAPI is what `helm template` must be told for it to render the MutatingAdmissionPolicy;
// `helm install` learns it from the cluster.
const mapAPI = "admissionregistration.k8s.io/v1/MutatingAdmissionPolicy"

// TestOperatorReplicasShard checks that operator.replicas > 1 runs sharded managers: each
// with --shards and its pod name, none with --leader-elect, with a PodDisruptionBudget and a
// preference for different nodes; that one replica keeps leader election and no PDB; and
// that either is replaced, not rolled, on an update.
func TestOperatorReplicasShard(t *testing.T) {
	t.Parallel()
	defaults := variant{name: "defaults"}
	one := render(t, defaults, "shard-one")
	if args := managerContainer(t, one).Args; !slices.Contains(args, "--leader-elect") || slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--shards") }) {
		t.Errorf("one replica: args %v, want --leader-elect and no --shards", args)
	}
	if pdbs := find(one, "PodDisruptionBudget"); len(pdbs) != 0 {
		t.Errorf("one replica: PodDisruptionBudgets %v, want none by default", keys(pdbs))
	}

	three := render(t, defaults, "shard-three", "--set", "operator.replicas=3")
	c := managerContainer(t, three)
	if !slices.Contains(c.Args, "--shards=3") || slices.Contains(c.Args, "--leader-elect") {
		t.Errorf("three replicas: args %v, want --shards=3 and no --leader-elect", c.Args)
	}
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "POD_NAME" && e.ValueFrom != nil }) {
		t.Errorf("three replicas: env %v, want POD_NAME from the pod's name (the replica's Lease)", c.Env)
	}
	if _, ok := find(three, "PodDisruptionBudget")[fullname(defaults)+"-operator"]; !ok {
		t.Errorf("three replicas: no operator PodDisruptionBudget in %v", keys(find(three, "PodDisruptionBudget")))
	}
	for name, objs := range map[string][]*unstructured.Unstructured{"one replica": one, "three replicas": three} {
		// Versions must not overlap in a rollout: they may roll back differently (ADR 0011).
		if s := operatorDeployment(t, objs).Spec.Strategy.Type; s != appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s: strategy %q, want Recreate", name, s)
		}
	}
	d := operatorDeployment(t, three)
	if a := d.Spec.Template.Spec.Affinity; a == nil || a.PodAntiAffinity == nil || len(a.PodAntiAffinity.PreferredDuringSchedulingIgnoredDuringExecution) != 1 {
		t.Errorf("three replicas: affinity %+v, want a preferred anti-affinity between the replicas", a)
	}
}

// TestAdmissionPolicyRendersWhereServed checks that the finalizer policy is rendered only
// where the API is served, and that with rbac.scope "namespace" it binds to the watched
// namespace alone.
func TestAdmissionPolicyRendersWhereServed(t *testing.T) {
	t.Parallel()
	defaults := variant{name: "defaults"}
	if got := find(render(t, defaults, "map-none"), "MutatingAdmissionPolicy"); len(got) != 0 {
		t.Errorf("without the API: rendered %v, want nothing", keys(got))
	}
	objs := render(t, defaults, "map-on", "--api-versions", mapAPI)
	if len(find(objs, "MutatingAdmissionPolicy")) != 1 || len(find(objs, "MutatingAdmissionPolicyBinding")) != 1 {
		t.Fatalf("with the API: want one policy and one binding")
	}
	if got := find(render(t, defaults, "map-off", "--api-versions", mapAPI, "--set", "admissionPolicy.enabled=false"), "MutatingAdmissionPolicy"); len(got) != 0 {
		t.Errorf("admissionPolicy.enabled=false: rendered %v", keys(got))
	}
	scoped := render(t, defaults, "map-scoped", "--api-versions", mapAPI, "--set", "rbac.scope=namespace")
	for _, b := range find(scoped, "MutatingAdmissionPolicyBinding") {
		sel, _, _ := unstructured.NestedString(b.Object, "spec", "matchResources", "namespaceSelector", "matchLabels", "kubernetes.io/metadata.name")
		if sel != "map-scoped" {
			t.Errorf("rbac.scope=namespace: binding selects namespace %q, want map-scoped", sel)
		}
	}
}

func operatorDeployment(t *testing.T, objs []*unstructured.Unstructured) appsv1.Deployment {
	t.Helper()
	for _, d := range deployments(t, objs) {
		if d.Spec.Template.Spec.Containers[0].Command[0] == "/manager" {
			return d
		}
	}
	t.Fatal("no operator Deployment")
	return appsv1.Deployment{}
}
