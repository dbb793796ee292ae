package chart_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// TestChartDefaultsAreSecure checks, in every variant, that every pod runs as non-root with
// the RuntimeDefault seccomp profile and that every container (init containers too) has a
// read-only root filesystem, no privilege escalation, no capabilities and resources.
func TestChartDefaultsAreSecure(t *testing.T) {
	t.Parallel()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			pods := 0
			for _, o := range render(t, v, "sec-"+v.name) {
				spec, ok := podSpec(t, o)
				if !ok {
					continue
				}
				pods++
				checkPodSecurity(t, o.GetKind()+" "+o.GetName(), spec)
			}
			if pods < 7 {
				t.Errorf("found %d pod templates, want at least 7 (operator, 5 services, MongoDB)", pods)
			}
		})
	}
}

// checkPodSecurity checks the pod's own securityContext, then each container's.
func checkPodSecurity(t *testing.T, where string, spec corev1.PodSpec) {
	t.Helper()
	psc := spec.SecurityContext
	if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", where)
	}
	if psc == nil || psc.SeccompProfile == nil || psc.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: pod seccompProfile is not RuntimeDefault", where)
	}
	for _, c := range append(slices.Clone(spec.InitContainers), spec.Containers...) {
		checkContainerSecurity(t, where+" container "+c.Name, c)
	}
}

func checkContainerSecurity(t *testing.T, where string, c corev1.Container) {
	t.Helper()
	sc := c.SecurityContext
	switch {
	case sc == nil:
		t.Errorf("%s: no securityContext", where)
		return
	case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
		t.Errorf("%s: allowPrivilegeEscalation is not false", where)
	case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
		t.Errorf("%s: readOnlyRootFilesystem is not true", where)
	case sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL"):
		t.Errorf("%s: capabilities do not drop ALL", where)
	case len(sc.Capabilities.Add) > 0:
		t.Errorf("%s: adds capabilities %v", where, sc.Capabilities.Add)
	}
	if len(c.Resources.Requests) == 0 || len(c.Resources.Limits) == 0 {
		t.Errorf("%s: resources %v, want requests and limits", where, c.Resources)
	}
	if strings.HasSuffix(c.Image, ":latest") || !strings.Contains(c.Image, ":") {
		t.Errorf("%s: image %q has no pinned tag", where, c.Image)
	}
}

// TestChartWiring checks what the services and MongoDB promise in every variant: the
// probes, port 8080, fault injection off by default, labels, the NetworkPolicies, and
// MongoDB's size, probes and replica-set Job.
func TestChartWiring(t *testing.T) {
	t.Parallel()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			objs := render(t, v, "wire-"+v.name)
			checkLabels(t, objs)
			for _, d := range deployments(t, objs) {
				if c := d.Spec.Template.Spec.Containers[0]; c.Command[0] == "/services" {
					checkService(t, v, d.Name, c)
				}
			}
			wantPolicies := 2
			if v.name == "networkpolicy-off" {
				wantPolicies = 0
			}
			if got := len(find(objs, "NetworkPolicy")); got != wantPolicies {
				t.Errorf("%d NetworkPolicies, want %d", got, wantPolicies)
			}
			checkMongoDB(t, v, objs)
		})
	}
}

// checkLabels checks that every object carries the recommended labels.
func checkLabels(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	for _, o := range objs {
		for _, l := range []string{"app.kubernetes.io/name", "app.kubernetes.io/instance", "app.kubernetes.io/component", "app.kubernetes.io/managed-by", "app.kubernetes.io/part-of", "helm.sh/chart"} {
			if o.GetLabels()[l] == "" {
				t.Errorf("%s %s has no %s label", o.GetKind(), o.GetName(), l)
			}
		}
	}
}

// checkService checks a service's container: its probes and port, and, with the default
// values, fault injection off.
func checkService(t *testing.T, v variant, name string, c corev1.Container) {
	t.Helper()
	checkServiceProbes(t, name, c)
	if v.name != "defaults" {
		return
	}
	for env, want := range map[string]string{"FAULT_ERROR_RATE": "0", "FAULT_LATENCY": "0s", "ADMIN_API": "false"} {
		if got := envValue(c, env); got != want {
			t.Errorf("%s: %s=%q by default, want %q (fault injection off)", name, env, got, want)
		}
	}
}

func checkServiceProbes(t *testing.T, name string, c corev1.Container) {
	t.Helper()
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 8080 {
		t.Errorf("%s: ports %v, want 8080", name, c.Ports)
	}
	if p := c.LivenessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
		t.Errorf("%s: liveness probe is not GET /healthz", name)
	}
	if p := c.ReadinessProbe; p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/readyz" {
		t.Errorf("%s: readiness probe is not GET /readyz", name)
	}
}

func checkMongoDB(t *testing.T, v variant, objs []*unstructured.Unstructured) {
	t.Helper()
	sets := find(objs, "StatefulSet")
	if len(sets) != 1 {
		t.Fatalf("%d StatefulSets, want 1", len(sets))
	}
	for _, o := range sets {
		var sts appsv1.StatefulSet
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &sts); err != nil {
			t.Fatal(err)
		}
		replicas := *sts.Spec.Replicas
		wantReplicas, wantJobs := int32(1), 0
		if v.name == "replica-set" {
			wantReplicas, wantJobs = 3, 1
		}
		if replicas != wantReplicas {
			t.Errorf("MongoDB replicas %d, want %d", replicas, wantReplicas)
		}
		if got := len(find(objs, "Job")); got != wantJobs {
			t.Errorf("%d Jobs, want %d (the replica-set init Job)", got, wantJobs)
		}
		probe := sts.Spec.Template.Spec.Containers[0].ReadinessProbe
		if probe == nil || probe.Exec == nil || !slices.Contains(probe.Exec.Command, "mongosh") ||
			!slices.Contains(probe.Exec.Command, `db.adminCommand("ping")`) {
			t.Errorf("MongoDB readiness probe %v, want mongosh --eval 'db.adminCommand(\"ping\")'", probe)
		}
		if n := len(sts.Spec.VolumeClaimTemplates); n != 1 {
			t.Errorf("%d volumeClaimTemplates, want 1", n)
		}
	}
	secrets := find(objs, "Secret")
	if v.name == "existing-secret" && len(secrets) != 0 {
		t.Errorf("existingSecret renders Secrets %v, want none", keys(secrets))
	}
	if v.name != "existing-secret" && len(secrets) != 1 {
		t.Errorf("Secrets %v, want the one MongoDB Secret", keys(secrets))
	}
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// podSpec returns the pod template spec of a Deployment, StatefulSet or Job.
func podSpec(t *testing.T, o *unstructured.Unstructured) (corev1.PodSpec, bool) {
	t.Helper()
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "Job":
	default:
		return corev1.PodSpec{}, false
	}
	m, found, err := unstructured.NestedMap(o.Object, "spec", "template", "spec")
	if err != nil || !found {
		t.Fatalf("%s %s: no pod template: %v", o.GetKind(), o.GetName(), err)
	}
	var spec corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return spec, true
}
