package chart_test

import (
	"testing"
)

// TestHelmLint runs `helm lint --strict` with the default values and with each documented
// alternative in ci/ (replica set, existing Secret, namespace-scoped RBAC, NetworkPolicy off).
func TestHelmLint(t *testing.T) {
	t.Parallel()
	for _, v := range variants(t) {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			args := []string{"lint", "--strict", chartDir}
			if v.valuesFile != "" {
				args = append(args, "--values", v.valuesFile)
			}
			helm(t, args...)
		})
	}
}
