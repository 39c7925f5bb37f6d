package parity

import (
	"math"
	"slices"
	"strings"

	"github.com/kube-state-push/kube-state-push/series"
)

// newLabels builds a sorted label set from a metric name and label pairs,
// leaving out labels whose value is empty (Prometheus drops them on ingest).
func newLabels(name string, pairs map[string]string) series.Labels {
	ls := make(series.Labels, 0, len(pairs)+1)
	ls = append(ls, series.Label{Name: series.MetricName, Value: name})
	for k, v := range pairs {
		if k == series.MetricName || v == "" {
			continue
		}
		ls = append(ls, series.Label{Name: k, Value: v})
	}
	slices.SortFunc(ls, func(a, b series.Label) int { return strings.Compare(a.Name, b.Name) })
	return ls
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
// kube_persistentvolumeclaim_info → "persistentvolumeclaim"), and false for
// names that do not have that shape or are self-metrics (kube_state_*).
func resourceToken(family string) (string, bool) {
	rest, ok := strings.CutPrefix(family, "kube_")
	if !ok {
		return "", false
	}
	tok, _, ok := strings.Cut(rest, "_")
	if !ok || tok == "" || tok == "state" {
		return "", false
	}
	return tok, true
}
