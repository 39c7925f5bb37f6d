package agent

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
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
	s := NewSnapshot(rec, newMetrics(nil, func() float64 { return 0 }))
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

func TestSnapshotDiff(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.newSet("pods")

	s.apply(set, obj("u1", "10", ser("a", 1, "pod", "p"), ser("b", 0, "pod", "p")))
	expect(t, rec, `a{pod="p"} 1000 1`, `b{pod="p"} 1000 0`)

	// Unchanged values send nothing; a changed value is sent at once; a vanished
	// series gets a staleness marker; a new one starts.
	*now = 2000
	s.apply(set, obj("u1", "11", ser("a", 1, "pod", "p"), ser("b", 1, "pod", "p")))
	expect(t, rec, `b{pod="p"} 2000 1`)
	s.apply(set, obj("u1", "12", ser("a", 1, "pod", "p"), ser("c", 5, "pod", "p")))
	expect(t, rec, `b{pod="p"} 2001 stale`, `c{pod="p"} 2000 5`)

	// Same millisecond again: timestamps still increase per series.
	s.apply(set, obj("u1", "13", ser("a", 2, "pod", "p"), ser("c", 5, "pod", "p")))
	s.apply(set, obj("u1", "14", ser("a", 3, "pod", "p"), ser("c", 5, "pod", "p")))
	expect(t, rec, `a{pod="p"} 2000 2`, `a{pod="p"} 2001 3`)

	// Delete ends every series.
	*now = 3000
	s.remove(set, "u1", "15")
	expect(t, rec, `a{pod="p"} 3000 stale`, `c{pod="p"} 3000 stale`)
	if len(set.objects) != 0 {
		t.Errorf("object kept after delete")
	}
}

func TestSnapshotOutOfOrderEvents(t *testing.T) {
	s, rec, _ := newTestSnapshot(t)
	set := s.newSet("pods")
	s.apply(set, obj("u1", "20", ser("a", 1)))
	rec.take()

	s.apply(set, obj("u1", "19", ser("a", 7)))
	expect(t, rec)
	s.remove(set, "u1", "5")
	expect(t, rec)
	if got := counterValue(t, set.outOfOrder); got != 2 {
		t.Errorf("out-of-order counter = %v, want 2", got)
	}
	// Resource versions that are not integers are never ordered: applied.
	s.apply(set, obj("u1", "opaque-b", ser("a", 8)))
	expect(t, rec, `a 1001 8`)
	s.apply(set, obj("u1", "opaque-a", ser("a", 9)))
	expect(t, rec, `a 1002 9`)
}

func TestSnapshotRelistEndsVanishedObjects(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.newSet("pods")
	s.replace(set, []collectors.Object{
		obj("u1", "1", ser("a", 1, "pod", "one")),
		obj("u2", "1", ser("a", 1, "pod", "two")),
	})
	rec.take()
	if !s.Synced() {
		t.Fatal("not synced after initial list")
	}
	*now = 5000
	s.replace(set, []collectors.Object{obj("u2", "2", ser("a", 2, "pod", "two"))})
	expect(t, rec, `a{pod="one"} 5000 stale`, `a{pod="two"} 5000 2`)
}

// A deployment deleted and re-created under the same name produces the same
// series from a new UID: the new object's samples must come after the marker.
func TestSnapshotRecreateSameSeries(t *testing.T) {
	s, rec, _ := newTestSnapshot(t)
	set := s.newSet("deployments")
	s.apply(set, obj("old", "1", ser("kube_deployment_spec_replicas", 2, "deployment", "d")))
	s.remove(set, "old", "2")
	s.apply(set, obj("new", "3", ser("kube_deployment_spec_replicas", 3, "deployment", "d")))
	expect(t, rec,
		`kube_deployment_spec_replicas{deployment="d"} 1000 2`,
		`kube_deployment_spec_replicas{deployment="d"} 1001 stale`,
		`kube_deployment_spec_replicas{deployment="d"} 1002 3`)

	// The same in one relist: the old UID's end comes first.
	s2, rec2, _ := newTestSnapshot(t)
	set2 := s2.newSet("deployments")
	s2.replace(set2, []collectors.Object{obj("old", "1", ser("x", 1, "deployment", "d"))})
	rec2.take()
	s2.replace(set2, []collectors.Object{obj("new", "5", ser("x", 4, "deployment", "d"))})
	expect(t, rec2, `x{deployment="d"} 1001 stale`, `x{deployment="d"} 1002 4`)
}

func TestSnapshotResend(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	a, b := s.newSet("pods"), s.newSet("nodes")
	s.apply(a, obj("u1", "1", ser("a", 1)))
	s.apply(b, obj("u2", "1", ser("b", 2)))
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
	set := s.newSet("pods")
	for i := range 10 {
		uid := fmt.Sprint("u", i)
		s.apply(set, obj(uid, "1", ser("phase", 1, "phase", "Running", "pod", uid), ser("phase", 0, "phase", "Pending", "pod", uid)))
	}
	if n := len(s.extras.sets); n != 20 {
		// ser() puts every label in the family part; pods differ by name here.
		t.Fatalf("%d label sets", n)
	}
	for i := range 10 {
		s.remove(set, fmt.Sprint("u", i), "2")
	}
	if n := len(s.extras.sets); n != 0 {
		t.Errorf("%d label sets left after every object is gone", n)
	}
	rec.take()
}
