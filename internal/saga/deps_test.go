package saga

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

const sagaPackage = "github.com/ordersaga/ordersaga/internal/saga"

// orderSagaPackage is the order saga's domain: its plan, requests and status. The engine
// and its tests bring their plans as data instead.
const orderSagaPackage = "github.com/ordersaga/ordersaga/internal/ordersaga"

// listDeps runs go list -deps once for all the tests of this file: every package the
// engine builds with (tests excluded), each with the packages it imports directly.
var listDeps = sync.OnceValues(func() (map[string][]string, error) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("no go command on PATH: %w", err)
	}
	cmd := exec.Command(goBin, "list", "-deps", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, sagaPackage)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			return nil, fmt.Errorf("go list -deps %s: %w\n%s", sagaPackage, err, ee.Stderr)
		}
		return nil, fmt.Errorf("go list -deps %s: %w", sagaPackage, err)
	}
	deps := map[string][]string{}
	for line := range strings.SplitSeq(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[f[0]] = f[1:]
	}
	if _, ok := deps[sagaPackage]; !ok {
		return nil, fmt.Errorf("go list -deps did not list %s itself", sagaPackage)
	}
	return deps, nil
})

func goListDeps(t *testing.T) map[string][]string {
	t.Helper()
	deps, err := listDeps()
	if err != nil {
		t.Fatal(err)
	}
	return deps
}

// importChain returns a shortest import path from the engine to pkg, for the message.
func importChain(deps map[string][]string, pkg string) string {
	prev := map[string]string{sagaPackage: ""}
	queue := []string{sagaPackage}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if p == pkg {
			var chain []string
			for ; p != ""; p = prev[p] {
				chain = append([]string{p}, chain...)
			}
			return strings.Join(chain, " → ")
		}
		for _, q := range deps[p] {
			if _, seen := prev[q]; !seen {
				prev[q] = p
				queue = append(queue, q)
			}
		}
	}
	return pkg
}

func matches(pkg, root string) bool { return pkg == root || strings.HasPrefix(pkg, root+"/") }

// TestDependencies checks rule 1 of the house style: the engine decides purely. No
// Kubernetes client, no controller-runtime, no HTTP in what it builds with.
func TestDependencies(t *testing.T) {
	deps := goListDeps(t)
	cases := map[string]struct {
		reason    string
		forbidden string
	}{
		"NoClientGo":          {reason: "The engine talks to no API server.", forbidden: "k8s.io/client-go"},
		"NoControllerRuntime": {reason: "The engine is not a controller.", forbidden: "sigs.k8s.io/controller-runtime"},
		"NoOrderSaga":         {reason: "The engine knows no business domain: the order saga is one plan it runs.", forbidden: orderSagaPackage},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var found []string // the forbidden packages the engine's own world imports
			for pkg, imports := range deps {
				for _, imp := range imports {
					if matches(imp, tc.forbidden) && !matches(pkg, tc.forbidden) {
						found = append(found, imp)
					}
				}
			}
			found = slices.Compact(slices.Sorted(slices.Values(found)))
			if len(found) == 0 {
				return
			}
			var msg strings.Builder
			for _, pkg := range found {
				msg.WriteString("\n  " + importChain(deps, pkg))
			}
			t.Errorf("\nReason: %s\n%s depends on %s:%s", tc.reason, sagaPackage, tc.forbidden, msg.String())
		})
	}
}

// TestOwnPackagesImportNoHTTP checks the part of rule 1 the module controls: none of its
// own packages the engine builds with imports net/http or client-go, and the engine
// itself imports no controller-runtime.
func TestOwnPackagesImportNoHTTP(t *testing.T) {
	deps := goListDeps(t)
	for pkg, imports := range deps {
		if !matches(pkg, "github.com/ordersaga/ordersaga") {
			continue
		}
		for _, imp := range imports {
			forbidden := matches(imp, "net/http") || matches(imp, "k8s.io/client-go") ||
				(pkg == sagaPackage && matches(imp, "sigs.k8s.io/controller-runtime"))
			if forbidden {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
}

// TestTestsImportNoOrderSaga checks that the engine's tests, too, know no business
// domain: they run the order saga's plan as data (orderPlan), not internal/ordersaga's.
func TestTestsImportNoOrderSaga(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	cmd := exec.CommandContext(t.Context(), goBin, "list", "-f", `{{join .TestImports " "}} {{join .XTestImports " "}}`, sagaPackage)
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local", "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", sagaPackage, err)
	}
	for imp := range strings.FieldsSeq(string(out)) {
		if matches(imp, orderSagaPackage) {
			t.Errorf("the tests of %s import %s; bring the plan as data instead", sagaPackage, imp)
		}
	}
}
