package series

import (
	"slices"
	"strings"
)

// Layout is how kube-state-metrics writes a family's own labels on a series'
// exposition line: the keys in the order its generator emits them, keys with
// an empty value included (KSM writes owner_kind=""). Labels drops empty
// values and sorts by name, as Prometheus stores them; the layout keeps what
// that loses. Layouts are interned (collectors makes them) and shared by every
// series with the same keys and the same empty ones, so a series carries one
// pointer for it. Nothing modifies a Layout.
type Layout struct {
	keys []string
	// at[i] is the index of keys[i] among the series' family labels (sorted by
	// name, empty values dropped), or -1 when its value is empty.
	at []int32
	// id tells layouts apart in hashes; equal layouts are the same pointer.
	id uint64
}

// NewLayout returns the layout of the keys, those with empty[i] set written
// with an empty value. The other keys must be distinct: they are the names of
// the series' family labels. Callers intern the result (see collectors).
func NewLayout(keys []string, empty []bool, id uint64) *Layout {
	l := &Layout{keys: slices.Clone(keys), at: make([]int32, len(keys)), id: id}
	var names []string
	for i, k := range keys {
		if !empty[i] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	for i, k := range keys {
		l.at[i] = -1
		if !empty[i] {
			j, _ := slices.BinarySearch(names, k)
			l.at[i] = int32(j)
		}
	}
	return l
}

// Len returns the number of keys.
func (l *Layout) Len() int {
	if l == nil {
		return 0
	}
	return len(l.keys)
}

// Key returns the i-th key and the index of its label among the family labels,
// -1 when its value is empty.
func (l *Layout) Key(i int) (name string, at int) { return l.keys[i], int(l.at[i]) }

// ID returns the layout's identity for hashing; 0 for nil.
func (l *Layout) ID() uint64 {
	if l == nil {
		return 0
	}
	return l.id
}

// String renders the keys, empty ones as k="".
func (l *Layout) String() string {
	if l == nil {
		return "[]"
	}
	parts := make([]string, len(l.keys))
	for i, k := range l.keys {
		parts[i] = k
		if l.at[i] < 0 {
			parts[i] += `=""`
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}
