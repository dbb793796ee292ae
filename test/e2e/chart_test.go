package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	corev1 "k8s.io/api/core/v1"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// These specs check what only real pods show: the chart's promises about security and RBAC,
// its helm test, and that an upgrade and an uninstall keep what they must.
var _ = Describe("The chart on a cluster", Label(labelClusterOnly), func() {
	It("runs every container non-root, read-only, without privileges, as the chart promises", func(ctx SpecContext) {
		pods := releasePods(ctx)
		Expect(pods).NotTo(BeEmpty())
		for _, p := range pods {
			for _, c := range p.Spec.Containers {
				expectPromisedSecurityContext(p, c)
			}
		}
		if !nodeIsThisMachine() {
			Skip("the cluster's node is not this machine: the processes' credentials cannot be read (E2E_NODE_LOCAL)")
		}
		checked := 0
		for _, p := range pods {
			for _, cs := range p.Status.ContainerStatuses {
				checked += expectProcessConfined(p, cs)
			}
		}
		GinkgoWriter.Printf("checked the credentials and root mount of %d container processes\n", checked)
		Expect(checked).To(BeNumerically(">=", len(pods)), "every pod's processes were found on this node")
	}, SpecTimeout(time.Minute))

	It("gives the operator's ServiceAccount no access to Secrets, asked from inside its pod", func(ctx SpecContext) {
		expectCanI(ctx, "no", "get", "secrets")
		expectCanI(ctx, "no", "list", "secrets", "-A")
		expectCanI(ctx, "yes", "update", "ordersagas", "-A") // the control: the question reaches the authorizer
	}, SpecTimeout(time.Minute))

	It("runs the gateway with no more rights than its ClusterRole, and lets the shop front end's token in", func(ctx SpecContext) {
		c := cluster()
		kubectlOK(ctx, "rollout", "status", "-n", c.namespace, "deploy/"+c.release+"-gateway", "--timeout=2m")
		gateway := "system:serviceaccount:" + c.namespace + ":" + c.release + "-gateway"
		for _, q := range []struct {
			want string
			args []string
		}{
			{"yes", []string{"create", "tokenreviews.authentication.k8s.io"}},
			{"yes", []string{"create", "subjectaccessreviews.authorization.k8s.io"}},
			{"yes", []string{"watch", "ordersagas.saga.ordersaga.io", "-A"}},
			{"yes", []string{"delete", "ordersagas.saga.ordersaga.io", "-A"}},
			{"yes", []string{"list", "events", "-A"}},
			{"no", []string{"update", "ordersagas.saga.ordersaga.io", "-A"}},
			{"no", []string{"patch", "ordersagas.saga.ordersaga.io", "--subresource=status", "-A"}},
			{"no", []string{"list", "sagas.saga.ordersaga.io", "-A"}},
			{"no", []string{"get", "secrets", "-A"}},
			{"no", []string{"create", "events", "-n", c.namespace}},
		} {
			expectCanIAs(ctx, gateway, q.want, q.args...)
		}

		// What the chart's NOTES tell a user: a token of the example caller, and a port-forward.
		token := strings.TrimSpace(kubectlOK(ctx, "create", "token", c.release+"-shop-frontend", "-n", c.namespace, "--duration=10m"))
		url := portForward(ctx, "svc/"+c.release+"-gateway", 8090)
		// viewer needs a TokenReview and SubjectAccessReviews, phaseCounts the gateway's cache.
		const query = `{ viewer { username namespace canPlaceOrders canListOrders } phaseCounts { phase count } }`
		resp := gqlAt(ctx, url, token, query, nil)
		resp.expectOK()
		Expect(resp.str("viewer", "username")).To(Equal("system:serviceaccount:"+c.namespace+":"+c.release+"-shop-frontend"), "%s", resp.raw)
		Expect(resp.str("viewer", "namespace")).To(Equal(c.namespace), "%s", resp.raw)
		Expect(resp.get("viewer", "canPlaceOrders")).To(BeTrue(), "%s", resp.raw)
		Expect(resp.get("viewer", "canListOrders")).To(BeTrue(), "%s", resp.raw)
		Expect(gqlAt(ctx, url, "", query, nil).codes()).To(ContainElement("UNAUTHENTICATED"), "POST /graphql without a token")
	}, SpecTimeout(3*time.Minute))

	It("passes helm test: sagactl check in a test pod agrees with the services", func(ctx SpecContext) {
		out := helmOK(ctx, "test", cluster().release, "-n", cluster().namespace, "--logs", "--timeout", "3m")
		GinkgoWriter.Printf("$ helm test\n%s", out)
		Expect(out).To(MatchRegexp(`(?m)^Phase:\s+Succeeded`))
	}, SpecTimeout(4*time.Minute))

	It("renders the mongodb engine, which the API server accepts (its pods are not run here: no MongoDB image)", func(ctx SpecContext) {
		ns := newNamespace(ctx, "e2e-mongodb-engine")
		// Without the test hooks: their pod needs their ServiceAccount, which a dry run never creates.
		manifest := helmOK(ctx, "template", "dry-run", chartDir(), "-n", ns, "--set", "mongodb.engine=mongodb", "--no-hooks")
		out, errOut, err := applyYAML(ctx, ns, manifest, "--dry-run=server")
		Expect(err).NotTo(HaveOccurred(), "kubectl apply --dry-run=server:\n%s%s", out, errOut)
		Expect(out).To(ContainSubstring("statefulset.apps/dry-run-ordersaga-mongodb created (server dry run)"))
		AddReportEntry("mongodb engine", "rendered and accepted by the API server (dry run); its pods were not run")
	}, SpecTimeout(2*time.Minute))
})

// The release's life after every other spec: make test-cluster runs these last, in order
// (label chart-lifecycle), on the sagas the other specs left.
var _ = Describe("The release", Ordered, Label(labelClusterOnly, labelChartLifecycle), func() {
	var before map[string]sagaRecord

	BeforeAll(func(ctx SpecContext) {
		before = withOrderStatus(ctx, recordSagas(ctx))
		Expect(before).NotTo(BeEmpty(), "the other specs left sagas to keep")
	})

	It("keeps every saga and the store's data through helm upgrade to namespace-scoped RBAC, with every pod replaced", func(ctx SpecContext) {
		storeBefore := podUIDs(ctx, "mongodb")
		helmOK(ctx, "upgrade", cluster().release, chartDir(), "-n", cluster().namespace, "--reuse-values",
			"--set", "rbac.scope=namespace", "--set", "services.logLevel=debug",
			"--set-string", "mongodb.podAnnotations.e2e/upgraded="+time.Now().UTC().Format("20060102T150405Z"),
			"--wait", "--timeout", "5m")
		Expect(podUIDs(ctx, "mongodb")).NotTo(ContainElements(storeBefore), "the store's pod was replaced: its data came from the claim")

		Expect(withOrderStatus(ctx, recordSagas(ctx))).To(Equal(before), "every saga, and its order in the store, as it was")

		ns := cluster().namespace
		setProduct(ctx, "E2E-UPG-1", "5.00", 3)
		applySagas(ctx, ns, saga("after-upgrade", "E2E-UPG-1", 1, "5.00"))
		kubectlOK(ctx, "wait", "--for=condition=Ready", "osaga/after-upgrade", "-n", ns, "--timeout=90s")
		Expect(stockOf(ctx, "E2E-UPG-1")).To(Equal(2))
	}, SpecTimeout(8*time.Minute))

	It("confines the operator to its namespace with rbac.scope=namespace, asked from inside its pod", func(ctx SpecContext) {
		other := otherNamespace(before)
		expectCanI(ctx, "yes", "update", "ordersagas")
		expectCanI(ctx, "no", "list", "ordersagas", "-n", other)
		expectCanI(ctx, "no", "get", "secrets")
		out, errOut, err := sagactl(ctx, "check", "-n", other)
		Expect(err).To(HaveOccurred(), "sagactl check -n %s from the operator's pod:\n%s%s", other, out, errOut)
		Expect(errOut).To(ContainSubstring("forbidden"))
	}, SpecTimeout(time.Minute))

	It("leaves the CRD, the sagas and the store's claim after helm uninstall", func(ctx SpecContext) {
		c := cluster()
		claims := kubectlOK(ctx, "get", "pvc", "-n", c.namespace, "-o", "name")
		Expect(claims).To(ContainSubstring("persistentvolumeclaim/data-" + c.release + "-mongodb-0"))
		helmOK(ctx, "uninstall", c.release, "-n", c.namespace, "--wait", "--timeout", "3m")
		releaseGone = true

		kubectlOK(ctx, "get", "crd", "ordersagas.saga.ordersaga.io")
		Expect(kubectlOK(ctx, "get", "pvc", "-n", c.namespace, "-o", "name")).To(Equal(claims), "the claims stay, with the data")
		Expect(recordSagas(ctx)).To(HaveLen(len(before)+1), "the sagas stay with their CRD")
		Expect(kubectlOK(ctx, "get", "deploy,sts", "-n", c.namespace, "-o", "name")).To(BeEmpty(), "the workloads are gone")
	}, SpecTimeout(4*time.Minute))
})

// releaseGone is set once the lifecycle spec uninstalled the release: nothing can run
// sagactl check in the operator's pod after that.
var releaseGone bool

// cluster is the cluster system; only cluster-only specs call it.
func cluster() *clusterSystem {
	GinkgoHelper()
	c, ok := sys.(*clusterSystem)
	Expect(ok).To(BeTrue(), "a cluster-only spec ran on the local stack")
	return c
}

// nodeIsThisMachine tells whether the cluster's pods run on this machine (make test-cluster).
func nodeIsThisMachine() bool { return os.Getenv("E2E_NODE_LOCAL") == "1" }

func chartDir() string {
	GinkgoHelper()
	root, err := mongoserver.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	return filepath.Join(root, "charts", "ordersaga")
}

// helmOK runs helm against the cluster and fails the spec unless it succeeds.
func helmOK(ctx context.Context, args ...string) string {
	GinkgoHelper()
	bin := os.Getenv("E2E_HELM")
	Expect(bin).NotTo(BeEmpty(), "E2E_HELM names the helm binary (make test-cluster sets it)")
	out, errOut, err := runIn(ctx, sys.env(), bin, args...)
	Expect(err).NotTo(HaveOccurred(), "helm %s\n%s%s", strings.Join(args, " "), out, errOut)
	return out
}

// expectCanI asks from inside the operator's pod whether its ServiceAccount may do something.
func expectCanI(ctx context.Context, want string, args ...string) {
	GinkgoHelper()
	out, errOut, _ := sagactl(ctx, append([]string{"can-i"}, args...)...)
	answer := strings.Fields(out)
	Expect(answer).NotTo(BeEmpty(), "sagactl can-i %s:\n%s", strings.Join(args, " "), errOut)
	Expect(answer[0]).To(Equal(want), "sagactl can-i %s:\n%s%s", strings.Join(args, " "), out, errOut)
}

// expectCanIAs asks the API server, as the cluster's admin impersonating user, whether user
// may do something (kubectl auth can-i exits 1 for "no").
func expectCanIAs(ctx context.Context, user, want string, args ...string) {
	GinkgoHelper()
	out, errOut, _ := kubectl(ctx, append([]string{"auth", "can-i", "--as=" + user}, args...)...)
	answer := strings.Fields(out)
	Expect(answer).NotTo(BeEmpty(), "kubectl auth can-i --as=%s %s:\n%s", user, strings.Join(args, " "), errOut)
	Expect(answer[0]).To(Equal(want), "kubectl auth can-i --as=%s %s:\n%s%s", user, strings.Join(args, " "), out, errOut)
}

// portForward runs `kubectl port-forward` to port of target in the release namespace until the
// spec ends, and returns the local base URL.
func portForward(ctx context.Context, target string, port int) string {
	GinkgoHelper()
	pfCtx, cancel := context.WithCancel(ctx) // the spec's: it ends with the spec
	cmd := exec.CommandContext(pfCtx, sys.kubectl(), "port-forward", "-n", cluster().namespace, "--address=127.0.0.1", target, fmt.Sprintf(":%d", port))
	cmd.Env = sys.env()
	var errOut bytes.Buffer
	cmd.Stderr = &errOut
	stdout, err := cmd.StdoutPipe()
	Expect(err).NotTo(HaveOccurred())
	Expect(cmd.Start()).To(Succeed())
	DeferCleanup(func() {
		cancel()
		_ = cmd.Wait()
	})
	// "Forwarding from 127.0.0.1:40123 -> 8090"; later lines are drained until it exits.
	local := make(chan string, 1)
	forwarding := regexp.MustCompile(`^Forwarding from (127\.0\.0\.1:\d+) ->`)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := forwarding.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case local <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case addr := <-local:
		return "http://" + addr
	case <-time.After(30 * time.Second):
		Fail("kubectl port-forward " + target + " did not start within 30s: " + errOut.String())
	case <-ctx.Done():
		Fail("kubectl port-forward " + target + ": " + ctx.Err().Error())
	}
	return ""
}

// releasePods are the release's running pods.
func releasePods(ctx context.Context) []corev1.Pod {
	GinkgoHelper()
	c := cluster()
	out := kubectlOK(ctx, "get", "pods", "-n", c.namespace, "-l", "app.kubernetes.io/instance="+c.release,
		"--field-selector=status.phase=Running", "-o", "json")
	var list corev1.PodList
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	return list.Items
}

// podUIDs are the UIDs of a component's pods.
func podUIDs(ctx context.Context, component string) []string {
	GinkgoHelper()
	c := cluster()
	out := kubectlOK(ctx, "get", "pods", "-n", c.namespace, "-l",
		"app.kubernetes.io/instance="+c.release+",app.kubernetes.io/component="+component, "-o", "jsonpath={.items[*].metadata.uid}")
	return strings.Fields(out)
}

// otherNamespace is a namespace other than the release's that holds sagas.
func otherNamespace(records map[string]sagaRecord) string {
	GinkgoHelper()
	for _, key := range slices.Sorted(maps.Keys(records)) {
		if ns, _, _ := strings.Cut(key, "/"); ns != cluster().namespace {
			return ns
		}
	}
	Fail("no saga outside the release's namespace")
	return ""
}

// sagaRecord is what an upgrade must not change about a saga.
type sagaRecord struct {
	Phase       v1.Phase
	OrderID     string
	OrderStatus string
	Steps       int
	Generation  int64
}

// recordSagas reads every saga of every namespace, keyed namespace/name.
func recordSagas(ctx context.Context) map[string]sagaRecord {
	GinkgoHelper()
	out := kubectlOK(ctx, "get", "osaga", "-A", "-o", "json")
	list := v1.OrderSagaList{}
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	m := map[string]sagaRecord{}
	for _, s := range list.Items {
		m[s.Namespace+"/"+s.Name] = sagaRecord{Phase: s.Status.Phase, OrderID: s.Status.OrderID, Steps: len(s.Status.Steps), Generation: s.Generation}
	}
	return m
}

// withOrderStatus adds the status of each saga's order, as the order service has it.
func withOrderStatus(ctx context.Context, records map[string]sagaRecord) map[string]sagaRecord {
	GinkgoHelper()
	for key, r := range records {
		if r.OrderID == "" {
			continue
		}
		o, ok := getOrder(ctx, r.OrderID)
		Expect(ok).To(BeTrue(), "%s: order %s is in the store", key, r.OrderID)
		r.OrderStatus = o.Status
		records[key] = r
	}
	return records
}

// expectPromisedSecurityContext checks a container against values.yaml's defaults.
func expectPromisedSecurityContext(p corev1.Pod, c corev1.Container) {
	GinkgoHelper()
	where := fmt.Sprintf("pod %s container %s", p.Name, c.Name)
	psc, sc := p.Spec.SecurityContext, c.SecurityContext
	Expect(sc).NotTo(BeNil(), where)
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot)
	Expect(nonRoot).To(BeTrue(), "%s: runAsNonRoot", where)
	Expect(sc.ReadOnlyRootFilesystem).To(HaveValue(BeTrue()), "%s: readOnlyRootFilesystem", where)
	Expect(sc.AllowPrivilegeEscalation).To(HaveValue(BeFalse()), "%s: allowPrivilegeEscalation", where)
	Expect(sc.Capabilities).NotTo(BeNil(), where)
	Expect(sc.Capabilities.Drop).To(ContainElement(corev1.Capability("ALL")), "%s: capabilities.drop", where)
	Expect(sc.Capabilities.Add).To(BeEmpty(), "%s: capabilities.add", where)
	Expect(psc).NotTo(BeNil(), where)
	Expect(psc.SeccompProfile).To(HaveField("Type", corev1.SeccompProfileTypeRuntimeDefault), "%s: seccomp", where)
}

// expectProcessConfined finds the container's processes on this node by their cgroup and
// checks what the kernel says about them: a non-root uid, no capabilities, no new
// privileges, a seccomp filter, and a read-only root mount. It returns how many it checked.
func expectProcessConfined(p corev1.Pod, cs corev1.ContainerStatus) int {
	GinkgoHelper()
	_, id, ok := strings.Cut(cs.ContainerID, "://")
	Expect(ok).To(BeTrue(), "pod %s container %s has no container ID", p.Name, cs.Name)
	pids := processesInCgroup(id)
	Expect(pids).NotTo(BeEmpty(), "pod %s container %s (%s): no process on this node", p.Name, cs.Name, id)
	for _, pid := range pids {
		where := fmt.Sprintf("pod %s container %s pid %s", p.Name, cs.Name, pid)
		status := procFields(filepath.Join("/proc", pid, "status"))
		Expect(strings.Fields(status["Uid"])).To(HaveEach(Not(Equal("0"))), "%s: Uid %s", where, status["Uid"])
		Expect(strings.Fields(status["Gid"])).To(HaveEach(Not(Equal("0"))), "%s: Gid %s", where, status["Gid"])
		Expect(status["CapEff"]).To(MatchRegexp("^0+$"), "%s: effective capabilities", where)
		Expect(status["CapPrm"]).To(MatchRegexp("^0+$"), "%s: permitted capabilities", where)
		Expect(status["NoNewPrivs"]).To(Equal("1"), "%s: no_new_privs (allowPrivilegeEscalation: false)", where)
		Expect(status["Seccomp"]).To(Equal("2"), "%s: a seccomp filter (RuntimeDefault)", where)
		Expect(rootMountOptions(pid)).To(ContainElement("ro"), "%s: the root filesystem is read-only", where)
	}
	return len(pids)
}

// processesInCgroup lists the processes whose cgroup path names the container.
func processesInCgroup(containerID string) []string {
	entries, err := os.ReadDir("/proc")
	Expect(err).NotTo(HaveOccurred())
	var pids []string
	for _, e := range entries {
		if strings.Trim(e.Name(), "0123456789") != "" {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err == nil && strings.Contains(string(b), containerID) {
			pids = append(pids, e.Name())
		}
	}
	return pids
}

// procFields reads a /proc "Key:\tvalue" file.
func procFields(path string) map[string]string {
	GinkgoHelper()
	b, err := os.ReadFile(path)
	Expect(err).NotTo(HaveOccurred())
	m := map[string]string{}
	for l := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(l, ":")
		if ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// rootMountOptions are the mount options of the process's "/" (proc(5) mountinfo: the
// fifth field is the mount point, the sixth its options).
func rootMountOptions(pid string) []string {
	GinkgoHelper()
	b, err := os.ReadFile(filepath.Join("/proc", pid, "mountinfo"))
	Expect(err).NotTo(HaveOccurred())
	for l := range strings.Lines(string(b)) {
		f := strings.Fields(l)
		if len(f) > 5 && f[4] == "/" {
			return strings.Split(f[5], ",")
		}
	}
	return nil
}
