package collectors

import "github.com/kube-state-push/kube-state-push/series"

// The series types collectors produce; see package series.
type (
	// Label is a label name and value.
	Label = series.Label
	// Labels is a label set, sorted by name.
	Labels = series.Labels
	// Series is a label set and its value.
	Series = series.Series
)

// MetricName is the reserved label that carries the metric name.
const MetricName = series.MetricName

// SortSeries orders series by their label sets.
func SortSeries(ss []Series) { series.Sort(ss) }
