package collectors

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	v1 "k8s.io/api/core/v1"
	apiresource "k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// m builds a Metric from a value and alternating label keys and values.
func m(value float64, kv ...string) Metric {
	keys := make([]string, 0, len(kv)/2)
	values := make([]string, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		keys = append(keys, kv[i])
		values = append(values, kv[i+1])
	}
	return Metric{Keys: keys, Values: values, Value: value}
}

// one is a family with a single series carrying only the object's labels.
func one(value float64) []Metric { return []Metric{{Value: value}} }

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// timeMetric is a Unix-seconds series, or none when t is unset.
func timeMetric(t *metav1.Time) []Metric {
	if t == nil || t.IsZero() {
		return nil
	}
	return one(float64(t.Unix()))
}

// conditionStatuses are the three values condition series carry, in KSM's order.
var conditionStatuses = []v1.ConditionStatus{v1.ConditionTrue, v1.ConditionFalse, v1.ConditionUnknown}

// conditionMetrics returns the three series of one condition: key=true|false|unknown,
// value 1 for the matching status. extra labels are added to each series.
func conditionMetrics(key string, status v1.ConditionStatus, extra ...string) []Metric {
	out := make([]Metric, 0, 3)
	for _, s := range conditionStatuses {
		kv := append(slices.Clone(extra), key, strings.ToLower(string(s)))
		out = append(out, m(boolFloat(s == status), kv...))
	}
	return out
}

// ownerMetrics is KSM's *_owner family: one series per owner reference, or one
// with empty owner labels when there is none.
func ownerMetrics(refs []metav1.OwnerReference, withController bool) []Metric {
	if len(refs) == 0 {
		if withController {
			return []Metric{m(1, "owner_kind", "", "owner_name", "", "owner_is_controller", "")}
		}
		return []Metric{m(1, "owner_kind", "", "owner_name", "")}
	}
	out := make([]Metric, 0, len(refs))
	for _, r := range refs {
		if withController {
			out = append(out, m(1, "owner_kind", r.Kind, "owner_name", r.Name,
				"owner_is_controller", boolString(r.Controller != nil && *r.Controller)))
		} else {
			out = append(out, m(1, "owner_kind", r.Kind, "owner_name", r.Name))
		}
	}
	return out
}

// Units of the resource families.
const (
	unitCore    = "core"
	unitByte    = "byte"
	unitInteger = "integer"
)

// resourceStyle is how a store converts resource quantities; KSM's pod and node
// stores differ.
type resourceStyle int

const (
	// podResources: cpu in cores at milli precision, everything else whole
	// (Value()); "pods" and unknown names are not reported.
	podResources resourceStyle = iota
	// nodeResources: every value at milli precision; "pods" is reported.
	nodeResources
)

// resourceMetrics is one series per reported resource in rl, in sorted name
// order, with KSM's resource (sanitized) and unit labels: cpu in cores,
// memory-like quantities in bytes, pods and extended resources as integers.
// extra labels are added to each series.
func resourceMetrics(rl v1.ResourceList, style resourceStyle, extra ...string) []Metric {
	names := make([]string, 0, len(rl))
	for n := range rl {
		names = append(names, string(n))
	}
	slices.Sort(names)
	out := make([]Metric, 0, len(names))
	for _, n := range names {
		name := v1.ResourceName(n)
		unit := resourceUnit(name, style)
		if unit == "" {
			continue
		}
		q := rl[name]
		value := float64(q.Value())
		if style == nodeResources || name == v1.ResourceCPU {
			value = ksmQuantityFloat(&q)
		}
		kv := append(slices.Clone(extra), "resource", SanitizeLabelName(n), "unit", unit)
		out = append(out, m(value, kv...))
	}
	return out
}

// resourceUnit is the unit KSM reports a resource in, or "" when it does not
// report it.
func resourceUnit(name v1.ResourceName, style resourceStyle) string {
	switch {
	case name == v1.ResourceCPU:
		return unitCore
	case name == v1.ResourceMemory, name == v1.ResourceStorage, name == v1.ResourceEphemeralStorage,
		strings.HasPrefix(string(name), v1.ResourceHugePagesPrefix),
		strings.HasPrefix(string(name), v1.ResourceAttachableVolumesPrefix):
		return unitByte
	case name == v1.ResourcePods && style == nodeResources, isExtendedResourceName(name):
		return unitInteger
	}
	return ""
}

// isExtendedResourceName is Kubernetes' rule for extended resources: a
// domain-prefixed name outside kubernetes.io that is valid as a quota name.
func isExtendedResourceName(name v1.ResourceName) bool {
	s := string(name)
	if !strings.Contains(s, "/") || strings.Contains(s, v1.ResourceDefaultNamespacePrefix) ||
		strings.HasPrefix(s, v1.DefaultResourceRequestsPrefix) {
		return false
	}
	return len(validation.IsQualifiedName(v1.DefaultResourceRequestsPrefix+s)) == 0
}

// ksmQuantityFloat converts a quantity the way KSM does: at milli precision (so
// "500m" is 0.5), unless the value is too large for that, then whole.
func ksmQuantityFloat(q *apiresource.Quantity) float64 {
	if v := q.Value(); v > apiresource.MaxMilliValue {
		return float64(v)
	}
	return float64(q.MilliValue()) / 1000
}

var invalidLabelChars = regexp.MustCompile(`[^a-zA-Z0-9_]`)

// SanitizeLabelName replaces every character outside [a-zA-Z0-9_] with "_".
func SanitizeLabelName(s string) string {
	for i := 0; i < len(s); i++ {
		if !isLabelChar(s[i]) {
			return invalidLabelChars.ReplaceAllString(s, "_")
		}
	}
	return s
}

func isLabelChar(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

var camelBoundary = regexp.MustCompile(`([a-z0-9])([A-Z])`)

// labelName converts a Kubernetes key to a Prometheus label name the way KSM does:
// sanitize, snake_case, lower-case, prefix.
func labelName(prefix, key string) string {
	return prefix + "_" + strings.ToLower(camelBoundary.ReplaceAllString(SanitizeLabelName(key), "${1}_${2}"))
}

// mapToLabels converts a Kubernetes map (labels, annotations, node selectors) to
// label keys and values with KSM's naming: keys sorted in byte order; keys whose
// converted names collide are suffixed _conflict1, _conflict2, ... in that order,
// skipping suffixes that a real key already produces.
func mapToLabels(prefix string, kv map[string]string) (keys, values []string) {
	raw := make([]string, 0, len(kv))
	for k := range kv {
		raw = append(raw, k)
	}
	slices.Sort(raw)
	converted := make([]string, len(raw))
	count := make(map[string]int, len(raw))
	for i, k := range raw {
		converted[i] = labelName(prefix, k)
		count[converted[i]]++
	}
	taken := make(map[string]bool, len(raw))
	for _, c := range converted {
		taken[c] = true
	}
	next := make(map[string]int)
	keys = make([]string, len(raw))
	values = make([]string, len(raw))
	for i, k := range raw {
		name := converted[i]
		if count[name] > 1 {
			n := next[name]
			for {
				n++
				candidate := name + "_conflict" + strconv.Itoa(n)
				if !taken[candidate] {
					name = candidate
					break
				}
			}
			next[converted[i]] = n
			taken[name] = true
		}
		keys[i] = name
		values[i] = kv[k]
	}
	return keys, values
}

// allowedKeys filters kv by a KSM allowlist: nil allows nothing, a first entry "*"
// allows everything, other entries are exact keys or contain one "*" wildcard.
func allowedKeys(allow []string, kv map[string]string) map[string]string {
	if len(allow) == 0 {
		return nil
	}
	if allow[0] == "*" {
		return kv
	}
	out := make(map[string]string)
	for _, a := range allow {
		if a == "*" {
			continue
		}
		if i := strings.IndexByte(a, '*'); i >= 0 {
			prefix, suffix := a[:i], a[i+1:]
			for k, v := range kv {
				if len(k) >= len(prefix)+len(suffix) && strings.HasPrefix(k, prefix) && strings.HasSuffix(k, suffix) {
					out[k] = v
				}
			}
			continue
		}
		if v, ok := kv[a]; ok {
			out[a] = v
		}
	}
	return out
}

// AllowedMapLabels are the label keys and values of a kube_<kind>_labels (or
// _annotations) series: the keys of kv that allow allows, converted to
// Prometheus label names after prefix ("label", "annotation") as KSM converts
// them, sorted, conflicts suffixed.
func AllowedMapLabels(prefix string, allow []string, kv map[string]string) (keys, values []string) {
	return mapToLabels(prefix, allowedKeys(allow, kv))
}

// labelsFamily and annotationsFamily are KSM's kube_<kind>_labels and
// kube_<kind>_annotations: value 1, the allowed keys as label_*/annotation_*.
// They emit nothing when the allowlist is nil.
func labelsFamily[T metav1.Object](kind string, stability Stability, allow []string) Family[T] {
	return mapFamily[T]("kube_"+kind+"_labels", "Kubernetes labels converted to Prometheus labels.",
		"label", stability, allow, func(o T) map[string]string { return o.GetLabels() })
}

func annotationsFamily[T metav1.Object](kind string, stability Stability, allow []string) Family[T] {
	return mapFamily[T]("kube_"+kind+"_annotations", "Kubernetes annotations converted to Prometheus labels.",
		"annotation", stability, allow, func(o T) map[string]string { return o.GetAnnotations() })
}

func mapFamily[T metav1.Object](name, help, prefix string, stability Stability, allow []string, get func(T) map[string]string) Family[T] {
	return Family[T]{
		Name: name, Help: help, Type: Gauge, Stability: stability,
		Gen: func(o T) []Metric {
			if len(allow) == 0 {
				return nil
			}
			keys, values := mapToLabels(prefix, allowedKeys(allow, get(o)))
			return []Metric{{Keys: keys, Values: values, Value: 1}}
		},
	}
}

// createdFamily and deletionTimestampFamily are the metadata time families
// nearly every resource has.
func createdFamily[T metav1.Object](kind string, stability Stability) Family[T] {
	return Family[T]{
		Name: "kube_" + kind + "_created", Help: "Unix creation timestamp", Type: Gauge, Stability: stability,
		Gen: func(o T) []Metric { t := o.GetCreationTimestamp(); return timeMetric(&t) },
	}
}

func deletionTimestampFamily[T metav1.Object](kind string, stability Stability) Family[T] {
	return Family[T]{
		Name: "kube_" + kind + "_deletion_timestamp", Help: "Unix deletion timestamp", Type: Gauge, Stability: stability,
		Gen: func(o T) []Metric { return timeMetric(o.GetDeletionTimestamp()) },
	}
}

// resourceVersionFamily is kube_<kind>_metadata_resource_version: the
// resourceVersion as a number, or no series when it is not one.
func resourceVersionFamily[T metav1.Object](kind string, stability Stability) Family[T] {
	return Family[T]{
		Name: "kube_" + kind + "_metadata_resource_version", Type: Gauge, Stability: stability,
		Help: "Resource version representing a specific version of the " + kind + ".",
		Gen: func(o T) []Metric {
			v, err := strconv.ParseFloat(o.GetResourceVersion(), 64)
			if err != nil {
				return nil
			}
			return one(v)
		},
	}
}

// optional is a series holding *p, or none when p is nil (an unset optional
// count such as spec.replicas).
func optional[T int32 | int64](p *T) []Metric {
	if p == nil {
		return nil
	}
	return one(float64(*p))
}

// sortedResourceListNames returns rl's names in byte order, for a deterministic
// series order. Unlike resourceMetrics, the names are kept raw (requests.cpu).
func sortedResourceListNames(rl v1.ResourceList) []v1.ResourceName {
	names := make([]v1.ResourceName, 0, len(rl))
	for n := range rl {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
