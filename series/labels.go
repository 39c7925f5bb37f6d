package series

import (
	"cmp"
	"hash/maphash"
	"iter"
	"slices"
	"strings"
)

// MetricName is the reserved label that carries the metric name.
const MetricName = "__name__"

// Labels is an immutable label set, sorted by name, without empty values. It is
// stored in three parts so that series share what they have in common: the
// metric name (a string of the family), the labels of the object the series
// belongs to (one slice shared by all of its series), and the family's own
// labels. Snapshots and send queues share Labels values; nothing modifies them.
type Labels struct {
	name  string
	base  *[]Label
	extra []Label
}

// New returns the label set of metric name with the object's labels base and
// the family's labels extra. Both must be sorted by name, hold no empty value,
// no __name__, and no name in common; New does not copy them.
func New(name string, base *[]Label, extra []Label) Labels {
	return Labels{name: name, base: base, extra: extra}
}

// FromPairs builds a label set from any list of labels, __name__ among them:
// sorted, without empty values, the first of repeated names kept.
func FromPairs(ls []Label) Labels {
	var name string
	extra := make([]Label, 0, len(ls))
	for _, l := range ls {
		switch {
		case l.Name == MetricName:
			name = l.Value
		case l.Value != "":
			extra = append(extra, l)
		}
	}
	slices.SortStableFunc(extra, func(a, b Label) int { return strings.Compare(a.Name, b.Name) })
	extra = slices.CompactFunc(extra, func(a, b Label) bool { return a.Name == b.Name })
	return Labels{name: name, extra: extra}
}

// Name returns the metric name.
func (ls Labels) Name() string { return ls.name }

// Base returns the shared object labels, or nil.
func (ls Labels) Base() *[]Label { return ls.base }

// Extra returns the family's own labels. The slice must not be modified.
func (ls Labels) Extra() []Label { return ls.extra }

// WithBase returns the same set with its object labels taken from base, which
// must hold the same labels; it lets series share one copy.
func (ls Labels) WithBase(base *[]Label) Labels {
	ls.base = base
	return ls
}

func (ls Labels) baseSlice() []Label {
	if ls.base == nil {
		return nil
	}
	return *ls.base
}

// Len returns the number of labels, __name__ included.
func (ls Labels) Len() int {
	n := len(ls.baseSlice()) + len(ls.extra)
	if ls.name != "" {
		n++
	}
	return n
}

// IsEmpty reports whether the set has no labels at all.
func (ls Labels) IsEmpty() bool { return ls.Len() == 0 }

// cursor walks a label set in name order, merging its three parts.
type cursor struct {
	ls       Labels
	nameDone bool
	i, j     int
}

func (c *cursor) next() (Label, bool) {
	base, extra := c.ls.baseSlice(), c.ls.extra
	var next Label
	src := 0
	if !c.nameDone && c.ls.name != "" {
		next, src = Label{Name: MetricName, Value: c.ls.name}, 1
	}
	if c.i < len(base) && (src == 0 || base[c.i].Name < next.Name) {
		next, src = base[c.i], 2
	}
	if c.j < len(extra) && (src == 0 || extra[c.j].Name < next.Name) {
		next, src = extra[c.j], 3
	}
	switch src {
	case 1:
		c.nameDone = true
	case 2:
		c.i++
	case 3:
		c.j++
	}
	return next, src != 0
}

// All yields the labels in name order, __name__ included.
func (ls Labels) All() iter.Seq[Label] {
	return func(yield func(Label) bool) {
		c := cursor{ls: ls}
		for l, ok := c.next(); ok; l, ok = c.next() {
			if !yield(l) {
				return
			}
		}
	}
}

// Get returns the value of the named label, or "" when absent.
func (ls Labels) Get(name string) string {
	if name == MetricName {
		return ls.name
	}
	for _, l := range ls.baseSlice() {
		if l.Name == name {
			return l.Value
		}
	}
	for _, l := range ls.extra {
		if l.Name == name {
			return l.Value
		}
	}
	return ""
}

// Compare orders label sets: label by label in name order, then by length.
func (ls Labels) Compare(o Labels) int {
	a, b := cursor{ls: ls}, cursor{ls: o}
	for {
		x, ok := a.next()
		y, ook := b.next()
		switch {
		case !ok && !ook:
			return 0
		case !ok:
			return -1
		case !ook:
			return 1
		}
		if c := compareLabel(x, y); c != 0 {
			return c
		}
	}
}

func compareLabel(a, b Label) int {
	return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Value, b.Value))
}

// Key is a comparable identity of a label set's storage: two Labels with the
// same Key are the same set. Sets with the same labels built apart may have
// different Keys.
type Key struct {
	base  *[]Label
	extra *Label
	name  string
}

// Key returns the set's storage identity.
func (ls Labels) Key() Key {
	k := Key{base: ls.base, name: ls.name}
	if len(ls.extra) > 0 {
		k.extra = &ls.extra[0]
	}
	return k
}

// Hash writes the labels to h.
func (ls Labels) Hash(h *maphash.Hash) {
	for l := range ls.All() {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
}

// String renders the set as Prometheus's text format does: name{a="b",...}.
func (ls Labels) String() string {
	var b strings.Builder
	b.WriteString(ls.name)
	first := true
	for l := range ls.All() {
		if l.Name == MetricName {
			continue
		}
		if first {
			b.WriteByte('{')
			first = false
		} else {
			b.WriteByte(',')
		}
		b.WriteString(l.Name)
		b.WriteString(`="`)
		b.WriteString(labelValueEscaper.Replace(l.Value))
		b.WriteByte('"')
	}
	if !first {
		b.WriteByte('}')
	}
	return b.String()
}

var labelValueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
