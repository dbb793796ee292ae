package chart_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestValuesAreDocumented checks that every key of values.yaml (or a parent of it, for
// objects such as resources) has a row in the values table of docs/install.md, so that the
// table cannot silently fall behind the chart.
func TestValuesAreDocumented(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, chartDir, "values.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var values map[string]any
	if err := yaml.Unmarshal(data, &values); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(filepath.Join(root, "docs", "install.md"))
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]bool{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\|").FindAllStringSubmatch(string(doc), -1) {
		rows[m[1]] = true
	}
	perService := regexp.MustCompile(`^services\.(order|inventory|payment|shipping|notification)\.`)
	var walk func(prefix string, m map[string]any)
	walk = func(prefix string, m map[string]any) {
		for k, v := range m {
			key := strings.TrimPrefix(prefix+"."+k, ".")
			if child, ok := v.(map[string]any); ok && len(child) > 0 && !documented(rows, key, perService) {
				walk(key, child)
				continue
			}
			if !documented(rows, key, perService) {
				t.Errorf("values key %s has no row in the docs/install.md values table", key)
			}
		}
	}
	walk("", values)
}

// documented reports whether key, or key with the service name generalised to <name>, has a
// row.
func documented(rows map[string]bool, key string, perService *regexp.Regexp) bool {
	return rows[key] || rows[perService.ReplaceAllString(key, "services.<name>.")]
}
