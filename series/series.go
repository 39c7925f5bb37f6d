// Package series holds the types every stage of the pipeline shares: label
// sets, series and timestamped samples.
package series

import (
	"math"
	"slices"
	"strconv"
)

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// Series is one series an object produces now: its labels and current value.
type Series struct {
	Labels Labels
	Value  float64
	// Layout is how kube-state-metrics writes the family's labels on the
	// series' exposition line (nil when the family has none). It never changes
	// what is pushed; only the /metrics exposition reads it.
	Layout *Layout
}

// String renders the series as one line of Prometheus's text format.
func (s Series) String() string {
	return s.Labels.String() + " " + formatValue(s.Value)
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// Sort orders series by their label sets, the order snapshots diff in.
func Sort(ss []Series) {
	slices.SortFunc(ss, func(a, b Series) int { return a.Labels.Compare(b.Labels) })
}

// StaleNaN is the value that marks the end of a series (Prometheus's staleness
// marker): a NaN with the bit pattern 0x7ff0000000000002.
var StaleNaN = math.Float64frombits(StaleNaNBits)

// StaleNaNBits is the bit pattern of StaleNaN.
const StaleNaNBits uint64 = 0x7ff0000000000002

// IsStaleNaN reports whether v is the staleness marker (bit-exact).
func IsStaleNaN(v float64) bool { return math.Float64bits(v) == StaleNaNBits }

// Sample is one value of a series at a time in milliseconds since the epoch.
type Sample struct {
	Labels Labels
	T      int64
	V      float64
	// ST is the start timestamp of a counter's sample (ms since the epoch):
	// since when the counter has counted up from 0. Remote-Write 2.0 sends it
	// (Sample.start_timestamp); 0 means none, as for gauges and staleness
	// markers.
	ST int64
}
