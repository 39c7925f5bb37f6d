// Package series holds the types every stage of the pipeline shares: label
// sets, series and timestamped samples.
package series

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Label is one name/value pair of a series.
type Label struct {
	Name, Value string
}

// Labels is a label set sorted by name, with __name__ among them and no empty
// values. A Labels value is immutable once built: snapshots and send queues
// share it.
type Labels []Label

// MetricName is the reserved label that carries the metric name.
const MetricName = "__name__"

// Get returns the value of the named label, or "" when absent.
func (ls Labels) Get(name string) string {
	for _, l := range ls {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Compare orders label sets: by name and value of each label in turn, then by length.
func (ls Labels) Compare(o Labels) int {
	n := min(len(ls), len(o))
	for i := range n {
		if c := strings.Compare(ls[i].Name, o[i].Name); c != 0 {
			return c
		}
		if c := strings.Compare(ls[i].Value, o[i].Value); c != 0 {
			return c
		}
	}
	return len(ls) - len(o)
}

// String renders the set the way Prometheus's text format does: name{a="b",...}.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteString(ls.Get(MetricName))
	if len(ls) == 1 && ls[0].Name == MetricName {
		return b.String()
	}
	b.WriteByte('{')
	first := true
	for _, l := range ls {
		if l.Name == MetricName {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(escapeLabelValue(l.Value))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeLabelValue(v string) string { return labelValueEscaper.Replace(v) }

// Series is one series an object produces now: its labels and current value.
type Series struct {
	Labels Labels
	Value  float64
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
// Labels is shared with the snapshot and must not be modified.
type Sample struct {
	Labels Labels
	T      int64
	V      float64
}
