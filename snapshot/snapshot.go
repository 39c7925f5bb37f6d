package snapshot

import (
	"context"
	"hash/maphash"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unique"

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
//
// Memory is kept small: an object's own labels (namespace, name, uid) are
// stored once for all its series, family label sets are shared between every
// series that has the same ones (phase="Running" on every pod), and label
// values are interned.
type Snapshot struct {
	mu sync.Mutex
	// unsynced counts the sets that have not applied their initial list yet.
	// It is read without mu, so that readiness never waits on the data path
	// (mu is held while the pipeline pushes back).
	unsynced atomic.Int64

	out     Appender
	now     func() int64
	metrics *Metrics
	sets    []*Set
	buf     []series.Sample
	extras  labelSets
	// counters are the names of the counter families of every set: their
	// samples carry their object's start timestamp.
	counters []string

	// ended remembers, for a short while, the last timestamp of series that just
	// ended, so that an object that starts the same series again (a delete and
	// re-create under the same name) continues its timestamps in order.
	ended       map[string]int64
	endedPruned int64

	// restored is what the WAL knew of series from before this start: their
	// last timestamps, which new samples must follow, and which were live, so
	// that the series of objects deleted meanwhile can be ended.
	restored map[string]*PrevSeries

	// holdUntil (Unix ms) is the end of the handover after a change of the
	// shard assignment: objects that arrive before then are held, not sent
	// (see handover.go).
	holdUntil int64
	// heldEnded is the series of held objects that ended during the handover:
	// their staleness markers are sent when it ends, since one sent earlier
	// could land before the other shard's last sample of the series.
	heldEnded []heldEnd

	// unborn lists the new workloads held until their controllers have
	// settled their first status (object.unborn); ReleaseUnborn sends those
	// whose wait is over.
	unborn []unbornRef
}

// unbornRef names an unborn object of a set and the latest time (Unix ms)
// it is sent at.
type unbornRef struct {
	set   *Set
	uid   string
	until int64
}

// A new workload (collectors.Object.Unobserved when it appears) is sent once
// its controllers have settled its first status: unbornSettle after the last
// change since its controller observed it, and at most unbornWait after it
// appeared. The controllers take tens of milliseconds (a Deployment: observed,
// then its ReplicaSet's pods counted); a stopped controller-manager delays the
// object's series by unbornWait only.
const (
	unbornSettle = time.Second
	unbornWait   = 5 * time.Second
)

// heldEnd is a series of a held object that ended, and the object's labels.
type heldEnd struct {
	base *[]series.Label
	ls   liveSeries
}

// endedMemory is how long ended remembers a series: far longer than any clock
// step between two events of the same series, far shorter than the lookback.
const endedMemory = 10 * time.Second

// Set is the objects of one list/watch: one resource in one namespace (or
// all). Its methods are the snapshot's, which take its lock.
type Set struct {
	resource string
	objects  map[string]*object
	synced   bool
	// expo is how /metrics writes the set's series (exposition.go); nil
	// until described.
	expo *Exposition

	seriesGauge, objectsGauge prometheus.Gauge
	outOfOrder                prometheus.Counter
}

type object struct {
	rv string
	// held objects were gained by a reshard and are not sent until the
	// handover ends; their series are kept up to date meanwhile.
	held bool
	// unborn (Unix ms), when not 0, is when a new workload is sent unless it
	// changes again (see unbornSettle); until then its series are kept up to
	// date but not sent, as for held objects. The status a workload is
	// created with, and the first its controller writes, are the zero values
	// of fields nobody has counted yet, not state: sending them would show a
	// 0 -> N step in the status series of every new Deployment and
	// StatefulSet, which a scrape misses and which alerts such as the
	// kubernetes-mixin's KubeDeploymentReplicasMismatch
	// (changes(...[10m]) == 0) count as activity for 10 minutes.
	unborn int64
	// base is the object's labels, shared by its series.
	base   *[]series.Label
	series []liveSeries
	// start is the start timestamp of the object's counter series
	// (collectors.Object.Start). It is kept once per object, not per series:
	// startOf tells the counters by name.
	start int64
}

// liveSeries is one series of an object: its metric name, its family labels,
// its current value and the timestamp of the last sample sent for it.
type liveSeries struct {
	name  string
	extra *labelSet
	value float64
	t     int64
}

// labels returns the full label set of a series of o.
func (ls *liveSeries) labels(base *[]series.Label) series.Labels {
	var extra []series.Label
	if ls.extra != nil {
		extra = ls.extra.labels
	}
	return series.New(ls.name, base, extra)
}

// flushSamples is how many samples the snapshot buffers under its lock before
// it hands them to the Appender, even in the middle of a list, a resend or a
// handover: the Appender may block to push back, and a bounded buffer keeps
// the memory of a large relist bounded too.
const flushSamples = 4096

// An Option configures a Snapshot.
type Option func(*Snapshot)

// WithClock makes the snapshot read the time, in Unix milliseconds, from now
// instead of the wall clock: every timestamp it stamps, every wait it times
// (unborn objects, resend rounds) and every memory it keeps of ended series
// follow it. Tests use it to get exact timestamps.
func WithClock(now func() int64) Option { return func(s *Snapshot) { s.now = now } }

// New returns an empty snapshot that sends its samples to out. m may be nil
// for metrics nobody reads (tests).
func New(out Appender, m *Metrics, opts ...Option) *Snapshot {
	if m == nil {
		m = NewMetrics(nil)
	}
	s := &Snapshot{
		out:     out,
		now:     func() int64 { return time.Now().UnixMilli() },
		metrics: m,
		ended:   make(map[string]int64),
		extras:  labelSets{sets: map[uint64]*labelSet{}, seed: maphash.MakeSeed()},
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// CounterFamilies returns the names of r's counter families, for NewSet.
func CounterFamilies(r collectors.Resource) []string {
	var out []string
	for _, f := range r.Families() {
		if f.Type == collectors.Counter {
			out = append(out, f.Name)
		}
	}
	return out
}

// NewSet adds the set of one list/watch of resource. counters names the
// resource's counter families (CounterFamilies): their samples carry their
// object's start timestamp.
func (s *Snapshot) NewSet(resource string, counters []string) *Set {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range counters {
		if !slices.Contains(s.counters, c) {
			s.counters = append(s.counters, c)
		}
	}
	set := &Set{
		resource:     resource,
		objects:      make(map[string]*object),
		seriesGauge:  s.metrics.series.WithLabelValues(resource),
		objectsGauge: s.metrics.objects.WithLabelValues(resource),
		outOfOrder:   s.metrics.outOfOrder.WithLabelValues(resource),
	}
	s.sets = append(s.sets, set)
	s.unsynced.Add(1)
	return set
}

// Resource returns the name of the set's resource.
func (set *Set) Resource() string { return set.resource }

// Synced reports whether every set has applied its initial list. It does not
// wait for the snapshot's lock: probes call it.
func (s *Snapshot) Synced() bool { return s.unsynced.Load() == 0 }

// IsSynced reports whether set has applied its initial list.
func (s *Snapshot) IsSynced(set *Set) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return set.synced
}

// Apply stores an added or updated object and emits what changed.
func (s *Snapshot) Apply(set *Set, o collectors.Object) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.applyLocked(set, o, s.now(), false)
	s.flushLocked()
}

// applyLocked stores o. An event older than what the set holds of the object
// (by resourceVersion) is dropped and counted; a list (listed) is what the
// apiserver holds now, whatever its resourceVersions: it re-bases them, so that
// after an etcd restore, whose resourceVersions go back, the watch's later
// events are not taken for stale ones.
func (s *Snapshot) applyLocked(set *Set, o collectors.Object, now int64, listed bool) {
	obj := set.objects[o.UID]
	if obj == nil {
		obj = &object{held: now < s.holdUntil}
		// Only an object created while the agent watches is waited for: one
		// of the initial list has been in the cluster for a while already.
		if o.Unobserved && set.synced {
			obj.unborn = now + unbornWait.Milliseconds()
			s.unborn = append(s.unborn, unbornRef{set, o.UID, obj.unborn})
		}
		set.objects[o.UID] = obj
		set.objectsGauge.Inc()
	} else if !listed && olderResourceVersion(o.ResourceVersion, obj.rv) {
		set.outOfOrder.Inc()
		return
	}
	before := len(obj.series)
	obj.start = o.Start
	s.diffLocked(obj, o.Series, now)
	set.seriesGauge.Add(float64(len(obj.series) - before))
	obj.rv = o.ResourceVersion
	if obj.unborn != 0 && !o.Unobserved {
		obj.unborn = now + unbornSettle.Milliseconds()
	}
}

// bearLocked ends the wait of an unborn object: it sends all its series,
// stamped now, unless a handover holds it still.
func (s *Snapshot) bearLocked(o *object, now int64) {
	o.unborn = 0
	if !o.held {
		s.resendObjectLocked(o, now)
	}
}

// ReleaseUnbornEvery is how often the agent calls ReleaseUnborn: a tenth of
// the settle time, so that a new workload is sent at most that late.
const ReleaseUnbornEvery = unbornSettle / 10

// ReleaseUnborn sends the new workloads whose wait is over.
func (s *Snapshot) ReleaseUnborn() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.unborn) == 0 {
		return
	}
	now := s.now()
	s.unborn = slices.DeleteFunc(s.unborn, func(r unbornRef) bool {
		o := r.set.objects[r.uid]
		switch {
		case o == nil: // deleted meanwhile
			return true
		case now >= o.unborn || now >= r.until:
			s.bearLocked(o, now)
			return true
		}
		return false
	})
	s.flushLocked()
}

// silent reports whether o's changes are kept but not sent.
func (o *object) silent() bool { return o.held || o.unborn != 0 }

// Remove ends every series of a deleted object.
func (s *Snapshot) Remove(set *Set, uid, rv string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	obj := set.objects[uid]
	if obj == nil {
		return
	}
	if olderResourceVersion(rv, obj.rv) {
		set.outOfOrder.Inc()
		return
	}
	s.removeLocked(set, uid, s.now())
	s.flushLocked()
}

func (s *Snapshot) removeLocked(set *Set, uid string, now int64) {
	obj := set.objects[uid]
	for i := range obj.series {
		s.endObjectSeriesLocked(obj, obj.base, &obj.series[i], now)
	}
	s.forgetLocked(set, uid)
}

// forgetLocked drops an object from the set without a sample.
func (s *Snapshot) forgetLocked(set *Set, uid string) {
	obj := set.objects[uid]
	set.seriesGauge.Sub(float64(len(obj.series)))
	set.objectsGauge.Dec()
	delete(set.objects, uid)
	obj.series = nil // a /metrics render that still holds obj writes nothing of it
}

// Replace makes the set hold exactly objs (an initial list or a relist): objects
// that are gone end their series first, then the listed ones are applied. It
// clears the Series of objs as it applies them.
func (s *Snapshot) Replace(set *Set, objs []collectors.Object) {
	s.ReplaceKeeping(set, objs, nil)
}

// ReplaceKeeping is Replace for a list of which the objects with UIDs in
// applied are in the set already (ApplyInitial took them as they came).
func (s *Snapshot) ReplaceKeeping(set *Set, objs []collectors.Object, applied []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	keep := make(map[string]struct{}, len(objs)+len(applied))
	for _, o := range objs {
		keep[o.UID] = struct{}{}
	}
	for _, uid := range applied {
		keep[uid] = struct{}{}
	}
	for uid := range set.objects {
		if _, ok := keep[uid]; !ok {
			s.removeLocked(set, uid, now)
		}
	}
	for i := range objs {
		s.applyLocked(set, objs[i], now, true)
		objs[i].Series = nil // stored compactly now: let the generated series go
		if len(s.buf) >= flushSamples {
			s.flushLocked()
		}
	}
	if !set.synced {
		set.synced = true
		s.unsynced.Add(-1)
	}
	s.flushLocked()
}

// RemoveSet ends every series of set's objects, as deletes would, and drops
// the set: it is no longer resent, exposed or waited for (Synced). For a
// resource that is no longer served (its CustomResourceDefinition deleted).
// The caller must have stopped what feeds the set.
func (s *Snapshot) RemoveSet(set *Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.Index(s.sets, set)
	if i < 0 {
		return
	}
	now := s.now()
	for uid := range set.objects {
		s.removeLocked(set, uid, now)
		if len(s.buf) >= flushSamples {
			s.flushLocked()
		}
	}
	s.sets = slices.Delete(s.sets, i, i+1)
	if !set.synced {
		set.synced = true
		s.unsynced.Add(-1)
	}
	s.flushLocked()
}

// ApplyInitial applies o at once, as Apply does, if the set has not applied
// its initial list yet, and reports whether it did. An initial list has no
// objects to end, so its objects can be stored as they are decoded instead of
// all being held until the list is complete; the list's Replace then only
// keeps them (ReplaceKeeping) and ends those deleted meanwhile.
func (s *Snapshot) ApplyInitial(set *Set, o collectors.Object) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if set.synced {
		return false
	}
	s.applyLocked(set, o, s.now(), false)
	s.flushLocked()
	return true
}

// Each calls f with the UID and the labels of every series of every object
// the snapshot holds, held ones included, with the snapshot's lock held: to
// check what it keeps, not for the push path.
func (s *Snapshot) Each(f func(uid string, ls series.Labels)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, set := range s.sets {
		for uid, o := range set.objects {
			for i := range o.series {
				f(uid, o.series[i].labels(o.base))
			}
		}
	}
}

// Resend emits one sample with a fresh timestamp for every live series.
func (s *Snapshot) Resend() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, set := range s.sets {
		for _, o := range set.objects {
			if o.silent() {
				continue
			}
			s.resendObjectLocked(o, now)
		}
	}
	s.flushLocked()
}

// resendObjectLocked emits every series of o at its current value, stamped
// now (or just after its last sample), handing a full buffer on.
func (s *Snapshot) resendObjectLocked(o *object, now int64) {
	for i := range o.series {
		ls := &o.series[i]
		s.emitLocked(o.base, ls, ls.value, now, s.startOf(o, ls))
	}
	if len(s.buf) >= flushSamples {
		s.flushLocked()
	}
}

// resendStep is how often a spread resend sends its next slice of objects.
const resendStep = 100 * time.Millisecond

// ResendSpread emits one sample with a fresh timestamp for every live series,
// like Resend, but spread evenly over the duration over: the objects, in a
// fixed order (by set, then UID), are sent in slices of equal size, one per
// resendStep, each stamped when it is sent. Every object keeps its place in the
// round, so with rounds a resend interval apart each series is re-sent every
// interval. The lock is held per slice only, and the pipeline carries one
// slice at a time: a change made meanwhile is sent at once instead of waiting
// behind every live series. It returns early, with the round incomplete, when
// ctx is done.
func (s *Snapshot) ResendSpread(ctx context.Context, over time.Duration) {
	type key struct {
		set *Set
		uid string
	}
	s.mu.Lock()
	var keys []key
	for _, set := range s.sets {
		first := len(keys)
		for uid := range set.objects {
			keys = append(keys, key{set, uid})
		}
		slices.SortFunc(keys[first:], func(a, b key) int { return strings.Compare(a.uid, b.uid) })
	}
	s.mu.Unlock()

	steps := max(1, int(over/resendStep))
	start := s.now()
	t := time.NewTimer(0)
	defer t.Stop()
	for k := range steps {
		if k > 0 {
			at := start + (time.Duration(k) * over / time.Duration(steps)).Milliseconds()
			t.Reset(time.Duration(at-s.now()) * time.Millisecond)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		s.mu.Lock()
		now := s.now()
		for _, key := range keys[k*len(keys)/steps : (k+1)*len(keys)/steps] {
			o := key.set.objects[key.uid]
			if o == nil || o.silent() {
				continue // deleted meanwhile, or held
			}
			s.resendObjectLocked(o, now)
		}
		s.flushLocked()
		s.mu.Unlock()
	}
}

// diffLocked walks the object's stored series and its new ones (both sorted),
// emits new and changed values and staleness markers for series that vanished,
// and stores the new series.
func (s *Snapshot) diffLocked(o *object, next []series.Series, now int64) {
	prev, prevBase := o.series, o.base
	newBase, start := prevBase, now
	if len(next) > 0 {
		if b := next[0].Labels.Base(); b != nil && (prevBase == nil || !slices.Equal(*b, *prevBase)) {
			internValues(*b)
			newBase = b
			// Every series changes identity (a label copied by
			// --series-labels changed): the new ones start no earlier than
			// the old ones' markers, so that the two never answer at once.
			for i := range prev {
				start = max(start, prev[i].t+1)
			}
		}
	}
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
			c = prev[i].labels(prevBase).Compare(next[j].Labels)
		}
		switch {
		case c < 0: // vanished
			s.endObjectSeriesLocked(o, prevBase, &prev[i], now)
			i++
		case c > 0: // new
			ls := liveSeries{name: next[j].Labels.Name(), extra: s.extras.acquire(next[j].Labels.Extra(), next[j].Layout)}
			ls.t = s.restartedLocked(ls.labels(newBase))
			if o.silent() {
				ls.value = next[j].Value
			} else {
				s.emitLocked(newBase, &ls, next[j].Value, start, s.startOf(o, &ls))
			}
			out = append(out, ls)
			j++
		default:
			ls := prev[i]
			if l := next[j].Layout; l != ls.extra.layoutOf() {
				// The same labels, written otherwise (a key now empty, or gone).
				e := s.extras.acquire(next[j].Labels.Extra(), l)
				s.extras.release(ls.extra)
				ls.extra = e
			}
			switch {
			case o.silent():
				ls.value = next[j].Value
			case !sameValue(ls.value, next[j].Value):
				s.emitLocked(newBase, &ls, next[j].Value, now, s.startOf(o, &ls))
			}
			out = append(out, ls)
			i++
			j++
		}
	}
	o.base, o.series = newBase, slices.Clip(out)
}

// emitLocked records value as the series' current value and queues a sample
// with a timestamp after the series' previous one, and the start timestamp st
// (0 for none: see startOf).
func (s *Snapshot) emitLocked(base *[]series.Label, ls *liveSeries, value float64, now, st int64) {
	t := max(now, ls.t+1)
	ls.value, ls.t = value, t
	s.buf = append(s.buf, series.Sample{Labels: ls.labels(base), T: t, V: value, ST: st})
}

// startOf returns the start timestamp of a series of o: the object's if the
// series is a counter, else 0. Only objects with a start compare names.
func (s *Snapshot) startOf(o *object, ls *liveSeries) int64 {
	if o.start != 0 && slices.Contains(s.counters, ls.name) {
		return o.start
	}
	return 0
}

// endLocked queues the staleness marker of a series, remembers its time and
// lets go of its label set.
func (s *Snapshot) endLocked(base *[]series.Label, ls *liveSeries, now int64) {
	s.emitLocked(base, ls, series.StaleNaN, now, 0) // a marker needs no start
	if now-s.endedPruned > endedMemory.Milliseconds() {
		for k, t := range s.ended {
			if now-t > endedMemory.Milliseconds() {
				delete(s.ended, k)
			}
		}
		s.endedPruned = now
	}
	s.ended[ls.labels(base).String()] = ls.t
	s.extras.release(ls.extra)
}

// endObjectSeriesLocked ends a series of o: at once, at the end of the
// handover if o is held, or not at all if o was never sent (unborn).
func (s *Snapshot) endObjectSeriesLocked(o *object, base *[]series.Label, ls *liveSeries, now int64) {
	if o.unborn != 0 { // never sent: nothing to end
		s.extras.release(ls.extra)
		return
	}
	if !o.held {
		s.endLocked(base, ls, now)
		return
	}
	s.heldEnded = append(s.heldEnded, heldEnd{base, *ls})
}

// restartedLocked returns the last timestamp of a series that ended recently
// with the same labels, or that the WAL knew from before this start, or 0.
func (s *Snapshot) restartedLocked(ls series.Labels) int64 {
	if len(s.ended) == 0 && len(s.restored) == 0 {
		return 0
	}
	k := ls.String()
	t := s.ended[k]
	if p := s.restored[k]; p != nil {
		p.seen = true
		t = max(t, p.T)
	}
	return t
}

// PrevSeries is what the snapshot is told of a series from before this start
// (by the WAL): its new samples must follow the last one, and a live series
// that no object produces any more is ended (EndVanished).
type PrevSeries struct {
	Labels series.Labels
	T      int64 // its last timestamp
	Live   bool  // not ended, and seen in or after the last complete resend
	seen   bool  // produced again since this start
}

// Restore gives the snapshot what the WAL knew of the series from before this
// start, by label string (series.Labels.String). Call it before the watches
// start.
func (s *Snapshot) Restore(prev map[string]*PrevSeries) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.restored = prev
}

// EndVanished ends the series that were live before this start and that no
// object produces now: objects deleted while the agent was down. Call it once
// every initial list is applied. It returns how many series it ended.
func (s *Snapshot) EndVanished() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	for _, p := range s.restored {
		if p.Live && !p.seen {
			t := max(now, p.T+1)
			s.buf = append(s.buf, series.Sample{Labels: p.Labels, T: t, V: series.StaleNaN})
			n++
			if len(s.buf) >= flushSamples {
				s.flushLocked()
			}
		}
	}
	s.restored = nil
	s.flushLocked()
	return n
}

func (s *Snapshot) flushLocked() {
	if len(s.buf) == 0 {
		return
	}
	s.out.Append(s.buf)
	clear(s.buf)
	s.buf = s.buf[:0]
}

// labelSets shares identical family label sets between series, counting
// references so that sets nobody uses any more are dropped. A set is its
// labels and their layout (how /metrics writes them, see series.Layout): the
// same labels written in two ways are two sets, which is rare.
type labelSets struct {
	sets map[uint64]*labelSet
	seed maphash.Seed
}

// labelSet is 48 bytes, a size class of its own: the hash is not kept but
// computed again when the set is dropped.
type labelSet struct {
	labels []series.Label
	layout *series.Layout
	refs   int
	next   *labelSet // another set with the same hash
}

// layoutOf returns the set's layout; nil for no set.
func (e *labelSet) layoutOf() *series.Layout {
	if e == nil {
		return nil
	}
	return e.layout
}

func (p *labelSets) hash(ls []series.Label, layout *series.Layout) uint64 {
	var h maphash.Hash
	h.SetSeed(p.seed)
	for _, l := range ls {
		h.WriteString(l.Name)
		h.WriteByte(0xff)
		h.WriteString(l.Value)
		h.WriteByte(0xff)
	}
	if layout != nil {
		maphash.WriteComparable(&h, layout.ID())
	}
	return h.Sum64()
}

// acquire returns the shared set equal to ls with layout (taking a
// reference), or nil for an empty one without a layout. ls is the generator's
// fresh output and may be kept.
func (p *labelSets) acquire(ls []series.Label, layout *series.Layout) *labelSet {
	if len(ls) == 0 && layout == nil {
		return nil
	}
	sum := p.hash(ls, layout)
	for e := p.sets[sum]; e != nil; e = e.next {
		if e.layout == layout && slices.Equal(e.labels, ls) {
			e.refs++
			return e
		}
	}
	internValues(ls)
	e := &labelSet{labels: slices.Clip(ls), layout: layout, refs: 1, next: p.sets[sum]}
	p.sets[sum] = e
	return e
}

// release drops a reference to e, and e itself with the last one.
func (p *labelSets) release(e *labelSet) {
	if e == nil {
		return
	}
	if e.refs--; e.refs > 0 {
		return
	}
	sum := p.hash(e.labels, e.layout)
	if p.sets[sum] == e {
		if e.next == nil {
			delete(p.sets, sum)
		} else {
			p.sets[sum] = e.next
		}
		return
	}
	for prev := p.sets[sum]; prev != nil; prev = prev.next {
		if prev.next == e {
			prev.next = e.next
			return
		}
	}
}

// internValues replaces each value by its canonical copy: namespaces, node,
// owner, container and image names repeat across objects.
func internValues(ls []series.Label) {
	for i := range ls {
		ls[i].Value = unique.Make(ls[i].Value).Value()
	}
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
