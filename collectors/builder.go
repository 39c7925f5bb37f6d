package collectors

import "github.com/kube-state-push/kube-state-push/series"

// SeriesBuilder makes the series of one family for a generator outside this
// package (custom resource state): the family's labels as Generate keeps them
// and the layout KSM writes them in, remembered across objects as the
// built-in families remember theirs. One builder per family; it is safe for
// concurrent use and must not be copied after first use.
type SeriesBuilder struct {
	layouts layoutCache
}

// Series returns the series of metric m of family name, for an object whose
// labels are base (sorted by name, no empty values; nil for none). m's keys
// are written in their order, those with empty values as k="".
func (b *SeriesBuilder) Series(name string, base *[]Label, m Metric) Series {
	var bl []Label
	if base != nil {
		bl = *base
	}
	return Series{
		Labels: series.New(name, base, familyLabels(bl, m.Keys, m.Values)),
		Value:  m.Value,
		Layout: b.layouts.layout(bl, m.Keys, m.Values),
	}
}
