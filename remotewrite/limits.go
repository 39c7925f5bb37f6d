package remotewrite

import (
	"log/slog"
	"math"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/series"
)

// LabelLimits are what a receiver takes of one series' labels. Mimir and Cortex
// refuse a series over a limit and answer 400 to the request that carries it,
// which the queue would count as refused whole; VictoriaMetrics ignores it.
// The queue drops such a series before it is queued, so that the others of
// its request arrive and are counted as sent. The limits apply to the
// labels as sent: after QueueConfig.Transform, with the QueueConfig.External
// labels the series lacks. 0 (or less) is no limit.
type LabelLimits struct {
	// MaxLabelNamesPerSeries caps the labels of a series, __name__ included,
	// as Mimir, Cortex and VictoriaMetrics count them.
	MaxLabelNamesPerSeries int
	// MaxLabelNameLength caps the bytes of a label name.
	MaxLabelNameLength int
	// MaxLabelValueLength caps the bytes of a label value, the metric name's
	// included.
	MaxLabelValueLength int
}

// The reasons a series is over a limit, in samples_dropped_total and
// label_limit_samples_dropped_total.
const (
	reasonLabelCount       = "label_count"
	reasonLabelNameLength  = "label_name_length"
	reasonLabelValueLength = "label_value_length"
)

// maxLimitFamilies bounds the family label of label_limit_samples_dropped_total:
// the collectors have a few hundred families, but write_relabel_configs could
// rename them without bound. Further families count as otherFamily.
const (
	maxLimitFamilies = 1000
	otherFamily      = "__other__"
)

// overLimit says why a series is over a limit: the reason, the limit, the
// series' figure (labels, or bytes) and, for a length, the label at fault.
type overLimit struct {
	reason     string
	limit, got int
	label      string
}

// labelLimiter drops the samples of series over a queue's LabelLimits. Its
// check reads only immutable state, so WriteBatch may run it concurrently.
type labelLimiter struct {
	maxLabels         int // 0: no limit
	maxName, maxValue int // math.MaxInt: no limit
	// lengthsUnlimited is set when neither length is limited; unsure when
	// within cannot tell: an external label is over a length limit, or
	// names may not be as long as __name__.
	lengthsUnlimited, unsure bool
	// external are the QueueConfig.External labels the encoder may add (those
	// with a value); longExternal those of them over a length limit.
	external, longExternal []series.Label
	logger                 *slog.Logger
	dropped                *prometheus.CounterVec // by family and reason
	byReason               map[string]prometheus.Counter

	mu sync.Mutex
	// families are the counters of the families and reasons already logged.
	families map[familyReason]prometheus.Counter
}

type familyReason struct{ family, reason string }

// newLabelLimiter returns the limiter of l, or nil when l sets no limit.
func newLabelLimiter(l LabelLimits, external []series.Label, m *queueMetrics, logger *slog.Logger) *labelLimiter {
	if l.MaxLabelNamesPerSeries <= 0 && l.MaxLabelNameLength <= 0 && l.MaxLabelValueLength <= 0 {
		return nil
	}
	unlimited := func(n int) int {
		if n <= 0 {
			return math.MaxInt
		}
		return n
	}
	ll := &labelLimiter{
		maxLabels: max(l.MaxLabelNamesPerSeries, 0),
		maxName:   unlimited(l.MaxLabelNameLength),
		maxValue:  unlimited(l.MaxLabelValueLength),
		logger:    logger,
		dropped:   m.labelLimitDropped,
		byReason:  map[string]prometheus.Counter{},
		families:  map[familyReason]prometheus.Counter{},
	}
	ll.lengthsUnlimited = ll.maxName == math.MaxInt && ll.maxValue == math.MaxInt
	for _, r := range []string{reasonLabelCount, reasonLabelNameLength, reasonLabelValueLength} {
		ll.byReason[r] = m.samplesDropped.WithLabelValues(r)
	}
	for _, e := range external {
		if e.Value == "" {
			continue
		}
		ll.external = append(ll.external, e)
		if ll.isLong(e) {
			ll.longExternal = append(ll.longExternal, e)
			o := ll.long(e)
			logger.Warn("An external label is over the receiver's label limits: every series that lacks it will be dropped",
				"label", e.Name, "reason", o.reason, "limit", o.limit, "got", o.got)
		}
	}
	ll.unsure = len(ll.longExternal) > 0 || ll.maxName < len(series.MetricName)
	return ll
}

// within reports whether the series ls, as the encoder will send it, is
// surely within the limits: the fast path that every sample takes. It copies
// no label and looks nothing up: the count is the parts' lengths plus every
// external label (as if ls had none of them), and each label's name and value
// length is compared once. A series it is unsure of goes to check. (ls by
// pointer: a Labels is six words, and copying one into each call cost about
// as much as the rest of it.) okBase is the object labels (Labels.Base) last
// found short, which the series of one object share: they are not looked at
// again.
func (l *labelLimiter) within(ls *series.Labels, okBase **[]series.Label) bool {
	if l.maxLabels > 0 && ls.Len()+len(l.external) > l.maxLabels {
		return false
	}
	if l.lengthsUnlimited {
		return true
	}
	if len(ls.Name()) > l.maxValue || l.unsure {
		return false
	}
	if base := ls.Base(); base != nil && base != *okBase {
		if !l.short(*base) {
			return false
		}
		*okBase = base
	}
	return l.short(ls.Extra())
}

// short reports whether every label of ls is within the length limits.
func (l *labelLimiter) short(ls []series.Label) bool {
	for i := range ls {
		if len(ls[i].Name) > l.maxName || len(ls[i].Value) > l.maxValue {
			return false
		}
	}
	return true
}

// check reports whether the series ls, as the encoder will send it, is over a
// limit, and which: the exact count, with the external labels ls lacks, then
// the length of each label, its name first, as receivers check.
func (l *labelLimiter) check(ls series.Labels) (overLimit, bool) {
	if l.maxLabels > 0 {
		if n := ls.Len() + len(l.external); n > l.maxLabels {
			if n = ls.Len() + l.missing(ls); n > l.maxLabels {
				return overLimit{reason: reasonLabelCount, limit: l.maxLabels, got: n}, true
			}
		}
	}
	if l.lengthsUnlimited {
		return overLimit{}, false
	}
	if name := ls.Name(); name != "" {
		if x := (series.Label{Name: series.MetricName, Value: name}); l.isLong(x) {
			return l.long(x), true
		}
	}
	if base := ls.Base(); base != nil {
		if o, over := l.checkLengths(*base); over {
			return o, true
		}
	}
	if o, over := l.checkLengths(ls.Extra()); over {
		return o, true
	}
	for _, e := range l.longExternal {
		if ls.Get(e.Name) == "" {
			return l.long(e), true
		}
	}
	return overLimit{}, false
}

// missing counts the external labels that ls lacks, which the encoder adds.
func (l *labelLimiter) missing(ls series.Labels) int {
	n := 0
	for _, e := range l.external {
		if ls.Get(e.Name) == "" {
			n++
		}
	}
	return n
}

func (l *labelLimiter) checkLengths(ls []series.Label) (overLimit, bool) {
	for i := range ls {
		if l.isLong(ls[i]) {
			return l.long(ls[i]), true
		}
	}
	return overLimit{}, false
}

func (l *labelLimiter) isLong(x series.Label) bool {
	return len(x.Name) > l.maxName || len(x.Value) > l.maxValue
}

// long says how x, which isLong, is over: its name first, as receivers check.
func (l *labelLimiter) long(x series.Label) overLimit {
	if len(x.Name) > l.maxName {
		return overLimit{reason: reasonLabelNameLength, limit: l.maxName, got: len(x.Name), label: x.Name}
	}
	return overLimit{reason: reasonLabelValueLength, limit: l.maxValue, got: len(x.Value), label: x.Name}
}

// filter returns batch without the samples of series over a limit (their
// staleness markers too: the series never reached the receiver), counting and
// logging those: batch itself when none is over, else a new slice, or batch
// filtered in place when owned (the queue's own copy, not the caller's).
func (l *labelLimiter) filter(batch []series.Sample, owned bool) []series.Sample {
	first := -1
	var o overLimit
	var okBase *[]series.Label
	for i := range batch {
		if l.within(&batch[i].Labels, &okBase) {
			continue
		}
		var over bool
		if o, over = l.check(batch[i].Labels); over {
			first = i
			break
		}
	}
	if first < 0 {
		return batch
	}
	var out []series.Sample
	if owned {
		out = batch[:first]
	} else {
		out = make([]series.Sample, first, len(batch)-1)
		copy(out, batch[:first])
	}
	l.drop(batch[first].Labels.Name(), o)
	for i := first + 1; i < len(batch); i++ {
		s := batch[i]
		if !l.within(&s.Labels, &okBase) {
			if o, over := l.check(s.Labels); over {
				l.drop(s.Labels.Name(), o)
				continue
			}
		}
		out = append(out, s)
	}
	if owned {
		clear(batch[len(out):]) // let the dropped labels go
	}
	return out
}

// drop counts one sample of family dropped for o, and logs the first of each
// family and reason.
func (l *labelLimiter) drop(family string, o overLimit) {
	l.byReason[o.reason].Inc()
	l.mu.Lock()
	defer l.mu.Unlock()
	k := familyReason{family, o.reason}
	c, ok := l.families[k]
	if !ok {
		if len(l.families) >= maxLimitFamilies {
			k.family = otherFamily
			c, ok = l.families[k]
		}
		if !ok {
			c = l.dropped.WithLabelValues(k.family, o.reason)
			l.families[k] = c
			l.log(family, o)
		}
	}
	c.Inc()
}

func (l *labelLimiter) log(family string, o overLimit) {
	args := []any{"family", family, "reason", o.reason, "limit", o.limit}
	var hint string
	switch o.reason {
	case reasonLabelCount:
		args = append(args, "labels", o.got)
		hint = "send fewer labels (a narrower --metric-labels-allowlist or --metric-annotations-allowlist than *=[*], fewer --series-labels, or labeldrop in write_relabel_configs), or raise label_limits.max_label_names_per_series if the receiver takes more"
	case reasonLabelNameLength:
		args = append(args, "label", o.label, "bytes", o.got)
		hint = "leave the label out of the allowlist, or raise label_limits.max_label_name_length if the receiver takes longer names"
	default:
		args = append(args, "label", o.label, "bytes", o.got)
		hint = "leave the label or annotation out of the allowlist, or raise label_limits.max_label_value_length if the receiver takes longer values"
	}
	args = append(args, "hint", hint)
	l.logger.Warn("Dropping the family's series that are over the receiver's label limits; further ones are counted in kube_state_push_remote_write_label_limit_samples_dropped_total, not logged", args...)
}
