package api_test

import (
	"fmt"
	"strconv"
	"strings"

	. "github.com/onsi/gomega"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// mutation changes the spec of a valid object, in its unstructured form.
type mutation func(spec map[string]any)

// set sets the spec field at path, creating maps on the way. A path is dot-separated; a
// number indexes a list: "steps.1.pivot".
func set(path string, value any) mutation {
	return func(spec map[string]any) {
		parent, key := parentOf(spec, path)
		switch p := parent.(type) {
		case map[string]any:
			p[key] = value
		case []any:
			p[index(key)] = value
		}
	}
}

// unset removes the spec field at path.
func unset(path string) mutation {
	return func(spec map[string]any) {
		parent, key := parentOf(spec, path)
		m, ok := parent.(map[string]any)
		Expect(ok).To(BeTrue(), "unset %s: the parent is not a map", path)
		delete(m, key)
	}
}

// both applies the mutations in order.
func both(ms ...mutation) mutation {
	return func(spec map[string]any) {
		for _, m := range ms {
			m(spec)
		}
	}
}

// parentOf returns the map or list that holds the last element of path, and that element.
func parentOf(spec map[string]any, path string) (any, string) {
	keys := strings.Split(path, ".")
	var cur any = spec
	for _, k := range keys[:len(keys)-1] {
		switch c := cur.(type) {
		case map[string]any:
			next, ok := c[k]
			if !ok {
				next = map[string]any{}
				c[k] = next
			}
			cur = next
		case []any:
			cur = c[index(k)]
		}
	}
	return cur, keys[len(keys)-1]
}

// index parses a list index of a path.
func index(k string) int {
	i, err := strconv.Atoi(k)
	Expect(err).NotTo(HaveOccurred(), "list index %q", k)
	return i
}

// fromYAML decodes one object.
func fromYAML(doc string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	Expect(yaml.Unmarshal([]byte(doc), &u.Object)).To(Succeed())
	return u
}

// long returns a string of n characters.
func long(n int) string { return strings.Repeat("x", n) }

// numbered returns a list of n elements, item(0) to item(n-1).
func numbered[T any](n int, item func(i int) T) []any {
	out := make([]any, 0, n)
	for i := range n {
		out = append(out, item(i))
	}
	return out
}

// keys returns a map of n entries, key(i) to value.
func keys(n int, key func(i int) string, value any) map[string]any {
	m := make(map[string]any, n)
	for i := range n {
		m[key(i)] = value
	}
	return m
}

// nameOf returns a name with the prefix and the number, for example S7.
func nameOf(prefix string) func(i int) string {
	return func(i int) string { return fmt.Sprintf("%s%d", prefix, i) }
}
