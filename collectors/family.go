package collectors

import (
	"context"
	"slices"
	"strings"
	"sync/atomic"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/series"
)

// Type is a family's Prometheus metric type.
type Type string

// The metric types of kube-state-metrics' families (pkg/metric): built-in
// families are gauges and counters; custom resource state families may also
// be info and stateset, which the text format 0.0.4 writes as gauge.
const (
	Gauge    Type = "gauge"
	Counter  Type = "counter"
	Info     Type = "info"
	StateSet Type = "stateset"
)

// Stability is a family's stability level as kube-state-metrics declares it.
type Stability string

// Stability levels.
const (
	Stable     Stability = "STABLE"
	Alpha      Stability = "ALPHA"
	Deprecated Stability = "DEPRECATED"
)

// Metric is one series of a family before the object's own labels are added.
// Keys and Values pair up; an empty value drops its label.
type Metric struct {
	Keys   []string
	Values []string
	Value  float64
}

// Family describes one metric family of a resource and how to generate it.
type Family[T any] struct {
	Name      string
	Help      string
	Type      Type
	Stability Stability
	// OptIn families emit only when --metric-opt-in-list names them.
	OptIn bool
	// Gen returns the family's series for one object. It must not fail or keep obj.
	Gen func(obj T) []Metric
}

// FamilyInfo is the static description of a family, for documentation and filtering.
type FamilyInfo struct {
	Name      string
	Help      string
	Type      Type
	Stability Stability
	OptIn     bool
}

// Options select what a generator emits.
type Options struct {
	// AllowLabels and AnnotationsAllow list the Kubernetes label and annotation keys
	// that the *_labels and *_annotations families carry, in kube-state-metrics'
	// grammar: "*" for all, an exact key, or a key with one trailing-or-inner "*".
	// Nil means the family emits nothing, as in kube-state-metrics.
	AllowLabels      []string
	AllowAnnotations []string
	// SeriesLabels lists, in the same grammar, the Kubernetes labels copied
	// onto every series of the object (--series-labels), named as the *_labels
	// families name them. Nil copies none: the series are kube-state-metrics'.
	SeriesLabels []string
	// Family reports whether the named family is enabled. Nil enables every
	// family that is not opt-in.
	Family func(f FamilyInfo) bool
}

func (o Options) enabled(f FamilyInfo) bool {
	if o.Family != nil {
		return o.Family(f)
	}
	return !f.OptIn
}

// Object is what the snapshot keeps of one Kubernetes object: its identity and series.
type Object struct {
	UID             string
	ResourceVersion string
	// Series are sorted by labels, with no duplicates.
	Series []Series
	// Start is the start timestamp (Unix ms) of the object's counter series
	// (the families of Type Counter): since when they count up from 0. It is
	// one value per object, the same in every sample, as Remote-Write 2.0's
	// Sample.start_timestamp must be between resets. 0 when the object has no
	// counter series or its resource gives no start.
	Start int64
	// Unobserved is set for a workload whose controller has not written its
	// status yet (status.observedGeneration is 0): its status families hold
	// the zero values of an empty status, not state.
	Unobserved bool
}

// Generator turns objects of one resource into series.
type Generator interface {
	// Generate returns the object's series. ok is false when obj is not of the
	// resource's type (for example a cache.DeletedFinalStateUnknown).
	Generate(obj any) (o Object, ok bool)
	// Families describes the families the generator emits, in
	// kube-state-metrics' order: the order of its HELP and TYPE headers.
	Families() []FamilyInfo
	// BaseLabels are the names of the labels every series of an object
	// carries, in the order kube-state-metrics writes them first on each line
	// (namespace, pod, uid for pods), whatever their values.
	BaseLabels() []string
}

// Resource is one kind of Kubernetes object that kube-state-push watches.
type Resource interface {
	// Name is the plural name used by --resources, e.g. "pods".
	Name() string
	// Namespaced reports whether objects live in namespaces.
	Namespaced() bool
	// Default reports whether the resource is watched when --resources is not given.
	Default() bool
	// ExpectedType is an empty object of the watched type.
	ExpectedType() runtime.Object
	// ListWatch lists and watches the resource in namespace ("" for all).
	ListWatch(c kubernetes.Interface, namespace string) *cache.ListWatch
	// Families describes every family the resource can emit.
	Families() []FamilyInfo
	// NewGenerator returns a generator for the families o enables.
	NewGenerator(o Options) Generator
}

// resource implements Resource for one typed Kubernetes object.
type resource[T metav1.Object] struct {
	name       string
	namespaced bool
	// nonDefault resources are watched only when --resources names them.
	nonDefault bool
	newObject  func() T
	listWatch  func(c kubernetes.Interface, namespace string) *cache.ListWatch
	// objectLabels are the labels every series of the object carries, such as
	// namespace and pod.
	objectLabels func(obj T) []Label
	// counterStart returns the start timestamp (Unix ms) of the object's
	// counter families, 0 if unknown (see Object.Start). Every resource with
	// a Counter family has one.
	counterStart func(obj T) int64
	// unobserved reports whether the object's controller has not observed it
	// yet (see Object.Unobserved); nil for resources without a controller.
	unobserved func(obj T) bool
	families   func(o Options) []Family[T]
}

func (r *resource[T]) Name() string                 { return r.name }
func (r *resource[T]) Namespaced() bool             { return r.namespaced }
func (r *resource[T]) Default() bool                { return !r.nonDefault }
func (r *resource[T]) ExpectedType() runtime.Object { return any(r.newObject()).(runtime.Object) }

func (r *resource[T]) ListWatch(c kubernetes.Interface, namespace string) *cache.ListWatch {
	return r.listWatch(c, namespace)
}

func (r *resource[T]) Families() []FamilyInfo {
	fams := r.families(Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"*"}})
	infos := make([]FamilyInfo, len(fams))
	for i, f := range fams {
		infos[i] = f.info()
	}
	return infos
}

func (f Family[T]) info() FamilyInfo {
	return FamilyInfo{Name: f.Name, Help: f.Help, Type: f.Type, Stability: f.Stability, OptIn: f.OptIn}
}

func (r *resource[T]) NewGenerator(o Options) Generator {
	g := &generator[T]{r: r, seriesLabels: o.SeriesLabels}
	for _, f := range r.families(o) {
		if o.enabled(f.info()) {
			g.families = append(g.families, f)
			g.counters = g.counters || f.Type == Counter
		}
	}
	g.layouts = make([]layoutCache, len(g.families))
	return g
}

type generator[T metav1.Object] struct {
	r        *resource[T]
	families []Family[T]
	layouts  []layoutCache // per family
	counters bool          // some family is a counter
	// seriesLabels is Options.SeriesLabels (see serieslabels.go).
	seriesLabels []string
	// lastLen is the number of series of the last object generated: the
	// next object's likely number, to allocate its series at once.
	lastLen atomic.Int32
}

func (g *generator[T]) Families() []FamilyInfo {
	infos := make([]FamilyInfo, len(g.families))
	for i, f := range g.families {
		infos[i] = f.info()
	}
	return infos
}

func (g *generator[T]) BaseLabels() []string {
	var names []string
	for _, l := range g.r.objectLabels(g.r.newObject()) {
		if l.Name != MetricName && !slices.Contains(names, l.Name) {
			names = append(names, l.Name)
		}
	}
	return names
}

func (g *generator[T]) Generate(obj any) (Object, bool) {
	o, ok := obj.(T)
	if !ok {
		return Object{}, false
	}
	base := objectBase(g.r.objectLabels(o))
	out := make([]Series, 0, g.lastLen.Load())
	if len(g.seriesLabels) > 0 {
		out = g.seriesCopying(o, base, out)
	} else {
		for i, f := range g.families {
			for _, m := range f.Gen(o) {
				out = append(out, Series{
					Labels: series.New(f.Name, base, familyLabels(*base, m.Keys, m.Values)),
					Value:  m.Value,
					Layout: g.layouts[i].layout(*base, m.Keys, m.Values),
				})
			}
		}
	}
	g.lastLen.Store(int32(min(len(out), 1<<20)))
	SortSeries(out)
	out = slices.CompactFunc(out, func(a, b Series) bool { return a.Labels.Compare(b.Labels) == 0 })
	object := Object{UID: string(o.GetUID()), ResourceVersion: o.GetResourceVersion(), Series: out}
	if g.counters && g.r.counterStart != nil {
		object.Start = g.r.counterStart(o)
	}
	if g.r.unobserved != nil {
		object.Unobserved = g.r.unobserved(o)
	}
	return object, true
}

// objectBase returns the object's labels without empty values, sorted by name,
// the first of repeated names kept: the part all its series share.
func objectBase(ls []Label) *[]Label {
	base := make([]Label, 0, len(ls))
	for _, l := range ls {
		if l.Value != "" && l.Name != MetricName {
			base = append(base, l)
		}
	}
	slices.SortStableFunc(base, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	base = slices.CompactFunc(base, func(a, b Label) bool { return a.Name == b.Name })
	return &base
}

// familyLabels returns a family's labels sorted by name, without empty values
// and without names the object labels already have (those win, as the first
// occurrence of a repeated name).
func familyLabels(base []Label, keys, values []string) []Label {
	var ls []Label
	for i, k := range keys {
		if i >= len(values) || values[i] == "" || k == "" || k == MetricName || hasLabel(base, k) {
			continue
		}
		if ls == nil {
			ls = make([]Label, 0, len(keys)-i)
		}
		ls = append(ls, Label{Name: k, Value: values[i]})
	}
	if len(ls) > 1 {
		slices.SortStableFunc(ls, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
		ls = slices.CompactFunc(ls, func(a, b Label) bool { return a.Name == b.Name })
	}
	return ls
}

// inOrder sorts families into order, a list of their names: KSM's order,
// where a resource's families are easier written in another. Families order
// does not name keep their place after those it names.
func inOrder[T any](fams []Family[T], order []string) []Family[T] {
	rank := func(f Family[T]) int {
		if i := slices.Index(order, f.Name); i >= 0 {
			return i
		}
		return len(order)
	}
	slices.SortStableFunc(fams, func(a, b Family[T]) int { return rank(a) - rank(b) })
	return fams
}

func hasLabel(ls []Label, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// newListWatch adapts a typed client's List and Watch to a cache.ListWatch.
func newListWatch[L runtime.Object](
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
) *cache.ListWatch {
	return &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			l, err := list(ctx, o)
			if err != nil {
				return nil, err
			}
			return l, nil
		},
		WatchFuncWithContext: watchFn,
	}
}
