package bench

import (
	"slices"
	"time"
)

// percentile returns the q-quantile (0..1) of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(q*float64(len(sorted))+0.999999) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

// latencySummary is p50, p99 and max of a set of latencies.
type latencySummary struct {
	N             int
	P50, P99, Max time.Duration
}

func summarize(latencies []time.Duration) latencySummary {
	sorted := slices.Clone(latencies)
	slices.Sort(sorted)
	if len(sorted) == 0 {
		return latencySummary{}
	}
	return latencySummary{N: len(sorted), P50: percentile(sorted, 0.50), P99: percentile(sorted, 0.99), Max: sorted[len(sorted)-1]}
}

func meanInt(xs []int) float64 {
	if len(xs) == 0 {
		return 0
	}
	var sum int
	for _, x := range xs {
		sum += x
	}
	return float64(sum) / float64(len(xs))
}
