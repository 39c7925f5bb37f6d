package customresource

import (
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// Options configure a generator.
type Options struct {
	// OnError is told of every per-object error KSM logs: a field that does
	// not match the config (a string where a number is wanted, a missing path
	// without nilIsZero, ...). resource is the GVK (group/version/Kind), metric
	// the family name, err a *FieldError. It is called from Generate, on the
	// caller's goroutine. Nil drops them.
	OnError func(resource, metric string, err error)
	// Family reports whether a family is enabled (--metric-allowlist and
	// --metric-denylist apply to custom resource families too). Nil enables all.
	Family func(f collectors.FamilyInfo) bool
}

// FieldError is a per-object error of one family.
type FieldError struct {
	// V is the family's errorLogV: KSM logs the error at that verbosity.
	V   int32
	Err error
}

func (e *FieldError) Error() string { return e.Err.Error() }

// Unwrap returns the underlying error.
func (e *FieldError) Unwrap() error { return e.Err }

// family is one compiled metric of a resource.
type family struct {
	info collectors.FamilyInfo
	// common are the commonLabels of the resource and the metric merged, with
	// the GVK labels; labels the labelsFromPath of both, read at the root.
	common  map[string]string
	labels  labelPaths
	each    evaluator
	logV    int32
	builder *collectors.SeriesBuilder
	// own is whether the metric has commonLabels or labelsFromPath of its
	// own; without, its root labels are the resource's, read once per object.
	own bool
}

// Generator turns the objects of one resource into KSM's series; it
// implements collectors.Generator. It is safe for concurrent use.
type Generator struct {
	gvk      string
	families []family
	infos    []collectors.FamilyInfo
	onError  func(resource, metric string, err error)
	// common and labels are the resource's own root labels: those of every
	// family without labels of its own.
	common map[string]string
	labels labelPaths
	// gvkLabels are the GVK labels, in name order, when no label of the
	// config can take their names: then every object's series carry them as
	// its base labels, stored once per object instead of once per series, and
	// the families' labels leave them out. Nil otherwise.
	gvkLabels []collectors.Label
}

var _ collectors.Generator = (*Generator)(nil)

// NewGenerator compiles a resource, a resolved one (see Resource.Bind) for
// series with its concrete GVK labels. A resource from Load always compiles;
// the error is for resources built by hand and names the metric.
func NewGenerator(r Resource, o Options) (*Generator, error) {
	g := &Generator{gvk: r.GroupVersionKind.String(), onError: o.OnError}
	root, err := compileFamily(r, Metric{}, nil)
	if err != nil {
		return nil, err
	}
	g.common, g.labels = root.common, root.labels
	if !mayNameGVKLabels(r) {
		g.gvkLabels = []collectors.Label{
			{Name: GroupLabel, Value: r.GroupVersionKind.Group},
			{Name: KindLabel, Value: r.GroupVersionKind.Kind},
			{Name: VersionLabel, Value: r.GroupVersionKind.Version},
		}
		for _, l := range g.gvkLabels {
			delete(g.common, l.Name)
		}
	}
	add := func(f family) {
		if o.Family != nil && !o.Family(f.info) {
			return
		}
		g.families = append(g.families, f)
		if !slices.ContainsFunc(g.infos, func(fi collectors.FamilyInfo) bool { return fi.Name == f.info.Name }) {
			g.infos = append(g.infos, f.info)
		}
	}
	for i, m := range r.Metrics {
		each, err := compileEach(m.Each)
		if err != nil {
			return nil, fmt.Errorf("metrics[%d] %s: %w", i, m.Name, err)
		}
		f, err := compileFamily(r, m, each)
		if err != nil {
			return nil, fmt.Errorf("metrics[%d] %s: %w", i, m.Name, err)
		}
		add(g.withoutGVK(f))
	}
	for _, mm := range metaFamilies(r.Extensions) {
		f, err := compileFamily(r, mm.metric, mm.each)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", mm.metric.Name, err)
		}
		add(g.withoutGVK(f))
	}
	return g, nil
}

// withoutGVK takes the GVK labels out of f's common labels when they are the
// objects' base labels.
func (g *Generator) withoutGVK(f family) family {
	for _, l := range g.gvkLabels {
		delete(f.common, l.Name)
	}
	return f
}

// mayNameGVKLabels reports whether a label of r other than its own GVK
// labels could be named customresource_group, _kind or _version, and so
// take the place of one: a metric's commonLabels, a labelsFromPath at any
// level (a "*" entry copies names from the object), a labelFromKey or a
// stateSet's labelName. The resource's commonLabels cannot: its GVK labels
// replace them.
func mayNameGVKLabels(r Resource) bool {
	gvk := func(name string) bool { return name == GroupLabel || name == KindLabel || name == VersionLabel }
	paths := func(m map[string][]string) bool {
		for k := range m {
			if isStar(k) || gvk(collectors.SanitizeLabelName(k)) {
				return true
			}
		}
		return false
	}
	if paths(r.LabelsFromPath) {
		return true
	}
	for _, m := range r.Metrics {
		for k := range m.CommonLabels {
			if gvk(k) {
				return true
			}
		}
		if paths(m.LabelsFromPath) {
			return true
		}
		e := m.Each
		switch {
		case e.Gauge != nil && (paths(e.Gauge.LabelsFromPath) || gvk(e.Gauge.LabelFromKey)),
			e.StateSet != nil && (paths(e.StateSet.LabelsFromPath) || gvk(e.StateSet.LabelName)),
			e.Info != nil && (paths(e.Info.LabelsFromPath) || gvk(e.Info.LabelFromKey)):
			return true
		}
	}
	return false
}

// metaMetric is a family of the labels and annotations extension.
type metaMetric struct {
	metric Metric
	each   *metaMap
}

// metaFamilies are the families the allowlists ask for: prefix_labels and
// prefix_annotations, with the HELP of kube-state-metrics' own.
func metaFamilies(e Extensions) []metaMetric {
	var out []metaMetric
	if len(e.LabelsAllowlist) > 0 {
		out = append(out, metaMetric{
			Metric{Name: "labels", Help: "Kubernetes labels converted to Prometheus labels.", Each: Each{Type: collectors.Gauge}},
			&metaMap{field: "labels", prefix: "label", allow: e.LabelsAllowlist}})
	}
	if len(e.AnnotationsAllowlist) > 0 {
		out = append(out, metaMetric{
			Metric{Name: "annotations", Help: "Kubernetes annotations converted to Prometheus labels.", Each: Each{Type: collectors.Gauge}},
			&metaMap{field: "annotations", prefix: "annotation", allow: e.AnnotationsAllowlist}})
	}
	return out
}

// compileFamily compiles metric m of resource r, its each compiled, as KSM's
// compileFamily: the metric's labels override the resource's, the GVK labels
// are the resource's common labels (a metric's commonLabels may override them).
func compileFamily(r Resource, m Metric, each evaluator) (family, error) {
	common := maps.Clone(r.CommonLabels)
	if common == nil {
		common = map[string]string{}
	}
	common[GroupLabel] = r.GroupVersionKind.Group
	common[VersionLabel] = r.GroupVersionKind.Version
	common[KindLabel] = r.GroupVersionKind.Kind
	maps.Copy(common, m.CommonLabels)
	paths := maps.Clone(r.LabelsFromPath)
	if paths == nil {
		paths = map[string][]string{}
	}
	maps.Copy(paths, m.LabelsFromPath)
	labels, err := compileLabelPaths(paths)
	if err != nil {
		return family{}, fmt.Errorf("labelsFromPath: %w", err)
	}
	logV := m.ErrorLogV
	if logV == 0 {
		logV = r.ErrorLogV
	}
	return family{
		info:    collectors.FamilyInfo{Name: r.FamilyName(m), Help: m.Help, Type: m.Each.Type},
		common:  common,
		labels:  labels,
		each:    each,
		logV:    logV,
		builder: &collectors.SeriesBuilder{},
		own:     len(m.CommonLabels) > 0 || len(m.LabelsFromPath) > 0,
	}, nil
}

// compileEach compiles a metric's each by its type.
func compileEach(e Each) (evaluator, error) {
	switch e.Type {
	case collectors.Gauge:
		if e.Gauge == nil {
			return nil, fmt.Errorf("expected each.gauge to not be nil")
		}
		return wrap(newGauge(e.Gauge))("each.gauge")
	case collectors.Info:
		if e.Info == nil {
			return nil, fmt.Errorf("expected each.info to not be nil")
		}
		return wrap(newInfo(e.Info))("each.info")
	case collectors.StateSet:
		if e.StateSet == nil {
			return nil, fmt.Errorf("expected each.stateSet to not be nil")
		}
		return wrap(newStateSet(e.StateSet))("each.stateSet")
	}
	return nil, fmt.Errorf("unknown metric type %s", e.Type)
}

// wrap prefixes a compile error with where it is.
func wrap[T evaluator](e T, err error) func(where string) (evaluator, error) {
	return func(where string) (evaluator, error) {
		if err != nil {
			return nil, fmt.Errorf("%s: %w", where, err)
		}
		return e, nil
	}
}

// Families describes the families in config order, one per name (KSM writes
// one header per name; the series of metrics sharing a name are one family).
func (g *Generator) Families() []collectors.FamilyInfo { return slices.Clone(g.infos) }

// BaseLabels is empty: KSM writes a custom resource's labels in name order,
// the GVK labels among them.
func (g *Generator) BaseLabels() []string { return nil }

// Generate returns the series of an *unstructured.Unstructured or its
// map[string]any content; ok is false for anything else.
func (g *Generator) Generate(obj any) (collectors.Object, bool) {
	var u *unstructured.Unstructured
	switch t := obj.(type) {
	case *unstructured.Unstructured:
		u = t
	case map[string]any:
		u = &unstructured.Unstructured{Object: t}
	default:
		return collectors.Object{}, false
	}
	if u == nil {
		return collectors.Object{}, false
	}
	var base *[]collectors.Label
	if g.gvkLabels != nil {
		b := slices.Clone(g.gvkLabels) // the object's own: the snapshot interns its values
		base = &b
	}
	var out []collectors.Series
	var root map[string]string // the resource's root labels, read once
	for i := range g.families {
		f := &g.families[i]
		labels := root
		if f.own {
			labels = maps.Clone(f.common)
			f.labels.add(u.Object, labels)
		} else if labels == nil {
			root = maps.Clone(g.common)
			g.labels.add(u.Object, root)
			labels = root
		}
		out = g.generate(f, u.Object, base, labels, out)
	}
	slices.SortStableFunc(out, func(a, b collectors.Series) int { return a.Labels.Compare(b.Labels) })
	out = slices.CompactFunc(out, func(a, b collectors.Series) bool { return a.Labels.Compare(b.Labels) == 0 })
	return collectors.Object{UID: string(u.GetUID()), ResourceVersion: u.GetResourceVersion(), Series: out}, true
}

// generate appends the series of family f for obj, as KSM's generate: each
// value's labels, then labels, the family's common and root labels, where
// the value has none of that name; errors go to OnError. labels is not
// modified. base is the object's labels (see gvkLabels), or nil.
func (g *Generator) generate(f *family, obj map[string]any, base *[]collectors.Label, labels map[string]string, out []collectors.Series) []collectors.Series {
	values, errs := f.each.values(f.each.path().get(obj), obj)
	if g.onError != nil {
		for _, err := range errs {
			g.onError(g.gvk, f.info.Name, &FieldError{V: f.logV, Err: err})
		}
	}
	for _, v := range values {
		for k, val := range labels {
			if _, ok := v.labels[k]; !ok {
				v.labels[k] = val
			}
		}
		out = append(out, f.builder.Series(f.info.Name, base, metricOf(v)))
	}
	return out
}

// metricOf is a value's metric, its labels in name order as KSM writes them.
func metricOf(v value) collectors.Metric {
	n := len(v.labels)
	buf := make([]string, n, 2*n) // the keys, then the values
	i := 0
	for k := range v.labels {
		buf[i] = k
		i++
	}
	slices.Sort(buf)
	for _, k := range buf[:n] {
		buf = append(buf, v.labels[k])
	}
	return collectors.Metric{Keys: buf[:n:n], Values: buf[n:], Value: v.v}
}
