package main

import (
	"math"
	"slices"
)

// summary is the median of a figure over several runs, with its spread.
type summary struct {
	Median, Min, Max float64
	N                int // runs that produced the figure
}

// summarize returns the median, minimum and maximum of xs, ignoring NaN (a run that could not
// measure). A figure no run produced is NaN throughout.
func summarize(xs []float64) summary {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return summary{Median: math.NaN(), Min: math.NaN(), Max: math.NaN()}
	}
	slices.Sort(v)
	m := v[len(v)/2]
	if len(v)%2 == 0 {
		m = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return summary{Median: m, Min: v[0], Max: v[len(v)-1], N: len(v)}
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted values.
func percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	rank = min(max(rank, 1), len(sorted))
	return sorted[rank-1]
}

// ratio returns a/b, NaN when either is unknown or b is zero.
func ratio(a, b float64) float64 {
	if math.IsNaN(a) || math.IsNaN(b) || b == 0 {
		return math.NaN()
	}
	return a / b
}
