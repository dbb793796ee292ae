package e2e

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/ordersaga/ordersaga/internal/localstack"
	"github.com/ordersaga/ordersaga/internal/mongoserver"
)

// The suite drives one of two systems, both through what a shop uses (kubectl, the
// services' HTTP APIs, sagactl):
//   - the local stack (the default), started by the suite: every program on this machine,
//     crashes by signal;
//   - a real cluster where `make test-cluster` installed the chart (E2E_TARGET=cluster):
//     the manager calls the services by their in-cluster DNS names, the suite reaches them
//     through the API server's Service proxy, and crashes are deleted pods.
//
// Specs labelled "cluster" run on both; "cluster-only" specs need real pods, and every
// other spec needs the local stack's process control. A spec that cannot run on the target
// at hand is skipped with the reason, never silently.
const (
	labelCluster     = "cluster"
	labelClusterOnly = "cluster-only"
	// labelChartLifecycle marks the specs that upgrade and uninstall the release:
	// make test-cluster runs them after every other spec.
	labelChartLifecycle = "chart-lifecycle"
)

// system is what the specs drive.
type system interface {
	// kubectl is the kubectl binary and env its environment (KUBECONFIG and the like).
	kubectl() string
	env() []string
	// serviceURL is a service's base URL for the suite's own requests, made with httpClient.
	serviceURL(service string) string
	httpClient() *http.Client
	// sagactl runs sagactl where it can reach the services.
	sagactl(ctx context.Context, args ...string) (string, string, error)
	// crash ends the manager or a service abruptly; bringBack brings it back and waits until
	// it is ready.
	crash(ctx context.Context, name string)
	bringBack(ctx context.Context, name string)
	// dumpLogs prints the tails of the programs' logs for a failed spec.
	dumpLogs(ctx context.Context)
	stop(ctx context.Context) error
}

// sys is the system of this run, set up once for the suite.
var sys system

// onCluster tells whether the suite drives a real cluster.
func onCluster() bool { return os.Getenv("E2E_TARGET") == "cluster" }

// skipUnlessRunnable skips a spec that cannot run on the target at hand, saying why.
func skipUnlessRunnable() {
	labels := CurrentSpecReport().Labels()
	switch {
	case onCluster() && !slices.Contains(labels, labelCluster) && !slices.Contains(labels, labelClusterOnly):
		Skip("needs the local stack's process control (faults by signal, PID files); not run on a cluster")
	case !onCluster() && slices.Contains(labels, labelClusterOnly):
		Skip("needs real pods: make test-cluster runs it (E2E_TARGET=cluster)")
	}
}

// localSystem is the local stack.
type localSystem struct {
	stack    *localstack.Stack
	stateDir string
	// client is shared by every request, so that connections to the services are reused.
	client *http.Client
}

func startLocal(ctx context.Context) *localSystem {
	GinkgoHelper()
	root, err := mongoserver.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	stateDir, err := os.MkdirTemp("", "ordersaga-e2e-")
	Expect(err).NotTo(HaveOccurred())
	begin := time.Now()
	st, err := localstack.Start(ctx, localstack.Options{
		Root:     root,
		StateDir: stateDir,
		Assets:   os.Getenv("KUBEBUILDER_ASSETS"),
		Progress: func(format string, args ...any) {
			line := fmt.Sprintf(format, args...)
			stackLog.add(line)
			GinkgoWriter.Printf("localstack: %s\n", line)
		},
	})
	Expect(err).NotTo(HaveOccurred(), "start the local stack; logs in %s/logs", stateDir)
	AddReportEntry("stack start-up", time.Since(begin).Round(100*time.Millisecond).String())
	GinkgoWriter.Printf("local stack ready in %s; state in %s; services %v\n",
		time.Since(begin).Round(100*time.Millisecond), stateDir, st.URLs)
	return &localSystem{stack: st, stateDir: stateDir, client: &http.Client{Timeout: 15 * time.Second}}
}

func (l *localSystem) kubectl() string               { return l.stack.Kubectl }
func (l *localSystem) env() []string                 { return l.stack.Env() }
func (l *localSystem) serviceURL(name string) string { return l.stack.URLs[name] }
func (l *localSystem) httpClient() *http.Client      { return l.client }

func (l *localSystem) sagactl(ctx context.Context, args ...string) (string, string, error) {
	return runIn(ctx, l.env(), filepath.Join(l.stateDir, "bin", "sagactl"), args...)
}

func (l *localSystem) crash(_ context.Context, name string) { l.stack.KillProcess(name) }

func (l *localSystem) bringBack(ctx context.Context, name string) {
	GinkgoHelper()
	if name == "manager" {
		Expect(l.stack.StartManager(ctx)).To(Succeed())
	} else {
		Expect(l.stack.StartService(ctx, name)).To(Succeed())
	}
}

func (l *localSystem) dumpLogs(context.Context) {
	logs, _ := filepath.Glob(filepath.Join(l.stateDir, "logs", "*.log"))
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			GinkgoWriter.Printf("\n----- %s: %v\n", path, err)
			continue
		}
		printLogTail(path, string(b), strings.HasSuffix(path, "manager.log"))
	}
}

func (l *localSystem) stop(context.Context) error {
	err := l.stack.Stop()
	if os.Getenv("E2E_KEEP_STATE") == "" {
		_ = os.RemoveAll(l.stateDir)
	}
	if err != nil {
		return fmt.Errorf("stop the local stack: %w", err)
	}
	return nil
}

// clusterSystem is a release of the chart on a real cluster.
type clusterSystem struct {
	kubectlBin string
	kubeconfig string
	// sagactlBin is this build's sagactl on this machine (make image builds it into bin/).
	sagactlBin string
	// namespace and release name the chart's installation.
	namespace, release string
	// proxy is the API server's URL of the release's Services, and transport carries the
	// kubeconfig's credentials to it.
	proxy  string
	client *http.Client
}

func connectCluster() *clusterSystem {
	GinkgoHelper()
	kubeconfig := os.Getenv("KUBECONFIG")
	Expect(kubeconfig).NotTo(BeEmpty(), "E2E_TARGET=cluster needs KUBECONFIG (make test-cluster sets it)")
	cfg, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	Expect(err).NotTo(HaveOccurred(), "read %s", kubeconfig)
	transport, err := rest.TransportFor(cfg)
	Expect(err).NotTo(HaveOccurred())
	root, err := mongoserver.RepoRoot()
	Expect(err).NotTo(HaveOccurred())
	c := &clusterSystem{
		kubectlBin: cmpOrEnv("E2E_KUBECTL", filepath.Join(os.Getenv("KUBEBUILDER_ASSETS"), "kubectl")),
		sagactlBin: cmpOrEnv("E2E_SAGACTL", filepath.Join(root, "bin", "sagactl")),
		kubeconfig: kubeconfig,
		namespace:  cmpOrEnv("E2E_NAMESPACE", "shop"),
		release:    cmpOrEnv("E2E_RELEASE", "ordersaga"),
		client:     &http.Client{Timeout: 15 * time.Second, Transport: transport},
	}
	c.proxy = strings.TrimRight(cfg.Host, "/") + "/api/v1/namespaces/" + c.namespace + "/services/"
	GinkgoWriter.Printf("cluster target: release %s in namespace %s, API server %s\n", c.release, c.namespace, cfg.Host)
	return c
}

// cmpOrEnv is the environment variable's value, or fallback when it is empty.
func cmpOrEnv(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func (c *clusterSystem) kubectl() string          { return c.kubectlBin }
func (c *clusterSystem) env() []string            { return append(os.Environ(), "KUBECONFIG="+c.kubeconfig) }
func (c *clusterSystem) httpClient() *http.Client { return c.client }

// serviceURL goes through the API server's proxy to the chart's Service, port http.
func (c *clusterSystem) serviceURL(name string) string {
	return c.proxy + c.release + "-" + name + ":http/proxy"
}

// operator is the manager's Deployment, as kubectl names it.
func (c *clusterSystem) operator() string { return "deploy/" + c.release + "-operator" }

// sagactl runs as a person would, with the kubeconfig, except for what needs the cluster's
// inside: check reaches the services by their DNS names, and can-i asks as the operator's
// ServiceAccount. Those run in the manager's pod.
func (c *clusterSystem) sagactl(ctx context.Context, args ...string) (string, string, error) {
	if len(args) == 0 || (args[0] != "check" && args[0] != "can-i") {
		return runIn(ctx, c.env(), c.sagactlBin, args...)
	}
	full := append([]string{"exec", "-n", c.namespace, c.operator(), "-c", "manager", "--", "/sagactl"}, args...)
	if args[0] == "check" {
		full = append(full, "--service-url-template=http://"+c.release+"-{service}."+c.namespace+".svc.cluster.local:8080",
			"--services-namespace="+c.namespace)
	}
	return runIn(ctx, c.env(), c.kubectlBin, full...)
}

// component is the chart's name for a program: the manager runs as "operator".
func component(name string) string {
	if name == "manager" {
		return "operator"
	}
	return name
}

// crash deletes the component's pods without a grace period, as a node that dies does;
// their Deployment makes new ones.
func (c *clusterSystem) crash(ctx context.Context, name string) {
	GinkgoHelper()
	out, errOut, err := runIn(ctx, c.env(), c.kubectlBin, "delete", "pod", "-n", c.namespace,
		"-l", "app.kubernetes.io/instance="+c.release+",app.kubernetes.io/component="+component(name),
		"--grace-period=0", "--force", "--wait=false")
	Expect(err).NotTo(HaveOccurred(), "delete the %s pods: %s%s", name, out, errOut)
	GinkgoWriter.Printf("$ kubectl delete pod -l component=%s --grace-period=0 --force\n%s%s", name, out, errOut)
}

// bringBack waits until the Deployment's replacement pod is ready.
func (c *clusterSystem) bringBack(ctx context.Context, name string) {
	GinkgoHelper()
	out, errOut, err := runIn(ctx, c.env(), c.kubectlBin, "rollout", "status", "-n", c.namespace,
		"deploy/"+c.release+"-"+component(name), "--timeout=3m")
	Expect(err).NotTo(HaveOccurred(), "the %s Deployment's new pod: %s%s", name, out, errOut)
}

func (c *clusterSystem) dumpLogs(ctx context.Context) {
	out, errOut, _ := runIn(ctx, c.env(), c.kubectlBin, "get", "pods", "-n", c.namespace, "-o", "wide")
	GinkgoWriter.Printf("\n$ kubectl get pods -n %s -o wide\n%s%s", c.namespace, out, errOut)
	for _, name := range append([]string{"operator", "gateway"}, services...) {
		out, errOut, _ := runIn(ctx, c.env(), c.kubectlBin, "logs", "-n", c.namespace, "deploy/"+c.release+"-"+name,
			"--all-containers", "--tail=2000")
		printLogTail("pod log of "+name, out+errOut, name == "operator")
	}
}

func (c *clusterSystem) stop(context.Context) error { return nil } // make test-cluster owns the release

// runIn runs bin with args in env and returns its stdout and stderr; err is non-nil when it
// exits non-zero.
func runIn(ctx context.Context, env []string, bin string, args ...string) (string, string, error) {
	cmd := exec.CommandContext(ctx, bin, args...) //nolint:gosec // G702: kubectl, helm, sagactl or sh of this test run, with the specs' arguments
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}
