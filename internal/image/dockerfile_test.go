package image

import (
	"encoding/json"
	"os"
	"path"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// finalStage is what the Dockerfile's last stage puts in the image.
type finalStage struct {
	From       string
	Files      []string
	User       string
	WorkingDir string
	Entrypoint []string
	Labels     map[string]string
}

// instructions joins continuation lines and drops comments and blank lines.
func instructions(dockerfile string) []string {
	var lines []string
	cur := ""
	for raw := range strings.Lines(dockerfile) {
		l := strings.TrimSpace(raw)
		if cur == "" && (l == "" || strings.HasPrefix(l, "#")) {
			continue
		}
		if rest, ok := strings.CutSuffix(l, "\\"); ok {
			cur += rest + " "
			continue
		}
		lines = append(lines, cur+l)
		cur = ""
	}
	return lines
}

// parseFinalStage reads the instructions after the Dockerfile's last FROM. It knows the
// handful of instructions that file uses and fails on any other, so that a new one cannot
// slip past the comparison.
func parseFinalStage(t *testing.T, dockerfile string) finalStage {
	t.Helper()
	lines := instructions(dockerfile)
	last := -1
	for i, l := range lines {
		if strings.HasPrefix(strings.ToUpper(l), "FROM ") {
			last = i
		}
	}
	if last < 0 {
		t.Fatal("the Dockerfile has no FROM")
	}
	st := finalStage{Labels: map[string]string{}}
	for _, l := range lines[last:] {
		st.apply(t, l)
	}
	return st
}

// apply records one instruction of the final stage.
func (st *finalStage) apply(t *testing.T, line string) {
	t.Helper()
	instr, args, _ := strings.Cut(line, " ")
	fields := strings.Fields(args)
	switch strings.ToUpper(instr) {
	case "FROM":
		st.From = args
	case "ARG":
	case "LABEL":
		for _, kv := range splitLabels(t, args) {
			k, v, _ := strings.Cut(kv, "=")
			st.Labels[k] = strings.Trim(v, `"`)
		}
	case "COPY":
		if len(fields) < 3 || fields[0] != "--from=builder" || fields[len(fields)-1] != "/" {
			t.Fatalf("COPY %s: the test expects COPY --from=builder SRC... /", args)
		}
		for _, src := range fields[1 : len(fields)-1] {
			st.Files = append(st.Files, "/"+path.Base(src))
		}
	case "USER":
		st.User = args
	case "WORKDIR":
		st.WorkingDir = args
	case "ENTRYPOINT":
		if err := json.Unmarshal([]byte(args), &st.Entrypoint); err != nil {
			t.Fatalf("ENTRYPOINT %s: want the JSON form: %v", args, err)
		}
	default:
		t.Fatalf("the final stage uses %s, which this test does not compare with internal/image.Product; teach it", instr)
	}
}

// splitLabels splits `k="v w" k2="x"` into its pairs.
func splitLabels(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var b strings.Builder
	quoted := false
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			b.WriteRune(r)
		case r == ' ' && !quoted:
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if quoted {
		t.Fatalf("LABEL %s: unbalanced quotes", s)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// TestDockerfileMatchesProduct holds `docker build` and `make image` to one layout: the same
// programs at the same paths, user, working directory, entrypoint and labels. No Docker engine
// runs here, so the Dockerfile is read rather than built; its builder stage runs `make build`,
// which is what `make image` packs.
func TestDockerfileMatchesProduct(t *testing.T) {
	b, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "RUN make build ") {
		t.Error("the Dockerfile's builder stage must run `make build`, which `make image` packs too")
	}
	got := parseFinalStage(t, string(b))
	const version, revision = "${VERSION}", "${REVISION}"
	spec := Product(ProductOptions{Ref: "x:1", BinDir: "bin", Version: version, Revision: revision})
	files := make([]string, 0, len(spec.Files))
	for _, f := range spec.Files {
		files = append(files, f.Path)
	}
	slices.Sort(files)
	slices.Sort(got.Files)
	want := finalStage{
		From: "scratch", Files: files, User: spec.User, WorkingDir: spec.WorkingDir,
		Entrypoint: spec.Entrypoint, Labels: spec.Labels,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the Dockerfile's final stage and internal/image.Product disagree (-make image +Dockerfile):\n%s", diff)
	}
}
