package bench

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// counterSum sums the samples of the metric name on a Prometheus text page whose labels
// include every label of match, e.g. controller_runtime_reconcile_total with
// {controller: ordersaga}, summed over its result label. A metric with no sample yet
// (a counter never incremented) sums to 0.
func counterSum(page []byte, name string, match map[string]string) (float64, error) {
	var sum float64
	sc := bufio.NewScanner(bytes.NewReader(page))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		labels, value, ok := sampleOf(sc.Text(), name)
		if !ok || !hasLabels(labels, match) {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 0 {
			return 0, fmt.Errorf("%s: no value in %q", name, sc.Text())
		}
		v, err := strconv.ParseFloat(fields[0], 64)
		if err != nil {
			return 0, fmt.Errorf("%s: value of %q: %w", name, sc.Text(), err)
		}
		sum += v
	}
	if err := sc.Err(); err != nil {
		return 0, fmt.Errorf("read metrics: %w", err)
	}
	return sum, nil
}

// sampleOf splits a sample line of metric name into its labels (without braces) and the
// rest (value and optional timestamp); ok is false for any other line, including other
// metrics whose name starts with name.
func sampleOf(line, name string) (labels, value string, ok bool) {
	rest, found := strings.CutPrefix(line, name)
	if !found {
		return "", "", false
	}
	if after, isLabelled := strings.CutPrefix(rest, "{"); isLabelled {
		return strings.Cut(after, "} ")
	}
	if after, isBare := strings.CutPrefix(rest, " "); isBare {
		return "", after, true
	}
	return "", "", false
}

// hasLabels reports whether the label text of a sample (`a="1",b="2"`) holds every pair
// of match.
func hasLabels(labels string, match map[string]string) bool {
	if len(match) == 0 {
		return true
	}
	found := 0
	for _, m := range labelPair.FindAllStringSubmatch(labels, -1) {
		if want, ok := match[m[1]]; ok {
			if m[2] != want {
				return false
			}
			found++
		}
	}
	return found == len(match)
}
