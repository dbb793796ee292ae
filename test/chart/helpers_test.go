package chart_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// chartDir is the chart under test, relative to the repository root.
const chartDir = "charts/ordersaga"

// variant is one documented way to install the chart: the defaults or a ci/ values file.
type variant struct {
	name       string // short name, also used for the namespace and the release
	valuesFile string // relative to the repository root; empty for the defaults
}

// variants returns the defaults and every values file in the chart's ci/ folder, the
// alternatives `helm lint` and the tests cover.
func variants(t *testing.T) []variant {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot(t), chartDir, "ci", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("want the five documented alternatives in %s/ci, found %d files", chartDir, len(files))
	}
	out := append(make([]variant, 0, 1+len(files)), variant{name: "defaults"})
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimSuffix(filepath.Base(f), ".yaml"), "-values")
		out = append(out, variant{name: name, valuesFile: filepath.Join(chartDir, "ci", filepath.Base(f))})
	}
	return out
}

var (
	rootOnce sync.Once
	rootDir  string
	errRoot  error
)

// repoRoot returns the folder that holds go.mod, found by walking up from the test's folder.
func repoRoot(t testing.TB) string {
	t.Helper()
	rootOnce.Do(func() {
		dir, err := os.Getwd()
		if err != nil {
			errRoot = err
			return
		}
		for {
			if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
				rootDir = dir
				return
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				errRoot = errors.New("no go.mod above the test folder")
				return
			}
			dir = parent
		}
	})
	if errRoot != nil {
		t.Fatal(errRoot)
	}
	return rootDir
}

// toolPaths caches what hack/tool.sh prints, per tool.
var toolPaths sync.Map

type toolResult struct {
	once sync.Once
	path string
	err  error
}

// tool returns the path of a pinned tool (helm, kustomize), building it on first use.
func tool(t testing.TB, name string) string {
	t.Helper()
	v, _ := toolPaths.LoadOrStore(name, &toolResult{})
	r := v.(*toolResult)
	r.once.Do(func() {
		cmd := exec.CommandContext(t.Context(), "bash", "hack/tool.sh", name)
		cmd.Dir = repoRoot(t)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			r.err = errors.New("hack/tool.sh " + name + ": " + err.Error() + "\n" + stderr.String())
			return
		}
		r.path = strings.TrimSpace(string(out))
	})
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.path
}

// result is what a command printed and how it ended.
type result struct {
	stdout, stderr string
	err            error
}

// run runs name with args in the repository root, with extra environment variables, and
// gives up after two minutes.
func run(t testing.TB, env []string, name string, args ...string) result {
	t.Helper()
	return runWithin(t, 2*time.Minute, env, name, args...)
}

// runWithin is run with another time limit.
func runWithin(t testing.TB, limit time.Duration, env []string, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = repoRoot(t)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return result{stdout: stdout.String(), stderr: stderr.String(), err: err}
}

// helmEnv keeps helm's cache, configuration and data out of the user's home folder.
func helmEnv(t testing.TB) []string {
	t.Helper()
	dir := t.TempDir()
	return []string{
		"HELM_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"HELM_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"HELM_DATA_HOME=" + filepath.Join(dir, "data"),
	}
}

// helm runs the pinned helm and fails the test when it fails.
func helm(t testing.TB, args ...string) string {
	t.Helper()
	r := run(t, helmEnv(t), tool(t, "helm"), args...)
	if r.err != nil {
		t.Fatalf("helm %s: %v\n%s%s", strings.Join(args, " "), r.err, r.stdout, r.stderr)
	}
	return r.stdout
}

// render runs helm template for v as release v.name in namespace ns, with extra arguments.
func render(t testing.TB, v variant, ns string, extra ...string) []*unstructured.Unstructured {
	t.Helper()
	args := []string{"template", releaseName(v), chartDir, "--namespace", ns}
	if v.valuesFile != "" {
		args = append(args, "--values", v.valuesFile)
	}
	return decode(t, helm(t, append(args, extra...)...))
}

// releaseName is the release a variant is rendered as; each differs so that cluster-wide
// names differ too.
func releaseName(v variant) string {
	if v.name == "defaults" {
		return "ordersaga"
	}
	return "os-" + v.name
}

// fullname is the prefix of the object names of v's release: the release name, plus the
// chart name when the release name does not contain it.
func fullname(v variant) string {
	if v.name == "defaults" {
		return releaseName(v)
	}
	return releaseName(v) + "-ordersaga"
}

// ferretDB reports whether v runs FerretDB instead of MongoDB (mongodb.engine=ferretdb).
func (v variant) ferretDB() bool { return v.name == "ferretdb" }

// templateValues runs helm template on the chart with values (YAML) as the only values file;
// it returns what helm printed and its error instead of failing the test.
func templateValues(t *testing.T, values string) result {
	t.Helper()
	file := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(file, []byte(values), 0o600); err != nil {
		t.Fatal(err)
	}
	return run(t, helmEnv(t), tool(t, "helm"), "template", "values-check", chartDir, "--values", file)
}

// decode splits a multi-document YAML stream into objects, skipping empty documents.
func decode(t testing.TB, manifest string) []*unstructured.Unstructured {
	t.Helper()
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var out []*unstructured.Unstructured
	for {
		var m map[string]any
		err := dec.Decode(&m)
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("decode rendered YAML: %v", err)
		}
		if len(m) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: m})
	}
}

// find returns the rendered objects of kind, by name.
func find(objs []*unstructured.Unstructured, kind string) map[string]*unstructured.Unstructured {
	out := map[string]*unstructured.Unstructured{}
	for _, o := range objs {
		if o.GetKind() == kind {
			out[o.GetName()] = o
		}
	}
	return out
}
