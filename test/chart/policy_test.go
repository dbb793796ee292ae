package chart_test

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
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
			if pods < 8 {
				t.Errorf("found %d pod templates, want at least 8 (operator, 5 services, the store, the helm test pod)", pods)
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

// TestChartWiring checks what the services and the store promise in every variant: the
// probes, port 8080, fault injection off by default, labels, the NetworkPolicies, MongoDB's
// size, probes and replica-set Job, or FerretDB's launcher, and the store's credentials in
// the services' environment.
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
					checkStoreCredentials(t, v, d.Name, c)
					checkFerretDBPinning(t, v, c.Args[0], d)
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

// checkStoreCredentials checks that a service logs in to MongoDB with the Secret's password,
// and to FerretDB, which has no users, with no credentials at all.
func checkStoreCredentials(t *testing.T, v variant, name string, c corev1.Container) {
	t.Helper()
	uri, hasUser, hasPassword := envValue(c, "MONGO_URI"), envValue(c, "MONGO_USERNAME") != "", envSecret(c, "MONGO_PASSWORD")
	if v.ferretDB() {
		if strings.Contains(uri, "@") || hasUser || hasPassword {
			t.Errorf("%s: FerretDB has no authentication, but MONGO_URI is %q (MONGO_USERNAME set: %t, MONGO_PASSWORD from a Secret: %t)", name, uri, hasUser, hasPassword)
		}
		return
	}
	if !strings.Contains(uri, "$(MONGO_USERNAME):$(MONGO_PASSWORD)@") || !hasUser || !hasPassword {
		t.Errorf("%s: MONGO_URI %q does not log in with MONGO_USERNAME and MONGO_PASSWORD from the Secret", name, uri)
	}
}

// checkFerretDBPinning checks the Deployment of service. On FerretDB, whose conditional
// updates are not atomic, the order and the inventory each serialize their own in process
// (the order always, the inventory in write serialization process), so each runs as one pod
// that is replaced rather than rolled (two never overlap). Every other Deployment, and every
// one on MongoDB, keeps the replicas asked for, the default rolling update and the binary's
// default write serialization.
func checkFerretDBPinning(t *testing.T, v variant, service string, d appsv1.Deployment) {
	t.Helper()
	pinned := v.ferretDB() && (service == "order" || service == "inventory")
	wantMode := ""
	if pinned && service == "inventory" {
		wantMode = "process"
	}
	if mode := envValue(d.Spec.Template.Spec.Containers[0], "INVENTORY_WRITE_SERIALIZATION"); mode != wantMode {
		t.Errorf("%s (FerretDB: %t): INVENTORY_WRITE_SERIALIZATION=%q, want %q", d.Name, v.ferretDB(), mode, wantMode)
	}
	if !pinned {
		if d.Spec.Strategy.Type == appsv1.RecreateDeploymentStrategyType {
			t.Errorf("%s (FerretDB: %t): strategy Recreate, want the default rolling update", d.Name, v.ferretDB())
		}
		return
	}
	if replicas := deref(d.Spec.Replicas, -1); replicas != 1 || d.Spec.Strategy.Type != appsv1.RecreateDeploymentStrategyType {
		t.Errorf("%s on FerretDB: replicas %d, strategy %q; want 1, Recreate", d.Name, replicas, d.Spec.Strategy.Type)
	}
}

// TestFerretDBRefusesOrderReplicas checks that with mongodb.engine=ferretdb the chart refuses
// more than one order replica, as it does inventory replicas (TestFerretDBRefusesUnsafeValues):
// the order service's in-process locks, which keep an order's confirm and cancel from both
// succeeding on FerretDB, see only their own pod. One replica, and several on MongoDB, are
// accepted.
func TestFerretDBRefusesOrderReplicas(t *testing.T) {
	t.Parallel()
	const ferret, two = "mongodb:\n  engine: ferretdb\n", "services:\n  order:\n    replicas: 2\n"
	r := templateValues(t, ferret+two)
	if r.err == nil {
		t.Errorf("helm template accepted two order replicas with FerretDB")
	} else if !strings.Contains(r.stderr, "services.order.replicas=2") || !strings.Contains(r.stderr, "mongodb.engine=ferretdb") {
		t.Errorf("helm template failed, but its message does not name services.order.replicas=2 and mongodb.engine=ferretdb:\n%s", r.stderr)
	}
	for _, values := range []string{ferret + "services:\n  order:\n    replicas: 1\n", two} {
		if r := templateValues(t, values); r.err != nil {
			t.Errorf("helm template refused\n%s: %v\n%s", values, r.err, r.stderr)
		}
	}
}

// checkMongoDB checks the store's StatefulSet (MongoDB, or FerretDB in its place), the
// replica-set Job and the Secret.
func checkMongoDB(t *testing.T, v variant, objs []*unstructured.Unstructured) {
	t.Helper()
	sets := find(objs, "StatefulSet")
	o := sets[fullname(v)+"-mongodb"]
	if len(sets) != 1 || o == nil {
		t.Fatalf("StatefulSets %v, want %s-mongodb only", keys(sets), fullname(v))
	}
	var sts appsv1.StatefulSet
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &sts); err != nil {
		t.Fatal(err)
	}
	if n := len(sts.Spec.VolumeClaimTemplates); n != 1 {
		t.Fatalf("%d volumeClaimTemplates, want 1", n)
	}
	if v.ferretDB() {
		checkFerretDB(t, objs, sts)
	} else {
		checkMongod(t, v, objs, sts)
	}
	secrets := find(objs, "Secret")
	switch {
	case v.ferretDB() && len(secrets) != 0:
		t.Errorf("FerretDB renders Secrets %v, want none (it has no authentication)", keys(secrets))
	case v.name == "existing-secret" && len(secrets) != 0:
		t.Errorf("existingSecret renders Secrets %v, want none", keys(secrets))
	case !v.ferretDB() && v.name != "existing-secret" && len(secrets) != 1:
		t.Errorf("Secrets %v, want the one MongoDB Secret", keys(secrets))
	}
}

// checkMongod checks MongoDB's StatefulSet: its members, the replica-set Job and the probe.
func checkMongod(t *testing.T, v variant, objs []*unstructured.Unstructured, sts appsv1.StatefulSet) {
	t.Helper()
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
}

// checkFerretDB checks FerretDB's StatefulSet: one pod running the launcher from the chart's
// own image as the image's nonroot user, with fsGroup so that the claim is writable, and no
// replica-set Job.
func checkFerretDB(t *testing.T, objs []*unstructured.Unstructured, sts appsv1.StatefulSet) {
	t.Helper()
	spec := sts.Spec.Template.Spec
	if *sts.Spec.Replicas != 1 || len(spec.Containers) != 1 || len(spec.InitContainers) != 0 || len(find(objs, "Job")) != 0 {
		t.Fatalf("FerretDB: %d replicas, %d containers, %d init containers, %d Jobs; want 1, 1, 0, 0",
			*sts.Spec.Replicas, len(spec.Containers), len(spec.InitContainers), len(find(objs, "Job")))
	}
	c := spec.Containers[0]
	if want := operatorImage(t, objs); c.Image != want || !slices.Equal(c.Command, []string{"/ferretdb"}) {
		t.Errorf("FerretDB runs %v from %s, want /ferretdb from the chart's image %s", c.Command, c.Image, want)
	}
	psc := spec.SecurityContext
	if psc == nil || deref(psc.RunAsUser, -1) != 65532 || deref(psc.RunAsGroup, -1) != 65532 || deref(psc.FSGroup, -1) != 65532 {
		t.Errorf("FerretDB pod securityContext %+v, want uid, gid and fsGroup 65532", psc)
	}
	checkFerretDBServer(t, spec, c, sts.Spec.VolumeClaimTemplates[0].Name)
}

// checkFerretDBServer checks the launcher's flags (listening on 27017, its SQLite files on
// the claim), /tmp on an emptyDir, its port and its TCP readiness probe.
func checkFerretDBServer(t *testing.T, spec corev1.PodSpec, c corev1.Container, claim string) {
	t.Helper()
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		mounts[m.Name] = m.MountPath
	}
	wantArgs := []string{"--listen=0.0.0.0:27017", "--data-dir=" + mounts[claim], "--log-level=warn"}
	if mounts[claim] == "" || !slices.Equal(c.Args, wantArgs) {
		t.Errorf("FerretDB args %v with mounts %v, want %v (the data dir is the claim's mount)", c.Args, mounts, wantArgs)
	}
	tmp := slices.IndexFunc(spec.Volumes, func(vol corev1.Volume) bool { return vol.Name == "tmp" })
	if mounts["tmp"] != "/tmp" || tmp < 0 || spec.Volumes[tmp].EmptyDir == nil {
		t.Errorf("FerretDB: /tmp is not an emptyDir (mounts %v)", mounts)
	}
	if p := c.ReadinessProbe; p == nil || p.TCPSocket == nil || p.TCPSocket.Port.String() != "mongodb" {
		t.Errorf("FerretDB readiness probe %v, want a TCP connect to port mongodb", p)
	}
	if len(c.Ports) != 1 || c.Ports[0].ContainerPort != 27017 || c.Ports[0].Name != "mongodb" {
		t.Errorf("FerretDB ports %v, want mongodb 27017", c.Ports)
	}
}

// operatorImage is the image of the operator's container: the chart's own image.
func operatorImage(t *testing.T, objs []*unstructured.Unstructured) string {
	t.Helper()
	return managerContainer(t, objs).Image
}

// managerContainer is the operator's /manager container.
func managerContainer(t *testing.T, objs []*unstructured.Unstructured) corev1.Container {
	t.Helper()
	for _, d := range deployments(t, objs) {
		if c := d.Spec.Template.Spec.Containers[0]; c.Command[0] == "/manager" {
			return c
		}
	}
	t.Fatal("no /manager container")
	return corev1.Container{}
}

// deref is *p, or none when p is nil.
func deref[T any](p *T, none T) T {
	if p == nil {
		return none
	}
	return *p
}

func envValue(c corev1.Container, name string) string {
	for _, e := range c.Env {
		if e.Name == name {
			return e.Value
		}
	}
	return ""
}

// envSecret reports whether the variable name comes from a Secret.
func envSecret(c corev1.Container, name string) bool {
	return slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool {
		return e.Name == name && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil
	})
}

// podSpec returns the pod spec of a Pod, or the pod template spec of a Deployment,
// StatefulSet or Job.
func podSpec(t *testing.T, o *unstructured.Unstructured) (corev1.PodSpec, bool) {
	t.Helper()
	path := []string{"spec", "template", "spec"}
	switch o.GetKind() {
	case "Deployment", "StatefulSet", "Job":
	case "Pod":
		path = []string{"spec"}
	default:
		return corev1.PodSpec{}, false
	}
	m, found, err := unstructured.NestedMap(o.Object, path...)
	if err != nil || !found {
		t.Fatalf("%s %s: no pod template: %v", o.GetKind(), o.GetName(), err)
	}
	var spec corev1.PodSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(m, &spec); err != nil {
		t.Fatalf("%s %s: %v", o.GetKind(), o.GetName(), err)
	}
	return spec, true
}

// TestHelmTestHook checks the `helm test` hook in every variant: a ServiceAccount, a Role, a
// RoleBinding and a Pod, each a test hook kept until the next test starts
// (before-hook-creation, so a failed pod's logs stay readable); the Pod runs `sagactl check`
// on the release namespace with the operator's service URLs, through the in-cluster config
// of its own ServiceAccount; and the NetworkPolicies let it reach the services' port 8080 and
// nothing else of the chart's. With tests.enabled=false there is no hook and no allowance.
func TestHelmTestHook(t *testing.T) {
	t.Parallel()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			ns := "hook-" + v.name
			objs := render(t, v, ns)
			name := fullname(v) + "-helm-test"
			checkTestHooks(t, objs, name)
			var pod corev1.Pod
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(find(objs, "Pod")[name].Object, &pod); err != nil {
				t.Fatal(err)
			}
			checkTestPod(t, ns, objs, pod)
			checkTestPodRBAC(t, ns, find(objs, "RoleBinding")[name], pod.Spec.ServiceAccountName)
			checkTestPodNetwork(t, objs, pod)
		})
	}
	t.Run("disabled", func(t *testing.T) {
		t.Parallel()
		objs := render(t, variant{name: "defaults"}, "hook-off", "--set", "tests.enabled=false")
		for _, o := range objs {
			if o.GetAnnotations()["helm.sh/hook"] != "" {
				t.Errorf("tests.enabled=false renders the hook %s %s", o.GetKind(), o.GetName())
			}
		}
		testPod := map[string]string{"app.kubernetes.io/name": "ordersaga", "app.kubernetes.io/instance": "ordersaga", "app.kubernetes.io/component": "helm-test"}
		for _, np := range networkPolicies(t, objs) {
			if admits(np, testPod, 8080) {
				t.Errorf("tests.enabled=false, yet NetworkPolicy %s admits helm-test pods", np.Name)
			}
		}
	})
}

// checkTestHooks checks that the ServiceAccount, Role, RoleBinding and Pod called name are
// test hooks that the next test deletes (and nothing before it).
func checkTestHooks(t *testing.T, objs []*unstructured.Unstructured, name string) {
	t.Helper()
	for _, kind := range []string{"ServiceAccount", "Role", "RoleBinding", "Pod"} {
		o := find(objs, kind)[name]
		if o == nil {
			t.Fatalf("no %s %s among the %ss %v", kind, name, kind, keys(find(objs, kind)))
		}
		if a := o.GetAnnotations(); a["helm.sh/hook"] != "test" || a["helm.sh/hook-delete-policy"] != "before-hook-creation" {
			t.Errorf("%s %s annotations %v, want helm.sh/hook: test and helm.sh/hook-delete-policy: before-hook-creation", kind, name, a)
		}
	}
}

// checkTestPod checks the test pod's command: `sagactl check` on the sagas of ns, with the
// operator's URL template and per-service URLs, as a pod that runs once with its own token.
func checkTestPod(t *testing.T, ns string, objs []*unstructured.Unstructured, pod corev1.Pod) {
	t.Helper()
	if pod.Labels["app.kubernetes.io/component"] != "helm-test" || pod.Spec.RestartPolicy != corev1.RestartPolicyNever ||
		pod.Spec.AutomountServiceAccountToken == nil || !*pod.Spec.AutomountServiceAccountToken {
		t.Errorf("test pod: component %q, restartPolicy %q, automountServiceAccountToken %v; want helm-test, Never, true",
			pod.Labels["app.kubernetes.io/component"], pod.Spec.RestartPolicy, pod.Spec.AutomountServiceAccountToken)
	}
	c := pod.Spec.Containers[0]
	want := []string{"check", "--namespace=" + ns}
	for _, arg := range managerContainer(t, objs).Args {
		if v, ok := strings.CutPrefix(arg, "--service-url-template="); ok {
			want = append(want, "--service-url-template="+v)
		}
		if v, ok := strings.CutPrefix(arg, "--service-urls="); ok {
			for pair := range strings.SplitSeq(v, ",") {
				svc, url, _ := strings.Cut(pair, "=")
				want = append(want, "--"+svc+"-url="+url)
			}
		}
	}
	if len(pod.Spec.Containers) != 1 || !slices.Equal(c.Command, []string{"/sagactl"}) || !slices.Equal(c.Args, want) {
		t.Errorf("test pod runs %v %v, want /sagactl %v (the operator's service URLs)", c.Command, c.Args, want)
	}
	if c.Image != operatorImage(t, objs) {
		t.Errorf("test pod image %s, want the chart's image %s", c.Image, operatorImage(t, objs))
	}
}

// checkTestPodRBAC checks that the RoleBinding gives the pod's ServiceAccount, in ns, the
// Role of the same name (TestChartGrantsOnlyTheGeneratedRBAC checks that Role's rules).
func checkTestPodRBAC(t *testing.T, ns string, o *unstructured.Unstructured, serviceAccount string) {
	t.Helper()
	var rb rbacv1.RoleBinding
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &rb); err != nil {
		t.Fatal(err)
	}
	wantSubjects := []rbacv1.Subject{{Kind: "ServiceAccount", Name: serviceAccount, Namespace: ns}}
	if rb.Name != serviceAccount || rb.RoleRef.Kind != "Role" || rb.RoleRef.Name != rb.Name || !slices.Equal(rb.Subjects, wantSubjects) {
		t.Errorf("RoleBinding %s binds %v to %v, want Role %s to ServiceAccount %s/%s", rb.Name, rb.RoleRef, rb.Subjects, rb.Name, ns, serviceAccount)
	}
}

// checkTestPodNetwork checks that, where NetworkPolicies are rendered, the services' policy
// admits the test pod on port 8080, MongoDB's does not, and none selects the test pod itself
// (its egress, to the API server and the services, stays open).
func checkTestPodNetwork(t *testing.T, objs []*unstructured.Unstructured, pod corev1.Pod) {
	t.Helper()
	for _, np := range networkPolicies(t, objs) {
		if selects(t, np.Spec.PodSelector, pod.Labels) {
			t.Errorf("NetworkPolicy %s selects the test pod, which would cut its egress", np.Name)
		}
		switch {
		case strings.HasSuffix(np.Name, "-services") && !admits(np, pod.Labels, 8080):
			t.Errorf("NetworkPolicy %s does not let the test pod (labels %v) reach port 8080", np.Name, pod.Labels)
		case strings.HasSuffix(np.Name, "-mongodb") && admits(np, pod.Labels, 27017):
			t.Errorf("NetworkPolicy %s lets the test pod reach the store", np.Name)
		}
	}
}

// networkPolicies converts the rendered NetworkPolicies.
func networkPolicies(t *testing.T, objs []*unstructured.Unstructured) []networkingv1.NetworkPolicy {
	t.Helper()
	found := find(objs, "NetworkPolicy")
	out := make([]networkingv1.NetworkPolicy, 0, len(found))
	for _, o := range found {
		var np networkingv1.NetworkPolicy
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &np); err != nil {
			t.Fatalf("NetworkPolicy %s: %v", o.GetName(), err)
		}
		out = append(out, np)
	}
	return out
}

// admits reports whether an ingress rule of np lets a pod with podLabels, in the policy's
// own namespace, in on TCP port.
func admits(np networkingv1.NetworkPolicy, podLabels map[string]string, port int) bool {
	for _, rule := range np.Spec.Ingress {
		if len(rule.Ports) > 0 && !slices.ContainsFunc(rule.Ports, func(p networkingv1.NetworkPolicyPort) bool {
			return p.Port != nil && p.Port.IntValue() == port
		}) {
			continue
		}
		for _, peer := range rule.From {
			if peer.PodSelector == nil || peer.NamespaceSelector != nil || peer.IPBlock != nil {
				continue
			}
			if sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector); err == nil && sel.Matches(labels.Set(podLabels)) {
				return true
			}
		}
	}
	return false
}

// selects reports whether the label selector sel matches podLabels.
func selects(t *testing.T, sel metav1.LabelSelector, podLabels map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(&sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return s.Matches(labels.Set(podLabels))
}
