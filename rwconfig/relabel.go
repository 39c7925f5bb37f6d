package rwconfig

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/relabel"

	"github.com/kube-state-push/kube-state-push/series"
)

// Relabel applies write_relabel_configs to ls with Prometheus's relabel
// package. It returns false when a rule drops the series. It builds a
// Relabeler per call; a sender should keep one per goroutine instead.
func Relabel(cfgs []*relabel.Config, ls series.Labels) (series.Labels, bool) {
	return NewRelabeler(nil, cfgs).Process(ls)
}

// Relabeler applies an endpoint's external labels and then its
// write_relabel_configs to label sets, in Prometheus's order
// (storage/remote.QueueManager.StoreSeries): an external label is added only
// to a series that does not have that label. A Relabeler reuses its buffers
// and is not safe for concurrent use.
//
// Cost per call: with no rules and no external label missing from the series,
// nothing is allocated and ls is returned as is. External labels alone cost one
// []series.Label for the series' own labels plus the added ones (the shared
// object labels stay shared). With rules, ls is copied into a
// prometheus labels.Labels in a reused buffer and run through a
// labels.Builder: a series the rules leave unchanged is returned as is with no
// allocation; a changed one costs Prometheus's new label string and one
// []series.Label, and no longer shares its object labels with other series.
// Regex matching is Prometheus's. A sender that sends the same series often
// can cache the result per series.
type Relabeler struct {
	external []series.Label
	cfgs     []*relabel.Config

	scratch labels.ScratchBuilder
	in      labels.Labels
	builder *labels.Builder
}

// NewRelabeler returns a Relabeler for external labels (sorted by name, as in
// Config.ExternalLabels) and relabel rules (validated, as in
// Endpoint.Relabel). The Relabeler keeps both; they must not be modified.
func NewRelabeler(external []series.Label, cfgs []*relabel.Config) *Relabeler {
	return &Relabeler{
		external: external,
		cfgs:     cfgs,
		scratch:  labels.NewScratchBuilder(16),
		builder:  labels.NewBuilder(labels.EmptyLabels()),
	}
}

// Process returns ls with the external labels it lacks and relabelled, and
// false if a rule drops it or leaves no label. The result may be ls itself.
func (r *Relabeler) Process(ls series.Labels) (series.Labels, bool) {
	if len(r.cfgs) == 0 {
		return r.addExternal(ls), true
	}
	r.scratch.Reset()
	for l := range ls.All() {
		r.scratch.Add(l.Name, l.Value)
	}
	// Overwrite reuses the buffer of the previous call: nothing may keep
	// r.in's strings past this call, which holds as the builder copies
	// what it keeps into a new Labels, and an unchanged set returns ls.
	r.scratch.Overwrite(&r.in)
	r.builder.Reset(r.in)
	for _, l := range r.external {
		if r.builder.Get(l.Name) == "" {
			r.builder.Set(l.Name, l.Value)
		}
	}
	if !relabel.ProcessBuilder(r.builder, r.cfgs...) {
		return series.Labels{}, false
	}
	out := r.builder.Labels()
	if out.IsEmpty() {
		return series.Labels{}, false
	}
	if labels.Equal(out, r.in) {
		return ls, true
	}
	return fromPrometheus(out), true
}

// fromPrometheus converts a sorted labels.Labels without empty values.
func fromPrometheus(ls labels.Labels) series.Labels {
	var name string
	extra := make([]series.Label, 0, ls.Len())
	ls.Range(func(l labels.Label) {
		if l.Name == series.MetricName {
			name = l.Value
			return
		}
		extra = append(extra, series.Label{Name: l.Name, Value: l.Value})
	})
	return series.New(name, nil, extra)
}

// addExternal adds the external labels ls lacks, keeping ls's object labels
// shared. External labels are few: each is looked up in ls.
func (r *Relabeler) addExternal(ls series.Labels) series.Labels {
	missing := 0
	for _, e := range r.external {
		if e.Name != series.MetricName && ls.Get(e.Name) == "" {
			missing++
		}
	}
	if missing == 0 {
		return ls
	}
	own := ls.Extra()
	extra := make([]series.Label, 0, len(own)+missing)
	j := 0
	for _, e := range r.external {
		if e.Name == series.MetricName || ls.Get(e.Name) != "" {
			continue
		}
		for j < len(own) && strings.Compare(own[j].Name, e.Name) < 0 {
			extra = append(extra, own[j])
			j++
		}
		extra = append(extra, e)
	}
	extra = append(extra, own[j:]...)
	return series.New(ls.Name(), ls.Base(), extra)
}
