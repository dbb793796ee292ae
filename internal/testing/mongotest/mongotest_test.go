package mongotest

import (
	"regexp"
	"strings"
	"testing"
)

func TestDatabaseNameIsValidAndUnique(t *testing.T) {
	valid := regexp.MustCompile(`^[a-z0-9_]{1,63}$`)
	a, b := DatabaseName(t), DatabaseName(t)
	if a == b || !valid.MatchString(a) {
		t.Errorf("DatabaseName = %q, %q: want distinct names matching %s", a, b, valid)
	}
	t.Run(strings.Repeat("Long/Name With Spaces", 5), func(t *testing.T) {
		if n := DatabaseName(t); !valid.MatchString(n) {
			t.Errorf("DatabaseName = %q", n)
		}
	})
}
