package collectors

import (
	"slices"
	"strings"

	"github.com/kube-state-push/kube-state-push/series"
)

// Series labels (--series-labels, kube-state-metrics issue #2551): chosen
// Kubernetes labels of an object copied onto every series of the object, so
// that a query needs no join with kube_<kind>_labels.
//
// A copied label is named as the *_labels family names it (label_ + the
// sanitised, snake-cased key, with its sort-then-_conflictN rule applied to
// the keys the list selects), and it is part of the object's labels: stored
// once per object in the base all its series share, so it costs per object,
// not per series.
//
// Collisions, so that no series carries a name twice and every family keeps
// kube-state-metrics' meaning:
//   - the object's own labels (namespace, pod, ...) win over a copied label
//     (none starts with label_, so this does not happen today);
//   - a family's own label wins over a copied label of the same name: when
//     their values agree (kube_pod_labels with the same key allowlisted) the
//     series carries it once; when they differ (two keys that sanitise to the
//     same name, selected differently by the two lists) that family's series
//     keeps its own value, and the object's other series carry the copied
//     one. The object's copied labels of that name then move from the shared
//     base to each series' own labels: the rare case costs per series.
//   - a copied label with an empty value is left out, as Prometheus drops it.

// copiedLabels returns the labels of kv that allow selects, named as the
// *_labels families name them, without empty values and without names that
// own (the object's labels) has, sorted by name.
func copiedLabels(allow []string, kv map[string]string, own []Label) []Label {
	keys, values := mapToLabels("label", allowedKeys(allow, kv))
	var ls []Label
	for i, k := range keys {
		if values[i] == "" || hasLabel(own, k) {
			continue
		}
		ls = append(ls, Label{Name: k, Value: values[i]})
	}
	slices.SortFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return ls
}

// seriesCopying returns the series of o's families with the copied labels on
// every one: own (the object's labels) and the copied labels in one shared
// base, unless a family's label of the same name has another value (see
// above).
func (g *generator[T]) seriesCopying(o T, own *[]Label, out []Series) []Series {
	copied := copiedLabels(g.seriesLabels, o.GetLabels(), *own)
	metrics := make([][]Metric, len(g.families))
	var shadowed []Label // copied labels a family has with another value
	for i, f := range g.families {
		metrics[i] = f.Gen(o)
		for _, m := range metrics[i] {
			for k, key := range m.Keys {
				if k >= len(m.Values) || m.Values[k] == "" || !strings.HasPrefix(key, "label_") {
					continue
				}
				if c, ok := findLabel(copied, key); ok && c.Value != m.Values[k] && !hasLabel(shadowed, key) {
					shadowed = append(shadowed, c)
				}
			}
		}
	}
	base := *own // objectBase's fresh slice: appending to it is safe
	for _, c := range copied {
		if !hasLabel(shadowed, c.Name) {
			base = append(base, c)
		}
	}
	slices.SortFunc(base, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	slices.SortFunc(shadowed, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })

	for i, f := range g.families {
		for _, m := range metrics[i] {
			extra := familyLabels(base, m.Keys, m.Values)
			layout := g.layouts[i].layout(base, m.Keys, m.Values)
			if len(shadowed) > 0 {
				if with := withShadowed(extra, shadowed); len(with) > len(extra) {
					// The copied labels not in the base follow the family's
					// own on /metrics, as those in the base follow the
					// object's.
					keys, values := slices.Clone(m.Keys), slices.Clone(m.Values)
					for _, l := range with {
						if !hasLabel(extra, l.Name) {
							keys, values = append(keys, l.Name), append(values, l.Value)
						}
					}
					extra, layout = with, g.layouts[i].layout(base, keys, values)
				}
			}
			out = append(out, Series{Labels: series.New(f.Name, &base, extra), Value: m.Value, Layout: layout})
		}
	}
	return out
}

// withShadowed adds to a series' family labels the copied labels that are not
// in the base, except where the family has its own label of that name.
func withShadowed(extra, shadowed []Label) []Label {
	out := slices.Clip(extra)
	for _, s := range shadowed {
		if !hasLabel(extra, s.Name) {
			out = append(out, s)
		}
	}
	if len(out) == len(extra) {
		return extra
	}
	slices.SortFunc(out, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

func findLabel(ls []Label, name string) (Label, bool) {
	for _, l := range ls {
		if l.Name == name {
			return l, true
		}
	}
	return Label{}, false
}
