package collectors

import "github.com/kube-state-push/kube-state-push/series"

// The series types collectors produce; see package series.
type (
	Label  = series.Label
	Labels = series.Labels
	Series = series.Series
)

// MetricName is the reserved label that carries the metric name.
const MetricName = series.MetricName

// SortSeries orders series by their label sets.
func SortSeries(ss []Series) { series.Sort(ss) }
