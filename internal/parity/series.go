package parity

import (
	"math"
	"slices"
	"strconv"
	"strings"
)

// Label is one label of a series.
type Label struct {
	Name, Value string
}

// Series is one sample as Prometheus stores it: metric name, labels sorted by
// name without empty values, and value. The tool keeps its own type rather
// than the agent's, so that the judge shares no code with what it judges.
type Series struct {
	Name   string
	Labels []Label
	Value  float64
}

// newSeries builds a series from a metric name and label pairs, leaving out
// labels whose value is empty (Prometheus drops them on ingest) and __name__.
func newSeries(name string, pairs map[string]string, value float64) Series {
	ls := make([]Label, 0, len(pairs))
	for k, v := range pairs {
		if k == "__name__" || v == "" {
			continue
		}
		ls = append(ls, Label{Name: k, Value: v})
	}
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return Series{Name: name, Labels: ls, Value: value}
}

// Key renders the name and labels as in the text format, name{a="b",...};
// two series with the same key are the same series.
func (s Series) Key() string {
	var b strings.Builder
	b.WriteString(s.Name)
	if len(s.Labels) == 0 {
		return b.String()
	}
	b.WriteByte('{')
	for i, l := range s.Labels {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.Value))
	}
	b.WriteByte('}')
	return b.String()
}

// String renders the series as a line of the text format.
func (s Series) String() string { return s.Key() + " " + formatValue(s.Value) }

func formatValue(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

// sortSeries orders series by key.
func sortSeries(ss []Series) {
	slices.SortFunc(ss, func(a, b Series) int { return strings.Compare(a.Key(), b.Key()) })
}

// timeSuffixes end the names of families whose value is a point in time in
// Unix seconds: *_created, *_deletion_timestamp, *_start_time,
// *_completion_time, *_renew_time, *_state_started, kube_serviceaccount_deleted
// and the like.
var timeSuffixes = []string{"_created", "_timestamp", "_time", "_started", "_deleted", "_timestamp_seconds"}

// IsTimeFamily reports whether the family's values are Unix times, which are
// compared within a tolerance: KSM and the agent read the same object at
// slightly different moments, and a few values (cron's next schedule, lease
// renewals) move while they do.
func IsTimeFamily(name string) bool {
	for _, s := range timeSuffixes {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// sameValue reports whether two samples of a family agree: exactly, both NaN,
// or for a time-valued family within tolerance seconds.
func sameValue(family string, a, b, tolerance float64) bool {
	if a == b || (math.IsNaN(a) && math.IsNaN(b)) {
		return true
	}
	return IsTimeFamily(family) && math.Abs(a-b) <= tolerance
}

// resourceToken returns the part of a KSM family name that names its resource,
// the singular kind after "kube_" (kube_pod_info → "pod",
// kube_persistentvolumeclaim_info → "persistentvolumeclaim", kube_limitrange →
// "limitrange"), and false for other names and self-metrics (kube_state_*).
func resourceToken(family string) (string, bool) {
	rest, ok := strings.CutPrefix(family, "kube_")
	if !ok {
		return "", false
	}
	tok, _, _ := strings.Cut(rest, "_")
	if tok == "" || tok == "state" {
		return "", false
	}
	return tok, true
}
