package customresource

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// value is one series of a family before the family's own labels are added.
type value struct {
	labels map[string]string
	v      float64
}

// evaluator is a compiled each: the values of what its path reached in
// obj, the object.
type evaluator interface {
	values(v any, obj map[string]any) ([]value, []error)
	path() path
}

// gauge is a compiled each.gauge.
type gauge struct {
	at, valueFrom path
	labels        labelPaths
	labelFromKey  string
	nilIsZero     bool
	// keyValue is valueFrom's one part when it has one (without a comma): in
	// a map, the element under that key is a value itself (KSM's unit-length
	// valueFrom shortcut).
	keyValue string
	// count, constant and fromMeta are the extensions' value sources;
	// fromMeta is the object's labels or annotations map and metaKey the key.
	count    bool
	constant *float64
	fromMeta string
	metaKey  string
}

func newGauge(g *Gauge) (*gauge, error) {
	at, err := compilePath(g.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	labels, err := compileLabelPaths(g.LabelsFromPath)
	if err != nil {
		return nil, fmt.Errorf("labelsFromPath: %w", err)
	}
	vf, err := compilePath(g.ValueFrom)
	if err != nil {
		return nil, fmt.Errorf("valueFrom: %w", err)
	}
	e := &gauge{at: at, valueFrom: vf, labels: labels, labelFromKey: g.LabelFromKey, nilIsZero: g.NilIsZero}
	if len(g.ValueFrom) == 1 && g.ValueFrom[0] != "" && !strings.Contains(g.ValueFrom[0], ",") {
		e.keyValue = g.ValueFrom[0]
	}
	e.count, e.constant = g.Count, g.Constant
	switch {
	case g.ValueFromLabel != "":
		e.fromMeta, e.metaKey = "labels", g.ValueFromLabel
	case g.ValueFromAnnotation != "":
		e.fromMeta, e.metaKey = "annotations", g.ValueFromAnnotation
	}
	return e, nil
}

func (g *gauge) path() path { return g.at }

func (g *gauge) values(v any, obj map[string]any) (out []value, errs []error) {
	switch {
	case g.count:
		return g.counts(v)
	case g.constant != nil:
		return g.each(v, *g.constant), nil
	case g.fromMeta != "":
		f, err := g.metaValue(obj)
		if err != nil {
			return nil, []error{err}
		}
		if f == nil {
			return nil, nil
		}
		return g.each(v, *f), nil
	}
	return g.fromValues(v)
}

// counts is the count extension: the number of elements of the list or map
// v, one series per distinct set of the labels read in the elements. Without
// labelsFromPath that is one series, 0 for an empty v; with them, an empty v
// has no group and no series. A missing v is an empty one with nilIsZero,
// else no series; anything else is an error.
func (g *gauge) counts(v any) ([]value, []error) {
	var elems []any
	switch t := v.(type) {
	case []any:
		elems = t
	case map[string]any:
		for _, k := range sortedKeys(t) {
			elems = append(elems, t[k])
		}
	case nil:
		if !g.nilIsZero {
			return nil, nil
		}
	default:
		return nil, []error{fmt.Errorf("%s: count: expected a list or a map, got %T", g.at, v)}
	}
	if len(elems) == 0 {
		if len(g.labels) > 0 {
			return nil, nil
		}
		return []value{{labels: map[string]string{}}}, nil
	}
	var out []value
	group := map[string]int{} // by labels, the index in out
	for _, it := range elems {
		labels := map[string]string{}
		g.labels.add(it, labels)
		key := labelsKey(labels)
		if i, ok := group[key]; ok {
			out[i].v++
			continue
		}
		group[key] = len(out)
		out = append(out, value{labels: labels, v: 1})
	}
	return out, nil
}

// labelsKey is a set of labels as one string, the same for equal sets.
func labelsKey(labels map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		b.WriteString(k)
		b.WriteByte(0xff)
		b.WriteString(labels[k])
		b.WriteByte(0xff)
	}
	return b.String()
}

// each is a series of value f per element of v (list or map, labels read
// in it, a map's key as labelFromKey), or one for v itself; none when v is
// missing.
func (g *gauge) each(v any, f float64) []value {
	var out []value
	switch t := v.(type) {
	case nil:
	case map[string]any:
		for _, key := range sortedKeys(t) {
			ev := value{labels: map[string]string{}, v: f}
			if key != "" && g.labelFromKey != "" {
				ev.labels[g.labelFromKey] = key
			}
			g.labels.add(t[key], ev.labels)
			g.labels.add(v, ev.labels)
			out = append(out, ev)
		}
	case []any:
		for _, it := range t {
			ev := value{labels: map[string]string{}, v: f}
			g.labels.add(it, ev.labels)
			out = append(out, ev)
		}
	default:
		ev := value{labels: map[string]string{}, v: f}
		g.labels.add(v, ev.labels)
		out = append(out, ev)
	}
	return out
}

// metaValue is the value of the object's label or annotation metaKey,
// converted as a valueFrom is: nil when it has none (0 with nilIsZero).
func (g *gauge) metaValue(obj map[string]any) (*float64, error) {
	var got any
	if md, ok := obj["metadata"].(map[string]any); ok {
		if m, ok := md[g.fromMeta].(map[string]any); ok {
			got = m[g.metaKey]
		}
	}
	if got == nil && !g.nilIsZero {
		return nil, nil
	}
	f, err := toFloat64(got, g.nilIsZero)
	if err != nil {
		return nil, fmt.Errorf("metadata.%s[%s]: %w", g.fromMeta, g.metaKey, err)
	}
	return &f, nil
}

// fromValues is KSM's gauge: a map gives a series per element (in key order, KSM's is random),
// its key as labelFromKey, labels read in the element and then in the map;
// a list a series per element, labels read in it; anything else one series.
func (g *gauge) fromValues(v any) (out []value, errs []error) {
	fail := func(err error) { errs = append(errs, fmt.Errorf("%s: %w", g.at, err)) }
	switch t := v.(type) {
	case map[string]any:
		for _, key := range sortedKeys(t) {
			it := t[key]
			var ev *value
			if g.keyValue != "" && key == g.keyValue {
				f, err := toFloat64(it, g.nilIsZero)
				if err != nil {
					fail(fmt.Errorf("[%s]: %w", key, err))
					continue
				}
				ev = &value{labels: map[string]string{}, v: f}
			} else if ev, _ = g.value(it); ev == nil {
				continue // KSM drops the error of a map element
			}
			if key != "" && g.labelFromKey != "" {
				ev.labels[g.labelFromKey] = key
			}
			g.labels.add(it, ev.labels)
			g.labels.add(v, ev.labels)
			out = append(out, *ev)
		}
	case []any:
		for i, it := range t {
			ev, err := g.value(it)
			if err != nil {
				fail(fmt.Errorf("[%d]: %w", i, err))
				continue
			}
			if ev == nil {
				continue
			}
			g.labels.add(it, ev.labels)
			out = append(out, *ev)
		}
	default:
		ev, err := g.value(v)
		if err != nil {
			fail(err)
			break
		}
		if ev != nil {
			g.labels.add(v, ev.labels)
			out = append(out, *ev)
		}
	}
	return out, errs
}

// errNilPath is the error of a gauge whose path reached nothing.
var errNilPath = errors.New("got nil while resolving path")

// value is the series of one element: its valueFrom converted. A missing
// valueFrom is 0 with nilIsZero, else no series, an error only when the
// element itself is missing.
func (g *gauge) value(it any) (*value, error) {
	got := g.valueFrom.get(it)
	if got == nil {
		if g.nilIsZero {
			return &value{labels: map[string]string{}}, nil
		}
		if it == nil {
			return nil, errNilPath
		}
		return nil, nil
	}
	f, err := toFloat64(got, g.nilIsZero)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", g.valueFrom, err)
	}
	return &value{labels: map[string]string{}, v: f}, nil
}

// info is a compiled each.info.
type info struct {
	at           path
	labels       labelPaths
	labelFromKey string
}

func newInfo(i *Info) (*info, error) {
	at, err := compilePath(i.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	labels, err := compileLabelPaths(i.LabelsFromPath)
	if err != nil {
		return nil, fmt.Errorf("labelsFromPath: %w", err)
	}
	return &info{at: at, labels: labels, labelFromKey: i.LabelFromKey}, nil
}

func (c *info) path() path { return c.at }

// values: a list gives a series per element with labels; a map one series
// for the labels read in the map itself (if any) and one per element with
// labels (its key as labelFromKey, labels read in it); anything else one
// series if it has labels. Every series is 1.
func (c *info) values(v any, _ map[string]any) (out []value, errs []error) {
	switch t := v.(type) {
	case []any:
		for _, it := range t {
			out = append(out, c.one(it)...)
		}
	case map[string]any:
		own := c.one(v)
		for _, ev := range own {
			if _, ok := ev.labels[c.labelFromKey]; ok {
				errs = append(errs, fmt.Errorf("%s: labelFromKey (%s) generated labels conflict with labelsFromPath, consider renaming it", c.at, c.labelFromKey))
			}
		}
		for _, key := range sortedKeys(t) {
			labels := map[string]string{}
			if key != "" && c.labelFromKey != "" {
				labels[c.labelFromKey] = key
			}
			c.labels.add(t[key], labels)
			if len(labels) > 0 {
				out = append(out, value{labels: labels, v: 1})
			}
		}
		out = append(out, own...)
	default:
		out = c.one(v)
	}
	return out, errs
}

// one is the series of v's own labels, none when v is nil or has none.
func (c *info) one(v any) []value {
	if v == nil {
		return nil
	}
	labels := map[string]string{}
	c.labels.add(v, labels)
	if len(labels) == 0 {
		return nil
	}
	return []value{{labels: labels, v: 1}}
}

// stateSet is a compiled each.stateSet.
type stateSet struct {
	at, valueFrom path
	labels        labelPaths
	list          []string
	labelName     string
}

func newStateSet(s *StateSet) (*stateSet, error) {
	at, err := compilePath(s.Path)
	if err != nil {
		return nil, fmt.Errorf("path: %w", err)
	}
	labels, err := compileLabelPaths(s.LabelsFromPath)
	if err != nil {
		return nil, fmt.Errorf("labelsFromPath: %w", err)
	}
	vf, err := compilePath(s.ValueFrom)
	if err != nil {
		return nil, fmt.Errorf("valueFrom: %w", err)
	}
	return &stateSet{at: at, valueFrom: vf, labels: labels, list: s.List, labelName: s.LabelName}, nil
}

func (s *stateSet) path() path { return s.at }

// values: a list gives the states of each element, anything else its own.
func (s *stateSet) values(v any, _ map[string]any) (out []value, errs []error) {
	list, ok := v.([]any)
	if !ok {
		return s.states(v)
	}
	for _, it := range list {
		evs, err := s.states(it)
		errs = append(errs, err...)
		if len(err) == 0 {
			out = append(out, evs...)
		}
	}
	return out, errs
}

// states is one series per list entry, 1 for the one equal to the string at
// valueFrom; none when that is missing, an error when it is not a string.
func (s *stateSet) states(v any) ([]value, []error) {
	got := s.valueFrom.get(v)
	if got == nil {
		return nil, nil
	}
	str, ok := got.(string)
	if !ok {
		full := append(append(path{}, s.at...), s.valueFrom...)
		return nil, []error{fmt.Errorf("%s: expected value for path to be string, got %T", full, got)}
	}
	out := make([]value, 0, len(s.list))
	for _, entry := range s.list {
		ev := value{labels: map[string]string{s.labelName: entry}}
		if str == entry {
			ev.v = 1
		}
		s.labels.add(v, ev.labels)
		out = append(out, ev)
	}
	return out, nil
}

// metaMap is the evaluator of the labels and annotations extension: one
// series of value 1 whose labels are the object's allowed labels (or
// annotations), named as kube-state-metrics names them for built-in resources.
type metaMap struct {
	field  string // "labels" or "annotations"
	prefix string // "label" or "annotation"
	allow  []string
}

func (m *metaMap) path() path { return nil }

func (m *metaMap) values(_ any, obj map[string]any) ([]value, []error) {
	kv := map[string]string{}
	if md, ok := obj["metadata"].(map[string]any); ok {
		if src, ok := md[m.field].(map[string]any); ok {
			for k, v := range src {
				kv[k] = labelValue(v)
			}
		}
	}
	keys, values := collectors.AllowedMapLabels(m.prefix, m.allow, kv)
	labels := make(map[string]string, len(keys))
	for i, k := range keys {
		labels[k] = values[i]
	}
	return []value{{labels: labels, v: 1}}, nil
}
