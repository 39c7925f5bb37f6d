package snapshot

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
	"github.com/kube-state-push/kube-state-push/series"
)

// recorder is an Appender that keeps every sample, rendered as "series t value".
type recorder struct{ got []string }

func (r *recorder) Append(ss []series.Sample) {
	for _, s := range ss {
		v := fmt.Sprint(s.V)
		if series.IsStaleNaN(s.V) {
			v = "stale"
		} else if math.IsNaN(s.V) {
			v = "NaN(not stale)"
		}
		if s.ST != 0 {
			v += fmt.Sprintf(" st=%d", s.ST)
		}
		r.got = append(r.got, fmt.Sprintf("%s %d %s", s.Labels.String(), s.T, v))
	}
}

func (r *recorder) take() string {
	out := strings.Join(r.got, "\n")
	r.got = nil
	return out
}

func newTestSnapshot(t *testing.T) (*Snapshot, *recorder, *int64) {
	t.Helper()
	rec := &recorder{}
	s := New(rec, nil)
	now := int64(1000)
	s.now = func() int64 { return now }
	return s, rec, &now
}

func obj(uid, rv string, ss ...series.Series) collectors.Object {
	collectors.SortSeries(ss)
	return collectors.Object{UID: uid, ResourceVersion: rv, Series: ss}
}

func ser(name string, v float64, kv ...string) series.Series {
	ls := []series.Label{{Name: series.MetricName, Value: name}}
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, series.Label{Name: kv[i], Value: kv[i+1]})
	}
	return series.Series{Labels: series.FromPairs(ls), Value: v}
}

func expect(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	if got := rec.take(); got != strings.Join(want, "\n") {
		t.Errorf("samples:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

// expectAnyOrder is expect for samples of several objects, which come in
// map order.
func expectAnyOrder(t *testing.T, rec *recorder, want ...string) {
	t.Helper()
	got := strings.Split(rec.take(), "\n")
	slices.Sort(got)
	want = slices.Sorted(slices.Values(want))
	if !slices.Equal(got, want) {
		t.Errorf("samples (sorted):\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSnapshotDiff(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", nil)

	s.Apply(set, obj("u1", "10", ser("a", 1, "pod", "p"), ser("b", 0, "pod", "p")))
	expect(t, rec, `a{pod="p"} 1000 1`, `b{pod="p"} 1000 0`)

	// Unchanged values send nothing; a changed value is sent at once; a vanished
	// series gets a staleness marker; a new one starts.
	*now = 2000
	s.Apply(set, obj("u1", "11", ser("a", 1, "pod", "p"), ser("b", 1, "pod", "p")))
	expect(t, rec, `b{pod="p"} 2000 1`)
	s.Apply(set, obj("u1", "12", ser("a", 1, "pod", "p"), ser("c", 5, "pod", "p")))
	expect(t, rec, `b{pod="p"} 2001 stale`, `c{pod="p"} 2000 5`)

	// Same millisecond again: timestamps still increase per series.
	s.Apply(set, obj("u1", "13", ser("a", 2, "pod", "p"), ser("c", 5, "pod", "p")))
	s.Apply(set, obj("u1", "14", ser("a", 3, "pod", "p"), ser("c", 5, "pod", "p")))
	expect(t, rec, `a{pod="p"} 2000 2`, `a{pod="p"} 2001 3`)

	// Delete ends every series.
	*now = 3000
	s.Remove(set, "u1", "15")
	expect(t, rec, `a{pod="p"} 3000 stale`, `c{pod="p"} 3000 stale`)
	if len(set.objects) != 0 {
		t.Errorf("object kept after delete")
	}
}

func TestSnapshotOutOfOrderEvents(t *testing.T) {
	s, rec, _ := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	s.Apply(set, obj("u1", "20", ser("a", 1)))
	rec.take()

	s.Apply(set, obj("u1", "19", ser("a", 7)))
	expect(t, rec)
	s.Remove(set, "u1", "5")
	expect(t, rec)
	if got := testutil.ToFloat64(set.outOfOrder); got != 2 {
		t.Errorf("out-of-order counter = %v, want 2", got)
	}
	// Resource versions that are not integers are never ordered: applied.
	s.Apply(set, obj("u1", "opaque-b", ser("a", 8)))
	expect(t, rec, `a 1001 8`)
	s.Apply(set, obj("u1", "opaque-a", ser("a", 9)))
	expect(t, rec, `a 1002 9`)
}

// After an etcd restore the apiserver's resourceVersions go back: the relist
// holds lower ones than the snapshot. The list is what the cluster holds now,
// so it re-bases them, and the watch's later events apply instead of being
// dropped as stale until they pass the old values.
func TestSnapshotRelistRebasesResourceVersions(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	s.Replace(set, []collectors.Object{obj("u1", "9000", ser("a", 1)), obj("u2", "9001", ser("b", 1))})
	rec.take()

	*now = 2000
	s.Replace(set, []collectors.Object{obj("u1", "40", ser("a", 2)), obj("u2", "41", ser("b", 1))})
	expect(t, rec, `a 2000 2`)
	*now = 3000
	s.Apply(set, obj("u1", "42", ser("a", 3)))
	s.Apply(set, obj("u2", "43", ser("b", 4)))
	expect(t, rec, `a 3000 3`, `b 3000 4`)
	s.Remove(set, "u2", "44")
	expect(t, rec, `b 3001 stale`)
	// Stale only relative to the re-based versions.
	s.Apply(set, obj("u1", "41", ser("a", 9)))
	expect(t, rec)
	if got := testutil.ToFloat64(set.outOfOrder); got != 1 {
		t.Errorf("out-of-order counter = %v, want 1 (the one event older than the relist)", got)
	}
}

// Synced is what /readyz asks: it must answer while the pipeline pushes back
// and the snapshot's lock is held.
func TestSnapshotSyncedDoesNotWaitForTheLock(t *testing.T) {
	s, _, _ := newTestSnapshot(t)
	a, b := s.NewSet("pods", nil), s.NewSet("nodes", nil)
	if s.Synced() {
		t.Fatal("synced before any list")
	}
	s.Replace(a, nil)
	s.Replace(a, nil) // a relist changes nothing
	if s.Synced() {
		t.Fatal("synced with one set of two listed")
	}
	s.Replace(b, nil)
	s.mu.Lock()
	defer s.mu.Unlock()
	done := make(chan bool)
	go func() { done <- s.Synced() }()
	select {
	case ok := <-done:
		if !ok {
			t.Error("not synced after every set listed")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Synced waited for the snapshot's lock")
	}
}

func TestSnapshotRelistEndsVanishedObjects(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	s.Replace(set, []collectors.Object{
		obj("u1", "1", ser("a", 1, "pod", "one")),
		obj("u2", "1", ser("a", 1, "pod", "two")),
	})
	rec.take()
	if !s.Synced() {
		t.Fatal("not synced after initial list")
	}
	*now = 5000
	s.Replace(set, []collectors.Object{obj("u2", "2", ser("a", 2, "pod", "two"))})
	expect(t, rec, `a{pod="one"} 5000 stale`, `a{pod="two"} 5000 2`)
}

// A deployment deleted and re-created under the same name produces the same
// series from a new UID: the new object's samples must come after the marker.
func TestSnapshotRecreateSameSeries(t *testing.T) {
	s, rec, _ := newTestSnapshot(t)
	set := s.NewSet("deployments", nil)
	s.Apply(set, obj("old", "1", ser("kube_deployment_spec_replicas", 2, "deployment", "d")))
	s.Remove(set, "old", "2")
	s.Apply(set, obj("new", "3", ser("kube_deployment_spec_replicas", 3, "deployment", "d")))
	expect(t, rec,
		`kube_deployment_spec_replicas{deployment="d"} 1000 2`,
		`kube_deployment_spec_replicas{deployment="d"} 1001 stale`,
		`kube_deployment_spec_replicas{deployment="d"} 1002 3`)

	// The same in one relist: the old UID's end comes first.
	s2, rec2, _ := newTestSnapshot(t)
	set2 := s2.NewSet("deployments", nil)
	s2.Replace(set2, []collectors.Object{obj("old", "1", ser("x", 1, "deployment", "d"))})
	rec2.take()
	s2.Replace(set2, []collectors.Object{obj("new", "5", ser("x", 4, "deployment", "d"))})
	expect(t, rec2, `x{deployment="d"} 1001 stale`, `x{deployment="d"} 1002 4`)
}

func TestSnapshotResend(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	a, b := s.NewSet("pods", nil), s.NewSet("nodes", nil)
	s.Apply(a, obj("u1", "1", ser("a", 1)))
	s.Apply(b, obj("u2", "1", ser("b", 2)))
	rec.take()
	s.Resend()
	expect(t, rec, `a 1001 1`, `b 1001 2`)
	*now = 31000
	s.Resend()
	expect(t, rec, `a 31000 1`, `b 31000 2`)
}

func TestStaleMarkerBits(t *testing.T) {
	if math.Float64bits(series.StaleNaN) != 0x7ff0000000000002 {
		t.Fatalf("StaleNaN bits = %#x", math.Float64bits(series.StaleNaN))
	}
	if series.IsStaleNaN(math.NaN()) {
		t.Fatal("an ordinary NaN is not a staleness marker")
	}
}

// Shared family label sets are counted: series of many objects share one, and
// nothing is left once every object is gone.
func TestSnapshotSharesLabelSets(t *testing.T) {
	s, rec, _ := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	for i := range 10 {
		uid := fmt.Sprint("u", i)
		s.Apply(set, obj(uid, "1", ser("phase", 1, "phase", "Running", "pod", uid), ser("phase", 0, "phase", "Pending", "pod", uid)))
	}
	if n := len(s.extras.sets); n != 20 {
		// ser() puts every label in the family part; pods differ by name here.
		t.Fatalf("%d label sets", n)
	}
	for i := range 10 {
		s.Remove(set, fmt.Sprint("u", i), "2")
	}
	if n := len(s.extras.sets); n != 0 {
		t.Errorf("%d label sets left after every object is gone", n)
	}
	rec.take()
}

// batchRecorder keeps the samples of each Append call apart.
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]series.Sample
	onBatch func()
}

func (r *batchRecorder) Append(ss []series.Sample) {
	r.mu.Lock()
	r.batches = append(r.batches, slices.Clone(ss))
	f := r.onBatch
	r.mu.Unlock()
	if f != nil {
		f()
	}
}

func TestSnapshotResendSpread(t *testing.T) {
	rec := &batchRecorder{}
	s := New(rec, nil)
	var now atomic.Int64
	now.Store(1000)
	s.now = func() int64 { return now.Add(1) }
	pods, nodes := s.NewSet("pods", nil), s.NewSet("nodes", nil)
	for i := range 30 {
		s.Apply(pods, obj(fmt.Sprintf("p%02d", i), "1", ser("pod", float64(i), "pod", fmt.Sprint(i)), ser("pod_x", 1, "pod", fmt.Sprint(i))))
	}
	for i := range 10 {
		s.Apply(nodes, obj(fmt.Sprintf("n%02d", i), "1", ser("node", float64(i), "node", fmt.Sprint(i))))
	}
	rec.batches = nil

	// After the first slice, a pod of a later slice changes: it is sent at
	// once, between the slices, and its resend comes later in time.
	first := make(chan struct{})
	var once sync.Once
	rec.onBatch = func() { once.Do(func() { close(first) }) }
	go func() {
		<-first
		s.Apply(pods, obj("p25", "2", ser("pod", 99, "pod", "25"), ser("pod_x", 1, "pod", "25")))
	}()
	s.ResendSpread(context.Background(), 4*resendStep)

	last := map[string]int64{}
	resent := map[string]int{}
	slicesSeen := 0
	for _, b := range rec.batches {
		if len(b) == 1 && b[0].V == 99 {
			continue // the change
		}
		slicesSeen++
		for _, x := range b {
			resent[x.Labels.String()]++
		}
	}
	for _, b := range rec.batches {
		for _, x := range b {
			k := x.Labels.String()
			if x.T <= last[k] {
				t.Errorf("%s: sample at %d after one at %d", k, x.T, last[k])
			}
			last[k] = x.T
		}
	}
	if len(resent) != 70 {
		t.Errorf("%d series resent, want all 70", len(resent))
	}
	for k, n := range resent {
		if n != 1 {
			t.Errorf("%s resent %d times in one round", k, n)
		}
	}
	if slicesSeen != 4 {
		t.Errorf("resend went out in %d batches, want 4 slices", slicesSeen)
	}
	// The objects go in a fixed order: set by set, by UID; the first slice is
	// the first 10 pods.
	for i, x := range rec.batches[0] {
		if want := fmt.Sprint(i / 2); x.Labels.Get("pod") != want {
			t.Errorf("first slice, sample %d: %s, want pod %s", i, x.Labels, want)
		}
	}
	if v := lastValue(rec.batches, `pod{pod="25"}`); v != 99 {
		t.Errorf("pod 25 resent with %v, want its new value 99", v)
	}

	// A cancelled round stops between slices.
	rec.batches, rec.onBatch = nil, nil
	ctx, cancel := context.WithCancel(context.Background())
	rec.onBatch = cancel
	s.ResendSpread(ctx, 4*resendStep)
	if len(rec.batches) != 1 {
		t.Errorf("cancelled round sent %d slices, want 1", len(rec.batches))
	}
}

func lastValue(batches [][]series.Sample, key string) float64 {
	v := math.NaN()
	for _, b := range batches {
		for _, x := range b {
			if x.Labels.String() == key {
				v = x.V
			}
		}
	}
	return v
}

// The samples of counter series carry their object's start timestamp, in
// every way a sample is made (new, changed, resent, handed over, released
// after a handover); gauges and staleness markers carry none.
func TestSnapshotStartTimestamps(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", []string{"c_total"})
	withStart := func(o collectors.Object, st int64) collectors.Object { o.Start = st; return o }
	p, q := uidIn(t, "p", 0, 2), uidIn(t, "q", 1, 2)
	s.Apply(set, withStart(obj(p, "1", ser("c_total", 0, "pod", "p"), ser("g", 1, "pod", "p")), 500))
	expect(t, rec, `c_total{pod="p"} 1000 0 st=500`, `g{pod="p"} 1000 1`)
	*now = 1100
	s.Apply(set, withStart(obj(p, "2", ser("c_total", 1, "pod", "p"), ser("g", 2, "pod", "p")), 500))
	expect(t, rec, `c_total{pod="p"} 1100 1 st=500`, `g{pod="p"} 1100 2`)
	// An object without a start sends its counters without one.
	s.Apply(set, obj(q, "1", ser("c_total", 3, "pod", "q")))
	expect(t, rec, `c_total{pod="q"} 1100 3`)
	*now = 1200
	s.Resend()
	expectAnyOrder(t, rec, `c_total{pod="p"} 1200 1 st=500`, `g{pod="p"} 1200 2`, `c_total{pod="q"} 1200 3`)

	// Handed over (p stays on shard 0, q leaves): q's last sample; then
	// a gained object is held and released with its start.
	*now = 1300
	last := s.SetShard(shard(0, 2), 2000)
	expect(t, rec, `c_total{pod="q"} 1300 3`)
	if len(last) != 1 || last[0].ST != 0 {
		t.Errorf("handed over %v, want q's last sample without a start", last)
	}
	gained := uidIn(t, "gained", 0, 2)
	s.Apply(set, withStart(obj(gained, "1", ser("c_total", 7, "pod", "gained")), 900))
	expect(t, rec)
	*now = 2000
	s.ReleaseHeld()
	expect(t, rec, `c_total{pod="gained"} 2000 7 st=900`)

	*now = 2100
	s.Remove(set, p, "3")
	expect(t, rec, `c_total{pod="p"} 2100 stale`, `g{pod="p"} 2100 stale`)
}

// Handing over a counter series sends its last sample with the start.
func TestSnapshotHandoverStart(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", []string{"c_total"})
	leave := uidIn(t, "leave", 1, 2)
	o := obj(leave, "1", ser("c_total", 2, "pod", "leave"))
	o.Start = 500
	s.Replace(set, []collectors.Object{o})
	expect(t, rec, `c_total{pod="leave"} 1000 2 st=500`)
	*now = 2000
	last := s.SetShard(shard(0, 2), 4000)
	expect(t, rec, `c_total{pod="leave"} 2000 2 st=500`)
	if len(last) != 1 || last[0].ST != 500 {
		t.Errorf("handed over %v, want the last sample with start 500", last)
	}
}

// A real pod through its generator: the restart counters carry the pod's
// creation timestamp, no other series does.
func TestSnapshotPodRestartsStart(t *testing.T) {
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	rec := &sampleRecorder{}
	s := New(rec, nil)
	set := s.NewSet("pods", CounterFamilies(rs[0]))
	o, _ := rs[0].NewGenerator(collectors.Options{}).Generate(fixtures.Pod(0, v1.PodRunning))
	s.Apply(set, o)
	counters := 0
	for _, x := range rec.got {
		isCounter := x.Labels.Name() == "kube_pod_container_status_restarts_total"
		if isCounter {
			counters++
		}
		if want := map[bool]int64{true: 1700000000000}[isCounter]; x.ST != want {
			t.Errorf("%s: start %d, want %d", x.Labels, x.ST, want)
		}
	}
	if counters != 2 || len(rec.got) <= counters {
		t.Errorf("%d samples, %d of them restart counters; want 2 counters and gauges", len(rec.got), counters)
	}
}

// sampleRecorder keeps the samples themselves.
type sampleRecorder struct{ got []series.Sample }

func (r *sampleRecorder) Append(ss []series.Sample) { r.got = append(r.got, ss...) }

func unobserved(o collectors.Object) collectors.Object {
	o.Unobserved = true
	return o
}

func TestSnapshotWaitsForTheControllersOfANewWorkload(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("deployments", nil)
	// An unobserved object of the initial list is sent at once: it has been
	// in the cluster for a while.
	s.Replace(set, []collectors.Object{unobserved(obj("u0", "1", ser("updated", 0, "deployment", "old")))})
	expect(t, rec, `updated{deployment="old"} 1000 0`)

	// Created while watching: neither its empty status nor the first its
	// controller writes is sent, nor resent; once the status has not changed
	// for unbornSettle, it is, as the first sample of each series.
	settle := unbornSettle.Milliseconds()
	*now = 2000
	s.Apply(set, unobserved(obj("u1", "10", ser("updated", 0, "deployment", "d"), ser("spec", 3, "deployment", "d"))))
	*now = 2030
	s.Apply(set, obj("u1", "11", ser("updated", 0, "deployment", "d"), ser("spec", 3, "deployment", "d")))
	*now = 2060
	s.Apply(set, obj("u1", "12", ser("updated", 3, "deployment", "d"), ser("spec", 3, "deployment", "d")))
	s.Resend()
	expect(t, rec, `updated{deployment="old"} 2060 0`)
	*now = 2060 + settle - 1
	s.ReleaseUnborn()
	expect(t, rec)
	*now++
	s.ReleaseUnborn()
	expect(t, rec, fmt.Sprintf(`spec{deployment="d"} %d 3`, *now), fmt.Sprintf(`updated{deployment="d"} %d 3`, *now))
	// From then on, every change is sent at once.
	*now += 100
	s.Apply(set, obj("u1", "13", ser("updated", 2, "deployment", "d"), ser("spec", 3, "deployment", "d")))
	expect(t, rec, fmt.Sprintf(`updated{deployment="d"} %d 2`, *now))

	// Never observed, or never quiet: sent unbornWait after it appeared.
	start := *now
	s.Apply(set, unobserved(obj("u2", "20", ser("updated", 0, "deployment", "e"))))
	*now = start + unbornWait.Milliseconds() - 1
	s.ReleaseUnborn()
	expect(t, rec)
	*now++
	s.ReleaseUnborn()
	expect(t, rec, fmt.Sprintf(`updated{deployment="e"} %d 0`, *now))
	start = *now
	s.Apply(set, unobserved(obj("u3", "30", ser("updated", 0, "deployment", "f"))))
	for v := range 10 {
		*now += settle / 2
		s.Apply(set, obj("u3", fmt.Sprint(31+v), ser("updated", float64(v), "deployment", "f")))
		s.ReleaseUnborn()
	}
	expect(t, rec, fmt.Sprintf(`updated{deployment="f"} %d 9`, start+unbornWait.Milliseconds()))
	if len(s.unborn) != 0 {
		t.Errorf("%d objects still wait, want none", len(s.unborn))
	}

	// Deleted before it was sent: nothing ends.
	s.Apply(set, unobserved(obj("u4", "40", ser("updated", 0, "deployment", "g"))))
	s.Remove(set, "u4", "41")
	s.ReleaseUnborn()
	expect(t, rec)
	// Its label set is let go: those of old, d, e and f are left.
	if got, want := len(s.extras.sets), 4; got != want {
		t.Errorf("%d shared label sets left, want %d", got, want)
	}
}

// A removed set ends its objects' series at once, is no longer resent or
// exposed, and no longer holds Synced back.
func TestSnapshotRemoveSet(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	kept := s.NewSet("pods", nil)
	gone := s.NewSet("example.com/v1/widgets", nil)
	never := s.NewSet("example.com/v1/gadgets", nil) // removed before its initial list
	s.Replace(kept, []collectors.Object{obj("p", "1", ser("a", 1, "pod", "p"))})
	s.Replace(gone, []collectors.Object{obj("w1", "1", ser("w", 1, "name", "one")), obj("w2", "1", ser("w", 2, "name", "two"))})
	s.DescribeSet(gone, &Exposition{Families: []collectors.FamilyInfo{{Name: "w", Type: collectors.Gauge}}})
	rec.take()
	if s.Synced() {
		t.Fatal("synced with a set that has not listed")
	}
	*now = 2000
	s.RemoveSet(gone)
	s.RemoveSet(never)
	s.RemoveSet(gone) // twice: nothing more
	expectAnyOrder(t, rec, `w{name="one"} 2000 stale`, `w{name="two"} 2000 stale`)
	if !s.Synced() {
		t.Error("not synced once the unlisted set is removed")
	}
	*now = 3000
	s.Resend()
	expect(t, rec, `a{pod="p"} 3000 1`)
	var b strings.Builder
	if err := s.WriteExposition(&b, false, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "w{") || strings.Contains(b.String(), "# HELP w ") {
		t.Errorf("a removed set is still exposed:\n%s", b.String())
	}
}
