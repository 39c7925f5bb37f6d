package customresource

import (
	"strings"

	"github.com/gobuffalo/flect"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// DefaultPrefix is the metric name prefix of a resource without
// metricNamePrefix.
const DefaultPrefix = "kube_customresource"

// The labels KSM adds to every series of a resource, from its groupVersionKind.
const (
	GroupLabel   = "customresource_group"
	VersionLabel = "customresource_version"
	KindLabel    = "customresource_kind"
)

// Config is a loaded CustomResourceStateMetrics config.
type Config struct {
	// Resources are spec.resources, in file order.
	Resources []Resource
	// Warnings are what KSM accepts but ignores (unknown keys, a second YAML
	// document) or cannot use (a group wildcard), one positioned line each.
	Warnings []string
}

// GroupVersionKind is a resource's groupVersionKind. Version and Kind may be
// "*" or empty: wildcards that discovery resolves.
type GroupVersionKind struct {
	Group, Version, Kind string
}

// String renders the GVK as group/version/Kind.
func (g GroupVersionKind) String() string { return g.Group + "/" + g.Version + "/" + g.Kind }

// Labels are the commonLabels and labelsFromPath of a resource or a metric.
type Labels struct {
	// CommonLabels are constant labels, named as written (KSM does not
	// sanitise them).
	CommonLabels map[string]string
	// LabelsFromPath name labels whose values are read at a path. A name
	// starting or ending with "*" copies every key of the map at its path,
	// prefixed by what comes before a trailing "*".
	LabelsFromPath map[string][]string
}

// Resource is one entry of spec.resources.
type Resource struct {
	GroupVersionKind GroupVersionKind
	// ResourcePlural is resourcePlural, "" when unset (see Plural).
	ResourcePlural string
	// MetricNamePrefix is metricNamePrefix; nil when unset (see Prefix).
	MetricNamePrefix *string
	Labels
	// ErrorLogV is errorLogV: the verbosity of per-object errors.
	ErrorLogV int32
	Metrics   []Metric
	Extensions
}

// Extensions are a resource's keys that KSM does not have (it ignores them):
// what its users ask for and its frozen format does not give.
type Extensions struct {
	// LabelSelector and FieldSelector (labelSelector, fieldSelector) select
	// the objects listed and watched, in the apiserver's syntax.
	LabelSelector, FieldSelector string
	// LabelsAllowlist and AnnotationsAllowlist (labelsAllowlist,
	// annotationsAllowlist) add the families prefix_labels and
	// prefix_annotations: the object's allowed labels as label_*,
	// annotations as annotation_*, with --metric-labels-allowlist's entries
	// (keys, one "*" wildcard in a key, or "*" first for all).
	LabelsAllowlist, AnnotationsAllowlist []string
}

// Metric is one entry of a resource's metrics: one family.
type Metric struct {
	Name, Help string
	Labels
	// ErrorLogV overrides the resource's when not 0.
	ErrorLogV int32
	Each      Each
}

// Each is a metric's each: its type and the block of that type.
type Each struct {
	// Type is collectors.Gauge, collectors.StateSet or collectors.Info.
	Type     collectors.Type
	Gauge    *Gauge
	StateSet *StateSet
	Info     *Info
}

// Gauge is each.gauge: one series per value at Path (per element of a list
// or map there), the value read at ValueFrom below it.
type Gauge struct {
	Path           []string
	LabelsFromPath map[string][]string
	ValueFrom      []string
	// NilIsZero gives 0 for a missing value instead of no series.
	NilIsZero bool
	// LabelFromKey names a label carrying the map key when Path is a map.
	LabelFromKey string
	GaugeExtensions
}

// GaugeExtensions are the value sources of a gauge that KSM does not have,
// each exclusive of ValueFrom and of the others.
type GaugeExtensions struct {
	// Count (count: true) makes the value the number of elements of the list
	// (or keys of the map) at Path, one series per distinct set of the labels
	// read in the elements (LabelsFromPath), instead of one per element.
	Count bool
	// Constant (constant) is the value of every series: one per element.
	Constant *float64
	// ValueFromLabel and ValueFromAnnotation (valueFromLabel,
	// valueFromAnnotation) take the value of every series from the object's
	// label or annotation of that key, converted as a valueFrom is.
	ValueFromLabel, ValueFromAnnotation string
}

// StateSet is each.stateSet: one series per List entry, 1 for the entry
// equal to the string at Path (and ValueFrom below it), labelled LabelName.
type StateSet struct {
	Path           []string
	LabelsFromPath map[string][]string
	List           []string
	LabelName      string
	ValueFrom      []string
}

// Info is each.info: series of value 1 carrying the labels read below Path.
type Info struct {
	Path           []string
	LabelsFromPath map[string][]string
	LabelFromKey   string
}

// Prefix returns the metric name prefix: metricNamePrefix, DefaultPrefix
// when unset. An empty prefix names families after the metric alone.
func (r Resource) Prefix() string {
	if r.MetricNamePrefix == nil {
		return DefaultPrefix
	}
	return *r.MetricNamePrefix
}

// FamilyName returns the name of the family of metric m: prefix_name, or
// name alone when the prefix is empty.
func (r Resource) FamilyName(m Metric) string {
	if p := r.Prefix(); p != "" {
		return p + "_" + m.Name
	}
	return m.Name
}

// Plural returns the resource name to watch: resourcePlural, else the
// lowercased flect plural of the kind (kubebuilder's default, as KSM's
// GetResourceName). KSM v2.20 replaces both by the CRD's plural when it
// resolves the resource through discovery; the agent does that with Bind.
func (r Resource) Plural() string {
	if r.ResourcePlural != "" {
		return r.ResourcePlural
	}
	return strings.ToLower(flect.Pluralize(r.GroupVersionKind.Kind))
}

// isWildcard reports whether a version or kind matches any: "*" or empty,
// as KSM's discovery reads them.
func isWildcard(s string) bool { return s == "" || s == "*" }

// HasWildcard reports whether the version or the kind is a wildcard, to be
// resolved through discovery into one Resource per installed match.
func (r Resource) HasWildcard() bool {
	return isWildcard(r.GroupVersionKind.Version) || isWildcard(r.GroupVersionKind.Kind)
}

// Matches reports whether the concrete gvk is one the resource selects:
// same group, and version and kind equal or wildcards. A resource whose
// group is empty or "*" matches nothing: KSM refuses to resolve it.
func (r Resource) Matches(gvk GroupVersionKind) bool {
	g := r.GroupVersionKind
	if g.Group == "" || g.Group == "*" || gvk.Group != g.Group {
		return false
	}
	return (isWildcard(g.Version) || g.Version == gvk.Version) && (isWildcard(g.Kind) || g.Kind == gvk.Kind)
}

// Bind returns the resource for one concrete gvk that it matches and the
// CRD's plural, as KSM's discovery binds every resource (wildcard or not)
// before generating: the copy's series carry gvk's labels. ok is false when
// the resource does not match gvk.
func (r Resource) Bind(gvk GroupVersionKind, plural string) (bound Resource, ok bool) {
	if !r.Matches(gvk) || isWildcard(gvk.Version) || isWildcard(gvk.Kind) {
		return Resource{}, false
	}
	r.GroupVersionKind = gvk
	r.ResourcePlural = plural
	return r, true
}
