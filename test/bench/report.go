package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// Report is one mode's results as markdown: tables, and notes that say how each figure
// was measured.
type Report struct {
	Mode    string
	Command string
	Started time.Time
	Host    string
	Stack   string
	// Headline are the few figures `go test -bench` prints on its own line, unit → value.
	Headline map[string]float64
	// Attachments are files written beside the report, as <mode>-<timestamp>.<name>.
	Attachments map[string][]byte
	b           strings.Builder
}

func newReport(mode, command string, s *Stack) *Report {
	r := &Report{Mode: mode, Command: command, Started: time.Now(), Host: hostLine(), Headline: map[string]float64{},
		Attachments: map[string][]byte{}}
	r.Stack = fmt.Sprintf("envtest kube-apiserver + etcd (pids %d, %d); fake services in the bench process, no delay unless stated", s.APIServer, s.Etcd)
	if len(s.Admission) > 0 {
		r.Stack += fmt.Sprintf("; admission: %s (in effect %s after it was created)",
			strings.Join(relPaths(s.Options.Root, s.Admission), ", "), s.AdmissionDelay.Round(100*time.Millisecond))
	} else {
		r.Stack += "; no admission policy"
	}
	return r
}

func relPaths(root string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if rel, err := filepath.Rel(root, p); err == nil {
			p = rel
		}
		out[i] = p
	}
	return out
}

// hostLine says what the figures were measured on, including the load other processes
// put on the machine: on shared cores, the figures are only as good as that load allows.
func hostLine() string {
	return fmt.Sprintf("%d CPUs (GOMAXPROCS %d), %s, load average at start %s", runtime.NumCPU(),
		runtime.GOMAXPROCS(0), runtime.Version(), loadAverage())
}

func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	fields := strings.Fields(string(raw))
	if len(fields) < 3 {
		return "unknown"
	}
	return strings.Join(fields[:3], " ")
}

// Section adds a heading and a paragraph.
func (r *Report) Section(title, text string) {
	fmt.Fprintf(&r.b, "\n## %s\n\n", title)
	if text != "" {
		fmt.Fprintf(&r.b, "%s\n\n", text)
	}
}

// Table adds a markdown table.
func (r *Report) Table(header []string, rows [][]string) {
	fmt.Fprintf(&r.b, "| %s |\n|", strings.Join(header, " | "))
	for i := range header {
		if i == 0 {
			r.b.WriteString("---|")
		} else {
			r.b.WriteString("--:|")
		}
	}
	r.b.WriteString("\n")
	for _, row := range rows {
		fmt.Fprintf(&r.b, "| %s |\n", strings.Join(row, " | "))
	}
	r.b.WriteString("\n")
}

// Notes adds a bullet list.
func (r *Report) Notes(notes ...string) {
	for _, n := range notes {
		fmt.Fprintf(&r.b, "- %s\n", n)
	}
	r.b.WriteString("\n")
}

// Markdown is the whole report.
func (r *Report) Markdown() string {
	var h strings.Builder
	fmt.Fprintf(&h, "# OrderSaga benchmark: %s\n\n", r.Mode)
	fmt.Fprintf(&h, "- command: `%s`\n", r.Command)
	fmt.Fprintf(&h, "- started: %s, took %s\n", r.Started.Format(time.RFC3339), time.Since(r.Started).Round(time.Second))
	fmt.Fprintf(&h, "- host: %s; load average at end %s\n", r.Host, loadAverage())
	fmt.Fprintf(&h, "- stack: %s\n", r.Stack)
	return h.String() + r.b.String()
}

// Write writes the report to dir/<mode>-<timestamp>.md and returns the path.
func (r *Report) Write(dir string) (string, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("results folder: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("%s-%s", r.Mode, r.Started.Format("20060102-150405")))
	for name, body := range r.Attachments {
		if err := os.WriteFile(base+"."+name, body, 0o600); err != nil {
			return "", fmt.Errorf("write %s.%s: %w", base, name, err)
		}
	}
	path := base + ".md"
	if err := os.WriteFile(path, []byte(r.Markdown()), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return path, nil
}

// Column names that several tables share.
const (
	colRate = "sagas/s"
	colP50  = "p50"
	colP99  = "p99"
	colMax  = "max"

	colCompleted       = "completed"
	colOfStatusCeiling = "of create+status ceiling"
	colAPIRequests     = "API server requests/saga"
	colAPICPU          = "API server CPU/saga"
	colEtcdCPU         = "etcd CPU/saga"
)

// Formatting of figures.

func ms(d time.Duration) string {
	switch {
	case d == 0:
		return "–"
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000)
	case d < time.Second:
		return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

func rate(r float64) string { return fmt.Sprintf("%.1f", r) }

func share(part, whole float64) string {
	if whole <= 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f %%", 100*part/whole)
}

func perSaga(n int64, sagas int) string {
	if sagas == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(sagas))
}

func cpuPerSaga(d time.Duration, sagas int) string {
	if sagas == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000/float64(sagas))
}

func mib(b int64) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}
