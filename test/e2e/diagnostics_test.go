package e2e

import (
	"context"
	"slices"
	"strings"

	. "github.com/onsi/ginkgo/v2"

	v1 "github.com/ordersaga/ordersaga/api/v1alpha1"
)

// Bounds of what a failed spec prints.
const (
	describeAtMost = 5   // sagas described per namespace
	logTailLines   = 30  // lines of each service's log
	managerTail    = 200 // lines of the manager's log
	problemLines   = 40  // warning and error lines of each log
)

// dumpDiagnostics prints what explains a red spec: the sagas of its namespaces as
// `kubectl get -o wide` shows them, `sagactl describe` of the ones that went wrong (or
// of the first few), the faults the services run with, and the tails of the stack's logs.
func dumpDiagnostics(ctx context.Context) {
	w := GinkgoWriter
	w.Printf("\n===== diagnostics of the failed spec =====\n")
	for _, ns := range specNamespaces {
		out, errOut, _ := kubectl(ctx, "get", "osaga", "-n", ns, "-o", "wide")
		w.Printf("\n$ kubectl get osaga -n %s -o wide\n%s%s", ns, out, errOut)
		for _, name := range sagasToDescribe(ctx, ns) {
			out, errOut, _ := sagactl(ctx, "describe", "-n", ns, name)
			w.Printf("\n$ sagactl describe -n %s %s\n%s%s", ns, name, out, errOut)
		}
		out, errOut, _ = kubectl(ctx, "get", "events", "-n", ns, "--sort-by=.lastTimestamp")
		w.Printf("\n$ kubectl get events -n %s\n%s\n", ns, tail(out+errOut, 40))
	}
	for _, s := range services {
		if _, b, err := call(ctx, "GET", s, "/admin/faults", nil); err == nil {
			w.Printf("%s faults: %s\n", s, strings.TrimSpace(string(b)))
		} else {
			w.Printf("%s faults: %v\n", s, err)
		}
	}
	out, errOut, _ := sagactl(ctx, "check", "-A")
	w.Printf("\n$ sagactl check -A\n%s%s", out, errOut)
	sys.dumpLogs(ctx)
	w.Printf("===== end of diagnostics =====\n")
}

// sagasToDescribe picks the sagas of ns worth describing: those not Completed first.
func sagasToDescribe(ctx context.Context, ns string) []string {
	m, err := phases(ctx, ns)
	if err != nil {
		return nil
	}
	var names []string
	for name, p := range m {
		if p != v1.PhaseCompleted {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		for name := range m {
			names = append(names, name)
		}
		slices.Sort(names)
	}
	return names[:min(len(names), describeAtMost)]
}

// printLogTail prints a log's warnings and errors and its last lines (more of the
// manager's, which tells what each saga did).
func printLogTail(name, log string, manager bool) {
	n := logTailLines
	if manager {
		n = managerTail
	}
	GinkgoWriter.Printf("\n----- %s: warnings and errors (last %d) -----\n%s\n", name, problemLines, tail(problems(log), problemLines))
	GinkgoWriter.Printf("----- %s: last %d lines -----\n%s\n", name, n, tail(log, n))
}

// problems returns the lines of a JSON log (the services' slog, the manager's zap) at
// warning level or above.
func problems(log string) string {
	var out []string
	for l := range strings.Lines(log) {
		lower := strings.ToLower(l)
		if strings.Contains(lower, `"level":"warn`) || strings.Contains(lower, `"level":"error`) {
			out = append(out, strings.TrimRight(l, "\n"))
		}
	}
	return strings.Join(out, "\n")
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
