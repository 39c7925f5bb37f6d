package agent

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// Appender receives the samples the snapshot produces. The snapshot calls it
// with its lock held, in the order it assigned the timestamps, so per series the
// samples arrive in strictly increasing time. Append may block to push back; it
// must not keep ss after it returns.
type Appender interface {
	Append(ss []series.Sample)
}

// Snapshot holds, per object UID, the series the object produces now, and turns
// every change into samples: new and changed values at once, a staleness marker
// for each series that ends. Objects are grouped in sets, one per list/watch.
type Snapshot struct {
	mu      sync.Mutex
	out     Appender
	now     func() int64
	metrics *metrics
	sets    []*objectSet
	buf     []series.Sample

	// ended remembers, for a short while, the last timestamp of series that just
	// ended, so that an object that starts the same series again (a delete and
	// re-create under the same name) continues its timestamps in order.
	ended       map[string]int64
	endedPruned int64
}

// endedMemory is how long ended remembers a series: far longer than any clock
// step between two events of the same series, far shorter than the lookback.
const endedMemory = 10 * time.Second

// objectSet is the objects of one list/watch: one resource in one namespace (or all).
type objectSet struct {
	resource string
	objects  map[string]*object
	synced   bool

	seriesGauge, objectsGauge prometheus.Gauge
	outOfOrder                prometheus.Counter
}

type object struct {
	rv     string
	series []liveSeries
}

// liveSeries is one series of an object: its labels, its current value and the
// timestamp of the last sample sent for it.
type liveSeries struct {
	labels series.Labels
	value  float64
	t      int64
}

// NewSnapshot returns an empty snapshot that sends its samples to out.
func NewSnapshot(out Appender, m *metrics) *Snapshot {
	return &Snapshot{
		out:     out,
		now:     func() int64 { return time.Now().UnixMilli() },
		metrics: m,
		ended:   make(map[string]int64),
	}
}

func (s *Snapshot) newSet(resource string) *objectSet {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := &objectSet{
		resource:     resource,
		objects:      make(map[string]*object),
		seriesGauge:  s.metrics.snapshotSeries.WithLabelValues(resource),
		objectsGauge: s.metrics.snapshotObjects.WithLabelValues(resource),
		outOfOrder:   s.metrics.eventsOutOfOrder.WithLabelValues(resource),
	}
	s.sets = append(s.sets, set)
	return set
}

// Synced reports whether every set has applied its initial list.
func (s *Snapshot) Synced() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.sets {
		if !set.synced {
			return false
		}
	}
	return true
}

// apply stores an added or updated object and emits what changed.
func (s *Snapshot) apply(set *objectSet, o collectors.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(set, o, s.now())
	s.flushLocked()
}

func (s *Snapshot) applyLocked(set *objectSet, o collectors.Object, now int64) {
	old := set.objects[o.UID]
	if old != nil && olderResourceVersion(o.ResourceVersion, old.rv) {
		set.outOfOrder.Inc()
		return
	}
	var prev []liveSeries
	if old != nil {
		prev = old.series
	}
	next := s.diffLocked(prev, o.Series, now)
	set.seriesGauge.Add(float64(len(next) - len(prev)))
	if old == nil {
		set.objectsGauge.Inc()
		old = &object{}
		set.objects[o.UID] = old
	}
	old.rv = o.ResourceVersion
	old.series = next
}

// remove ends every series of a deleted object.
func (s *Snapshot) remove(set *objectSet, uid, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := set.objects[uid]
	if old == nil {
		return
	}
	if olderResourceVersion(rv, old.rv) {
		set.outOfOrder.Inc()
		return
	}
	s.removeLocked(set, uid, s.now())
	s.flushLocked()
}

func (s *Snapshot) removeLocked(set *objectSet, uid string, now int64) {
	old := set.objects[uid]
	for i := range old.series {
		s.endLocked(&old.series[i], now)
	}
	set.seriesGauge.Sub(float64(len(old.series)))
	set.objectsGauge.Dec()
	delete(set.objects, uid)
}

// replace makes the set hold exactly objs (an initial list or a relist): objects
// that are gone end their series first, then the listed ones are applied.
func (s *Snapshot) replace(set *objectSet, objs []collectors.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	keep := make(map[string]struct{}, len(objs))
	for _, o := range objs {
		keep[o.UID] = struct{}{}
	}
	for uid := range set.objects {
		if _, ok := keep[uid]; !ok {
			s.removeLocked(set, uid, now)
		}
	}
	for _, o := range objs {
		s.applyLocked(set, o, now)
		if len(s.buf) >= 4096 {
			s.flushLocked()
		}
	}
	set.synced = true
	s.flushLocked()
}

// Resend emits one sample with a fresh timestamp for every live series.
func (s *Snapshot) Resend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, set := range s.sets {
		for _, o := range set.objects {
			for i := range o.series {
				ls := &o.series[i]
				s.emitLocked(ls, ls.value, now)
			}
			if len(s.buf) >= 4096 {
				s.flushLocked()
			}
		}
	}
	s.flushLocked()
}

// diffLocked walks the previous and next series of one object (both sorted) and
// emits new and changed values and staleness markers for series that vanished.
// It returns the object's new live series, reusing label sets that did not change.
func (s *Snapshot) diffLocked(prev []liveSeries, next []series.Series, now int64) []liveSeries {
	out := make([]liveSeries, 0, len(next))
	i, j := 0, 0
	for i < len(prev) || j < len(next) {
		var c int
		switch {
		case i == len(prev):
			c = 1
		case j == len(next):
			c = -1
		default:
			c = prev[i].labels.Compare(next[j].Labels)
		}
		switch {
		case c < 0: // vanished
			s.endLocked(&prev[i], now)
			i++
		case c > 0: // new
			ls := liveSeries{labels: next[j].Labels, t: s.restartedLocked(next[j].Labels)}
			s.emitLocked(&ls, next[j].Value, now)
			out = append(out, ls)
			j++
		default:
			ls := prev[i]
			if !sameValue(ls.value, next[j].Value) {
				s.emitLocked(&ls, next[j].Value, now)
			}
			out = append(out, ls)
			i++
			j++
		}
	}
	return out
}

// emitLocked records value as the series' current value and queues a sample
// with a timestamp after the series' previous one.
func (s *Snapshot) emitLocked(ls *liveSeries, value float64, now int64) {
	t := max(now, ls.t+1)
	ls.value, ls.t = value, t
	s.buf = append(s.buf, series.Sample{Labels: ls.labels, T: t, V: value})
}

// endLocked queues the staleness marker of a series and remembers its time.
func (s *Snapshot) endLocked(ls *liveSeries, now int64) {
	s.emitLocked(ls, series.StaleNaN, now)
	if now-s.endedPruned > endedMemory.Milliseconds() {
		for k, t := range s.ended {
			if now-t > endedMemory.Milliseconds() {
				delete(s.ended, k)
			}
		}
		s.endedPruned = now
	}
	s.ended[seriesKey(ls.labels)] = ls.t
}

// restartedLocked returns the last timestamp of a series that ended recently
// with the same labels, or 0.
func (s *Snapshot) restartedLocked(ls series.Labels) int64 {
	if len(s.ended) == 0 {
		return 0
	}
	return s.ended[seriesKey(ls)]
}

func (s *Snapshot) flushLocked() {
	if len(s.buf) == 0 {
		return
	}
	s.out.Append(s.buf)
	clear(s.buf)
	s.buf = s.buf[:0]
}

func seriesKey(ls series.Labels) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte(0xff)
		b.WriteString(l.Value)
		b.WriteByte(0xff)
	}
	return b.String()
}

func sameValue(a, b float64) bool {
	return a == b || math.Float64bits(a) == math.Float64bits(b)
}

// olderResourceVersion reports whether rv is older than stored. Resource versions
// are opaque: they are ordered only when both parse as integers.
func olderResourceVersion(rv, stored string) bool {
	a, err := strconv.ParseUint(rv, 10, 64)
	if err != nil {
		return false
	}
	b, err := strconv.ParseUint(stored, 10, 64)
	if err != nil {
		return false
	}
	return a < b
}

func (s *Snapshot) isSynced(set *objectSet) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return set.synced
}
