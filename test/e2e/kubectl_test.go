package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// specNamespaces are the namespaces the running spec created; a failure dumps them.
var specNamespaces []string

// kubectl runs the real kubectl binary against the system.
func kubectl(ctx context.Context, args ...string) (string, string, error) {
	return runIn(ctx, sys.env(), sys.kubectl(), args...)
}

// kubectlOK runs kubectl and fails the spec unless it succeeds; it returns stdout.
func kubectlOK(ctx context.Context, args ...string) string {
	GinkgoHelper()
	out, errOut, err := kubectl(ctx, args...)
	Expect(err).NotTo(HaveOccurred(), "kubectl %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), out, errOut)
	return out
}

// sagactl runs the sagactl binary of this build, as a user would.
func sagactl(ctx context.Context, args ...string) (string, string, error) {
	return sys.sagactl(ctx, args...)
}

// expectCheckClean runs `sagactl check -A` and fails the spec unless it exits 0.
func expectCheckClean(ctx context.Context) {
	GinkgoHelper()
	out, errOut, err := sagactl(ctx, "check", "-A")
	GinkgoWriter.Printf("$ sagactl check -A\n%s%s", out, errOut)
	Expect(err).NotTo(HaveOccurred(), "sagactl check found critical inconsistencies:\n%s\n%s", out, errOut)
}

// newNamespace creates a namespace for one scenario with kubectl.
func newNamespace(ctx context.Context, name string) string {
	GinkgoHelper()
	kubectlOK(ctx, "create", "namespace", name)
	specNamespaces = append(specNamespaces, name)
	return name
}

// applyYAML writes doc to a temporary file and runs `kubectl apply -n ns -f file` with the
// extra flags.
func applyYAML(ctx context.Context, ns, doc string, extra ...string) (string, string, error) {
	f, err := os.CreateTemp(GinkgoT().TempDir(), "saga-*.yaml")
	if err != nil {
		return "", "", fmt.Errorf("create temp file: %w", err)
	}
	if _, err := f.WriteString(doc); err != nil {
		return "", "", fmt.Errorf("write %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("close %s: %w", f.Name(), err)
	}
	return kubectl(ctx, append([]string{"apply", "-n", ns, "-f", f.Name()}, extra...)...)
}

// applySagas applies sagas in one `kubectl apply` and fails the spec unless all are created.
func applySagas(ctx context.Context, ns string, sagas ...sagaSpec) {
	GinkgoHelper()
	out, errOut, err := applyYAML(ctx, ns, sagasYAML(sagas...))
	Expect(err).NotTo(HaveOccurred(), "kubectl apply\nstdout:\n%s\nstderr:\n%s", out, errOut)
	Expect(strings.Count(out, " created")).To(Equal(len(sagas)), "kubectl apply output:\n%s", out)
}

// getSagas reads every saga of ns with `kubectl get osaga -o json`.
func getSagas(ctx context.Context, ns string) []v1.OrderSaga {
	GinkgoHelper()
	out := kubectlOK(ctx, "get", "osaga", "-n", ns, "-o", "json")
	list := v1.OrderSagaList{}
	Expect(json.Unmarshal([]byte(out), &list)).To(Succeed())
	return list.Items
}

// getSaga reads one saga with `kubectl get osaga NAME -o json`.
func getSaga(ctx context.Context, ns, name string) v1.OrderSaga {
	GinkgoHelper()
	out := kubectlOK(ctx, "get", "osaga", name, "-n", ns, "-o", "json")
	s := v1.OrderSaga{}
	Expect(json.Unmarshal([]byte(out), &s)).To(Succeed())
	return s
}

// phases returns the phase of every saga in ns, read with kubectl's custom columns (far
// cheaper than JSON for a poll).
func phases(ctx context.Context, ns string) (map[string]v1.Phase, error) {
	out, errOut, err := kubectl(ctx, "get", "osaga", "-n", ns, "--no-headers",
		"-o", "custom-columns=NAME:.metadata.name,PHASE:.status.phase")
	if err != nil {
		return nil, fmt.Errorf("kubectl get: %w: %s", err, errOut)
	}
	m := map[string]v1.Phase{}
	for line := range strings.Lines(out) {
		f := strings.Fields(line)
		if len(f) == 2 {
			m[f[0]] = v1.Phase(f[1])
		}
	}
	return m, nil
}

// countTerminal returns how many of the phases are terminal.
func countTerminal(m map[string]v1.Phase) int {
	n := 0
	for _, p := range m {
		if p.IsTerminal() {
			n++
		}
	}
	return n
}

// waitAllTerminal polls until the n sagas of ns are terminal (Completed, Compensated or
// Failed) and returns them as kubectl shows them.
func waitAllTerminal(ctx context.Context, ns string, n int, timeout time.Duration) []v1.OrderSaga {
	GinkgoHelper()
	Eventually(ctx, func(g Gomega) {
		m, err := phases(ctx, ns)
		g.Expect(err).NotTo(HaveOccurred())
		g.Expect(m).To(HaveLen(n))
		g.Expect(countTerminal(m)).To(Equal(n), "phases: %v", summarize(m))
	}).WithTimeout(timeout).WithPolling(time.Second).Should(Succeed())
	return getSagas(ctx, ns)
}

// summarize counts sagas per phase, for messages.
func summarize(m map[string]v1.Phase) map[v1.Phase]int {
	out := map[v1.Phase]int{}
	for _, p := range m {
		if p == "" {
			p = "<none>"
		}
		out[p]++
	}
	return out
}

// byPhase counts sagas per phase.
func byPhase(sagas []v1.OrderSaga) map[v1.Phase]int {
	m := map[string]v1.Phase{}
	for _, s := range sagas {
		m[s.Name] = s.Status.Phase
	}
	return summarize(m)
}

// failureReasons lists the distinct rollback reasons of sagas, for messages and reports.
func failureReasons(sagas []v1.OrderSaga) []string {
	var out []string
	for _, s := range sagas {
		if s.Status.Failure != nil && !slices.Contains(out, s.Status.Failure.Reason) {
			out = append(out, s.Status.Failure.Reason)
		}
	}
	slices.Sort(out)
	return out
}
