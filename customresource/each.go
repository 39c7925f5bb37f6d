package customresource

import (
	"errors"
	"fmt"
	"strings"
)

// value is one series of a family before the family's own labels are added.
type value struct {
	labels map[string]string
	v      float64
}

// evaluator is a compiled each: the values of what its path reached.
type evaluator interface {
	values(v any) ([]value, []error)
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
	return e, nil
}

func (g *gauge) path() path { return g.at }

// values: a map gives a series per element (in key order, KSM's is random),
// its key as labelFromKey, labels read in the element and then in the map;
// a list a series per element, labels read in it; anything else one series.
func (g *gauge) values(v any) (out []value, errs []error) {
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
func (c *info) values(v any) (out []value, errs []error) {
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
func (s *stateSet) values(v any) (out []value, errs []error) {
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
