package collectors

import (
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"github.com/kube-state-push/kube-state-push/series"
)

// The layouts of the series (series.Layout): how kube-state-metrics writes
// each series' family labels, in the generator's key order with the empty ones.
// Families emit the same few key lists over and over, so each family of a
// generator remembers the layouts it used (layoutCache) and finds them again by
// comparing the metric's keys, without building anything; other layouts are
// interned in one table, which lets go of those no series uses any more.

// layoutCacheSize is how many layouts one family remembers. Most families use
// one or two; a *_labels family with wide allowlists may use one per object,
// and those beyond the first few go through the shared table.
const layoutCacheSize = 8

// layoutCache is one family's remembered layouts. Generators run on several
// reflectors' goroutines at once: entries are read without a lock and replaced
// whole under mu.
type layoutCache struct {
	mu      sync.Mutex
	entries atomic.Pointer[[]layoutEntry]
}

// layoutEntry is a metric's key list as the family emitted it, which of its
// values were empty, and the layout that makes.
type layoutEntry struct {
	keys   []string
	empty  uint64
	layout *series.Layout
}

// layout returns the layout of one metric of the family, for an object whose
// labels are base.
func (c *layoutCache) layout(base []Label, keys, values []string) *series.Layout {
	if len(keys) == 0 {
		return nil
	}
	if len(keys) > 64 || len(values) < len(keys) {
		l, _ := buildLayout(base, keys, values)
		return l
	}
	var empty uint64
	for i := range keys {
		if values[i] == "" {
			empty |= 1 << i
		}
	}
	if es := c.entries.Load(); es != nil {
		for i := range *es {
			if e := &(*es)[i]; e.empty == empty && slices.Equal(e.keys, keys) {
				return e.layout
			}
		}
	}
	l, cacheable := buildLayout(base, keys, values)
	if cacheable {
		c.add(layoutEntry{keys: slices.Clone(keys), empty: empty, layout: l})
	}
	return l
}

func (c *layoutCache) add(e layoutEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var es []layoutEntry
	if p := c.entries.Load(); p != nil {
		es = *p
	}
	if len(es) >= layoutCacheSize {
		return
	}
	next := append(slices.Clip(es), e)
	c.entries.Store(&next)
}

// buildLayout returns the layout of a metric's keys as familyLabels keeps them:
// without empty or reserved names, without names of the object's labels (those
// win), a repeated name at its first place (empty only if every occurrence is).
// It is cacheable when it depends on the keys and which values are empty alone,
// not on base or on missing values.
func buildLayout(base []Label, keys, values []string) (l *series.Layout, cacheable bool) {
	cacheable = true
	kept := make([]string, 0, len(keys))
	empty := make([]bool, 0, len(keys))
	for i, k := range keys {
		switch {
		case i >= len(values):
			cacheable = false
			continue
		case k == "" || k == MetricName:
			continue
		case hasLabel(base, k):
			cacheable = false
			continue
		}
		if j := slices.Index(kept, k); j >= 0 {
			empty[j] = empty[j] && values[i] == ""
			continue
		}
		kept = append(kept, k)
		empty = append(empty, values[i] == "")
	}
	return internLayout(kept, empty), cacheable
}

// layouts is the table of every layout in use, by its keys.
var layouts = struct {
	sync.Mutex
	m    map[string]weak.Pointer[series.Layout]
	next uint64
}{m: map[string]weak.Pointer[series.Layout]{}}

// internLayout returns the one layout of keys with these empty ones; nil for no keys.
func internLayout(keys []string, empty []bool) *series.Layout {
	if len(keys) == 0 {
		return nil
	}
	var b strings.Builder
	for i, k := range keys {
		b.WriteString(k)
		if empty[i] {
			b.WriteByte(1) // label names never hold these bytes
		} else {
			b.WriteByte(0)
		}
	}
	key := b.String()
	layouts.Lock()
	defer layouts.Unlock()
	if l := layouts.m[key].Value(); l != nil {
		return l
	}
	layouts.next++
	l := series.NewLayout(keys, empty, layouts.next)
	layouts.m[key] = weak.Make(l)
	runtime.AddCleanup(l, forgetLayout, key)
	return l
}

// forgetLayout drops a layout nobody uses any more from the table, unless the
// key was interned again meanwhile.
func forgetLayout(key string) {
	layouts.Lock()
	defer layouts.Unlock()
	if wp, ok := layouts.m[key]; ok && wp.Value() == nil {
		delete(layouts.m, key)
	}
}
