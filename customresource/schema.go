package customresource

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// The keys of KSM v2.20's config structs (pkg/customresourcestate), level by
// level, and the legacy keys older KSM versions read, which v2.20 ignores.

const kindName = "CustomResourceStateMetrics"

func (l *loader) root(doc *yaml.Node, cfg *Config) error {
	n := doc
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	var kind string
	return l.mapping(n, "", map[string]fieldFunc{
		"kind": func(key, val *yaml.Node, at string) error {
			// KSM does not read kind: whatever it holds is no error.
			if val.Decode(&kind) != nil || kind != kindName {
				l.warn(key, at, "not %s; KSM does not check it", kindName)
			}
			return nil
		},
		"spec": func(_, val *yaml.Node, at string) error {
			return l.mapping(val, at, map[string]fieldFunc{
				"resources": func(_, val *yaml.Node, at string) error {
					return l.sequence(val, at, func(_ int, e *yaml.Node, at string) error {
						r, err := l.resource(e, at)
						cfg.Resources = append(cfg.Resources, r)
						return err
					})
				},
			}, nil)
		},
	}, nil)
}

// resourceLegacy are resource keys of KSM before v2.7.
var resourceLegacy = map[string]string{
	"namespace": "KSM v2.7 replaced it with metricNamePrefix",
	"subsystem": "KSM v2.7 replaced it with metricNamePrefix",
}

func (l *loader) resource(n *yaml.Node, at string) (Resource, error) {
	var r Resource
	var metricNodes []*yaml.Node
	gvkKey := n
	err := l.mapping(n, at, map[string]fieldFunc{
		"groupVersionKind": func(key, val *yaml.Node, at string) error {
			gvkKey = key
			return l.mapping(val, at, map[string]fieldFunc{
				"group":   l.into(&r.GroupVersionKind.Group),
				"version": l.into(&r.GroupVersionKind.Version),
				"kind":    l.into(&r.GroupVersionKind.Kind),
			}, nil)
		},
		"resourcePlural":   l.into(&r.ResourcePlural),
		"metricNamePrefix": l.into(&r.MetricNamePrefix),
		"commonLabels":     l.commonLabels(&r.CommonLabels),
		"labelsFromPath":   l.labelsInto(&r.LabelsFromPath),
		"errorLogV":        l.into(&r.ErrorLogV),
		// Extensions.
		"labelSelector":        l.selector(&r.LabelSelector, "label", parseLabelSelector),
		"fieldSelector":        l.selector(&r.FieldSelector, "field", parseFieldSelector),
		"labelsAllowlist":      l.allowlist(&r.LabelsAllowlist),
		"annotationsAllowlist": l.allowlist(&r.AnnotationsAllowlist),
		"metrics": func(_, val *yaml.Node, at string) error {
			return l.sequence(val, at, func(_ int, e *yaml.Node, at string) error {
				m, err := l.metric(e, at)
				r.Metrics = append(r.Metrics, m)
				metricNodes = append(metricNodes, e)
				return err
			})
		},
	}, resourceLegacy)
	if err != nil {
		return r, err
	}
	if r.GroupVersionKind.Group == "" || r.GroupVersionKind.Group == "*" {
		l.warn(gvkKey, join(at, "groupVersionKind.group"), "group is required; KSM skips the resource")
	}
	for i, m := range r.Metrics {
		l.checkName(metricNodes[i], fmt.Sprintf("%s.metrics[%d]", at, i), r.FamilyName(m), m)
	}
	return r, nil
}

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)

// checkName warns about a family name that is not a Prometheus metric name
// (KSM writes it unchanged) and, as KSM logs, an info family not ending in _info.
func (l *loader) checkName(n *yaml.Node, at, name string, m Metric) {
	if !metricName.MatchString(name) {
		l.warn(keyNode(n, "name", n), join(at, "name"), "family name %q is not a metric name; KSM writes it unchanged", name)
	}
	if m.Each.Type == collectors.Info && !strings.HasSuffix(m.Name, "_info") {
		l.warn(keyNode(n, "name", n), join(at, "name"), "info metric %q does not end in _info (KSM logs this)", m.Name)
	}
}

// commonLabels decodes commonLabels, warning about names that are not
// Prometheus label names: KSM writes them as they are.
func (l *loader) commonLabels(out *map[string]string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		for name := range *out {
			if collectors.SanitizeLabelName(name) != name || name == "" {
				l.warn(keyNode(val, name, key), join(at, name), "not a label name; KSM writes it unchanged")
			}
		}
		return nil
	}
}

func (l *loader) metric(n *yaml.Node, at string) (Metric, error) {
	var m Metric
	var eachKey *yaml.Node
	err := l.mapping(n, at, map[string]fieldFunc{
		"name":           l.into(&m.Name),
		"help":           l.into(&m.Help),
		"commonLabels":   l.commonLabels(&m.CommonLabels),
		"labelsFromPath": l.labelsInto(&m.LabelsFromPath),
		"errorLogV":      l.into(&m.ErrorLogV),
		"each": func(key, val *yaml.Node, at string) error {
			eachKey = key
			return l.each(key, val, at, &m.Each)
		},
	}, nil)
	if err == nil && eachKey == nil {
		return m, l.errAt(n, join(at, "each"), "missing (want a type Gauge, StateSet or Info)")
	}
	return m, err
}

// eachLegacy are each keys of KSM before v2.6, when a metric was a gauge.
var eachLegacy = map[string]string{
	"path":           "KSM v2.6 moved it into each.gauge",
	"valueFrom":      "KSM v2.6 moved it into each.gauge",
	"labelsFromPath": "KSM v2.6 moved it into each.gauge",
	"labelFromKey":   "KSM v2.6 moved it into each.gauge",
	"nilIsZero":      "KSM v2.6 moved it into each.gauge",
}

// types are the each types KSM knows, by their lowercased name.
var types = map[string]collectors.Type{
	"gauge":    collectors.Gauge,
	"stateset": collectors.StateSet,
	"info":     collectors.Info,
}

func (l *loader) each(eachKey, n *yaml.Node, at string, e *Each) error {
	var typ string
	var typeKey *yaml.Node
	err := l.mapping(n, at, map[string]fieldFunc{
		"type": func(key, val *yaml.Node, at string) error {
			typeKey = key
			return l.into(&typ)(key, val, at)
		},
		"gauge": func(key, val *yaml.Node, at string) error {
			if isNull(val) {
				return nil
			}
			e.Gauge = &Gauge{}
			return l.gauge(val, at, e.Gauge)
		},
		"stateSet": func(key, val *yaml.Node, at string) error {
			if isNull(val) {
				return nil
			}
			e.StateSet = &StateSet{}
			return l.stateSet(val, at, e.StateSet)
		},
		"info": func(key, val *yaml.Node, at string) error {
			if isNull(val) {
				return nil
			}
			e.Info = &Info{}
			return l.info(val, at, e.Info)
		},
	}, eachLegacy)
	if err != nil {
		return err
	}
	return l.checkType(eachKey, typeKey, typ, at, e)
}

// checkType sets e.Type from typ, KSM's case-insensitive type, and checks
// that its block is there.
func (l *loader) checkType(eachKey, typeKey *yaml.Node, typ, at string, e *Each) error {
	if typeKey == nil {
		return l.errAt(eachKey, join(at, "type"), "missing (want Gauge, StateSet or Info)")
	}
	t, ok := types[strings.ToLower(typ)]
	if !ok {
		return l.errAt(typeKey, join(at, "type"), "unknown type %q (want Gauge, StateSet or Info)", typ)
	}
	e.Type = t
	block := map[collectors.Type]string{collectors.Gauge: "gauge", collectors.StateSet: "stateSet", collectors.Info: "info"}[t]
	if e.Gauge == nil && t == collectors.Gauge || e.StateSet == nil && t == collectors.StateSet || e.Info == nil && t == collectors.Info {
		return l.errAt(typeKey, join(at, block), "missing: type %s needs each.%s", typ, block)
	}
	return nil
}

func (l *loader) gauge(n *yaml.Node, at string, g *Gauge) error {
	// The value's sources, of which one at most is given: the first key
	// given, to name in the error of a second.
	var source *yaml.Node
	var sourceName string
	one := func(name string, f fieldFunc) fieldFunc {
		return func(key, val *yaml.Node, at string) error {
			if err := f(key, val, at); err != nil {
				return err
			}
			if isNull(val) || name == "count" && !g.Count {
				return nil
			}
			if source != nil {
				return l.errAt(key, at, "%s and %s (line %d) exclude each other: a gauge takes its value from one", name, sourceName, source.Line)
			}
			source, sourceName = key, name
			return nil
		}
	}
	err := l.mapping(n, at, map[string]fieldFunc{
		"path":           l.pathInto(&g.Path),
		"labelsFromPath": l.labelsInto(&g.LabelsFromPath),
		"valueFrom":      one("valueFrom", l.pathInto(&g.ValueFrom)),
		"nilIsZero":      l.into(&g.NilIsZero),
		"labelFromKey":   l.labelName(&g.LabelFromKey),
		// Extensions.
		"count":               one("count", l.into(&g.Count)),
		"constant":            one("constant", l.into(&g.Constant)),
		"valueFromLabel":      one("valueFromLabel", l.nonEmpty(&g.ValueFromLabel)),
		"valueFromAnnotation": one("valueFromAnnotation", l.nonEmpty(&g.ValueFromAnnotation)),
	}, blockHints("value", "KSM reads valueFrom; a constant value is the extension constant"))
	if err == nil && g.Count && g.LabelFromKey != "" {
		err = l.errAt(keyNode(n, "labelFromKey", n), join(at, "labelFromKey"), "count gives one series per set of labels, not per key: use labelsFromPath")
	}
	return err
}

// nonEmpty is a fieldFunc decoding a string that must not be empty.
func (l *loader) nonEmpty(out *string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		if *out == "" && !isNull(val) {
			return l.errAt(key, at, "empty: want a key")
		}
		return nil
	}
}

// selector is a fieldFunc decoding a label or field selector and checking it
// parses as the apiserver parses it.
func (l *loader) selector(out *string, kind string, parse func(string) (string, error)) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		s, err := parse(*out)
		if err != nil {
			return l.errAt(key, at, "not a %s selector: %v", kind, err)
		}
		*out = s
		return nil
	}
}

// allowlist is a fieldFunc decoding a labels or annotations allowlist: keys,
// each with at most one "*".
func (l *loader) allowlist(out *[]string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		for i, k := range *out {
			if k == "" || strings.Count(k, "*") > 1 {
				return l.errAt(key, fmt.Sprintf("%s[%d]", at, i), "%q: want a key, with at most one *", k)
			}
		}
		return nil
	}
}

// blockHints are the hints of a type block's unknown keys: labels that KSM
// reads one level up, and extra.
func blockHints(extra ...string) map[string]string {
	h := map[string]string{"commonLabels": "KSM reads commonLabels on the metric and the resource"}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = extra[i+1]
	}
	return h
}

func (l *loader) stateSet(n *yaml.Node, at string, s *StateSet) error {
	var nameKey *yaml.Node
	err := l.mapping(n, at, map[string]fieldFunc{
		"path":           l.pathInto(&s.Path),
		"labelsFromPath": l.labelsInto(&s.LabelsFromPath),
		"list":           l.into(&s.List),
		"labelName": func(key, val *yaml.Node, at string) error {
			nameKey = key
			return l.labelName(&s.LabelName)(key, val, at)
		},
		"valueFrom": l.pathInto(&s.ValueFrom),
	}, blockHints())
	if err == nil && s.LabelName == "" {
		if nameKey == nil {
			nameKey = n
		}
		l.warn(nameKey, join(at, "labelName"), "empty; KSM writes the states with an empty label name")
	}
	return err
}

func (l *loader) info(n *yaml.Node, at string, i *Info) error {
	return l.mapping(n, at, map[string]fieldFunc{
		"path":           l.pathInto(&i.Path),
		"labelsFromPath": l.labelsInto(&i.LabelsFromPath),
		"labelFromKey":   l.labelName(&i.LabelFromKey),
	}, blockHints())
}

// labelName decodes a label name KSM uses unsanitised, warning when it is
// not a Prometheus label name.
func (l *loader) labelName(out *string) fieldFunc {
	return func(key, val *yaml.Node, at string) error {
		if err := l.into(out)(key, val, at); err != nil {
			return err
		}
		if *out != "" && collectors.SanitizeLabelName(*out) != *out {
			l.warn(key, at, "%s", fmt.Sprintf("%q is not a label name; KSM writes it unchanged", *out))
		}
		return nil
	}
}
