package snapshot

import (
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// The /metrics exposition of the snapshot, written as kube-state-metrics v2.20
// writes the same objects (pkg/metrics_store, pkg/metric): resources in name
// order; per resource, if it has any object, the HELP and TYPE headers of every
// family it emits, in its generator's order, each followed by that family's
// lines for every object of every set; per line the object's labels in KSM's
// order first (namespace, pod, uid), then the family's in its generator's
// order, empty values written as "" (series.Layout). Objects come in map order,
// as in KSM. Nothing is kept between scrapes: the lines are written from the
// snapshot's series as they are read.

// Exposition is what the exposition needs of a set beyond its series; one
// per resource, shared by the sets of its namespaces.
type Exposition struct {
	// Families are the resource's families, in its generator's order.
	Families []collectors.FamilyInfo
	// Base is the resource's object labels in KSM's order.
	Base []string
	// Sorted writes each line's labels in name order, the object's and the
	// family's merged, as KSM writes a custom resource's (Base is empty then).
	Sorted bool
}

// NewExposition returns the exposition of the resource of g.
func NewExposition(g collectors.Generator) *Exposition {
	return &Exposition{Families: g.Families(), Base: g.BaseLabels()}
}

// DescribeSet tells the snapshot how /metrics writes set's series. A set
// never described is not exposed.
func (s *Snapshot) DescribeSet(set *Set, e *Exposition) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set.expo = e
}

// Bounds of one slice of the exposition: the lock is held while at most
// renderObjects objects are written into a buffer of about renderBuffer bytes,
// which is then written out without the lock.
const (
	renderObjects = 512
	renderBuffer  = 32 << 10
)

// expoGroup is what one resource writes: its families, and the objects of each
// of its sets.
type expoGroup struct {
	name    string
	expo    *Exposition
	objects [][]*object // per set
	any     bool        // some set has an object: the headers are written
}

// exposedGroups gathers, under the lock, the objects each kept resource
// writes, in resource order; objects held by a handover are left out.
func (s *Snapshot) exposedGroups(keep func(resource string) bool) []*expoGroup {
	var groups []*expoGroup
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.sets {
		if set.expo == nil || keep != nil && !keep(set.resource) {
			continue
		}
		i := slices.IndexFunc(groups, func(g *expoGroup) bool { return g.name == set.resource })
		if i < 0 {
			i = len(groups)
			groups = append(groups, &expoGroup{name: set.resource, expo: set.expo})
		}
		g := groups[i]
		objs := make([]*object, 0, len(set.objects))
		for _, o := range set.objects {
			if !o.held {
				objs = append(objs, o)
			}
		}
		g.objects = append(g.objects, objs)
		g.any = g.any || len(set.objects) > 0
	}
	slices.SortStableFunc(groups, func(a, b *expoGroup) int { return strings.Compare(a.name, b.name) })
	return groups
}

// WriteExposition writes the series of the resources keep admits (all with a
// nil keep) to w in the text format 0.0.4, or OpenMetrics (which keeps the
// info and stateset types and ends with "# EOF"). It holds the snapshot's lock
// for one bounded slice at a time and writes to w between slices, so a slow
// reader never stalls the push path; an object changed meanwhile may show
// its old series in one family and its new ones in the next, as in KSM.
// Objects held by a shard handover are not written, as they are not sent.
// External labels are never written: they are the receivers'.
func (s *Snapshot) WriteExposition(w io.Writer, openMetrics bool, keep func(resource string) bool) error {
	groups := s.exposedGroups(keep)
	buf := make([]byte, 0, renderBuffer+renderBuffer/4)
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := w.Write(buf)
		buf = buf[:0]
		return err
	}
	seen := map[string]bool{} // a family's headers are written once, as KSM's SanitizeHeaders does
	for _, g := range groups {
		for _, f := range g.expo.Families {
			if !seen[f.Name] {
				seen[f.Name] = true
				if g.any {
					buf = appendHeaders(buf, f, openMetrics)
				}
			}
			hint := 0 // where the family's series were in the last object
			for _, objs := range g.objects {
				for len(objs) > 0 {
					n := 0
					s.mu.Lock()
					for n < len(objs) && n < renderObjects && len(buf) < renderBuffer {
						buf = appendFamilyLines(buf, objs[n], f.Name, g.expo, &hint)
						n++
					}
					s.mu.Unlock()
					objs = objs[n:]
					if len(buf) >= renderBuffer {
						if err := flush(); err != nil {
							return err
						}
					}
				}
			}
		}
	}
	if openMetrics {
		buf = append(buf, "# EOF\n"...)
	}
	return flush()
}

// appendHeaders appends a family's HELP and TYPE lines as KSM writes them:
// "[STABLE] " before the help of stable families (deprecated ones carry
// "(Deprecated since vX) " in their help already); in the text format the
// OpenMetrics-only types info and stateset become gauge.
func appendHeaders(buf []byte, f collectors.FamilyInfo, openMetrics bool) []byte {
	buf = append(buf, "# HELP "...)
	buf = append(buf, f.Name...)
	buf = append(buf, ' ')
	if f.Stability == collectors.Stable {
		buf = append(buf, "[STABLE] "...)
	}
	for i := 0; i < len(f.Help); i++ {
		switch c := f.Help[i]; c {
		case '\\':
			buf = append(buf, `\\`...)
		case '\n':
			buf = append(buf, `\n`...)
		default:
			buf = append(buf, c)
		}
	}
	buf = append(buf, "\n# TYPE "...)
	buf = append(buf, f.Name...)
	buf = append(buf, ' ')
	t := f.Type
	if !openMetrics && (t == collectors.Info || t == collectors.StateSet) {
		t = collectors.Gauge
	}
	buf = append(buf, t...)
	return append(buf, '\n')
}

// appendFamilyLines appends the lines of o's series of the family name. The
// series are sorted by labels, and __name__ sorts before every label name
// KSM uses, so a family's series are one run. Objects of a resource look
// alike: the run is looked for where it was in the last object (*hint) before
// it is searched.
func appendFamilyLines(buf []byte, o *object, name string, expo *Exposition, hint *int) []byte {
	ss := o.series
	i := *hint
	switch {
	case i < len(ss) && ss[i].name == name && (i == 0 || ss[i-1].name != name):
	case i <= len(ss) && (i == len(ss) || ss[i].name > name) && (i == 0 || ss[i-1].name < name):
		return buf // none here
	default:
		i, _ = slices.BinarySearchFunc(ss, name, func(ls liveSeries, name string) int { return strings.Compare(ls.name, name) })
	}
	*hint = i
	for ; i < len(ss) && ss[i].name == name; i++ {
		if expo.Sorted {
			buf = appendSortedLine(buf, o.base, &ss[i])
		} else {
			buf = appendLine(buf, o.base, &ss[i], expo.Base)
		}
	}
	return buf
}

// appendSortedLine appends one series with its labels in name order: the
// object's and the family's (in its layout, whose keys are in name order)
// merged.
func appendSortedLine(buf []byte, base *[]series.Label, ls *liveSeries) []byte {
	buf = append(buf, ls.name...)
	sep := byte('{')
	label := func(name, value string) { buf = appendLabel(buf, &sep, name, value) }
	var bl []series.Label
	if base != nil {
		bl = *base
	}
	var extra []series.Label
	var layout *series.Layout
	if ls.extra != nil {
		extra, layout = ls.extra.labels, ls.extra.layout
	}
	n := len(extra)
	if layout != nil {
		n = layout.Len()
	}
	key := func(i int) (string, string) {
		if layout == nil {
			return extra[i].Name, extra[i].Value
		}
		k, at := layout.Key(i)
		if at >= 0 && int(at) < len(extra) {
			return k, extra[at].Value
		}
		return k, ""
	}
	b := 0
	for i := range n {
		k, v := key(i)
		for ; b < len(bl) && bl[b].Name < k; b++ {
			label(bl[b].Name, bl[b].Value)
		}
		label(k, v)
	}
	for ; b < len(bl); b++ {
		label(bl[b].Name, bl[b].Value)
	}
	return endLine(buf, sep, ls.value)
}

// appendLine appends one series: its name, the object's labels in KSM's order
// (those it lacks written empty, then any others it has, by name), the
// family's labels in their layout, and the value.
func appendLine(buf []byte, base *[]series.Label, ls *liveSeries, baseKeys []string) []byte {
	buf = append(buf, ls.name...)
	sep := byte('{')
	label := func(name, value string) { buf = appendLabel(buf, &sep, name, value) }
	var bl []series.Label
	if base != nil {
		bl = *base
	}
	found := 0
	for _, k := range baseKeys {
		v := ""
		for _, l := range bl {
			if l.Name == k {
				v = l.Value
				found++
				break
			}
		}
		label(k, v)
	}
	if found < len(bl) { // labels beyond KSM's defaults, such as --series-labels
		for _, l := range bl {
			if !slices.Contains(baseKeys, l.Name) {
				label(l.Name, l.Value)
			}
		}
	}
	if ls.extra != nil {
		extra := ls.extra.labels
		if l := ls.extra.layout; l != nil {
			for i := range l.Len() {
				k, at := l.Key(i)
				v := ""
				if at >= 0 && at < len(extra) {
					v = extra[at].Value
				}
				label(k, v)
			}
		} else {
			for _, e := range extra {
				label(e.Name, e.Value)
			}
		}
	}
	return endLine(buf, sep, ls.value)
}

// appendLabel appends one label pair of a line, after sep ('{' before the
// first, then ','), which it sets to ','.
func appendLabel(buf []byte, sep *byte, name, value string) []byte {
	buf = append(buf, *sep)
	*sep = ','
	buf = append(buf, name...)
	buf = append(buf, `="`...)
	buf = appendEscaped(buf, value)
	return append(buf, '"')
}

// endLine closes a line's labels (if it has any) and appends its value.
func endLine(buf []byte, sep byte, v float64) []byte {
	if sep == ',' {
		buf = append(buf, '}')
	}
	buf = append(buf, ' ')
	buf = appendValue(buf, v)
	return append(buf, '\n')
}

// appendEscaped appends a label value with \, newline and " escaped.
func appendEscaped(buf []byte, v string) []byte {
	i := 0
	for i < len(v) && v[i] != '\\' && v[i] != '\n' && v[i] != '"' {
		i++
	}
	buf = append(buf, v[:i]...)
	for ; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			buf = append(buf, `\\`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '"':
			buf = append(buf, `\"`...)
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

// appendValue formats a value as KSM does: 1, 0 (also for -0), -1, NaN, +Inf,
// -Inf, else the shortest 'g' form (1e+21, 1.5e-07, 123456789).
func appendValue(buf []byte, v float64) []byte {
	switch {
	case v == 1:
		return append(buf, '1')
	case v == 0:
		return append(buf, '0')
	case v == -1:
		return append(buf, "-1"...)
	case math.IsNaN(v):
		return append(buf, "NaN"...)
	case math.IsInf(v, 1):
		return append(buf, "+Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}
