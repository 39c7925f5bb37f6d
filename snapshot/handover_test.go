package snapshot

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// uidIn returns a UID that shard(shard, total) owns. The snapshot does not
// compute shards, the agent does and tells it through an ownership function:
// here the UID names its shard.
func uidIn(_ *testing.T, prefix string, shard, total int) string {
	return fmt.Sprintf("%s-%d-of-%d", prefix, shard, total)
}

// shard returns the ownership function of a shard among total for the UIDs
// of uidIn.
func shard(n, total int) func(uid string) bool {
	suffix := fmt.Sprintf("-%d-of-%d", n, total)
	return func(uid string) bool { return strings.HasSuffix(uid, suffix) }
}

func lbl(name, pod string) series.Labels {
	return series.FromPairs([]series.Label{{Name: series.MetricName, Value: name}, {Name: "pod", Value: pod}})
}

// A reshard hands over the objects that leave the shard: one last sample,
// no staleness marker. Objects gained are held until the handover ends, then
// sent at once; a relist then still ends a deleted object with a marker.
func TestSnapshotReshard(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	stay, leave, gained := uidIn(t, "stay", 0, 2), uidIn(t, "leave", 1, 2), uidIn(t, "gained", 0, 2)
	s.Replace(set, []collectors.Object{obj(stay, "1", ser("m", 1, "pod", "stay")), obj(leave, "1", ser("m", 2, "pod", "leave"))})
	expect(t, rec, `m{pod="stay"} 1000 1`, `m{pod="leave"} 1000 2`)

	// 1 shard → 2: this is shard 0; "leave" moves to shard 1.
	*now = 2000
	last := s.SetShard(shard(0, 2), 4000)
	expect(t, rec, `m{pod="leave"} 2000 2`)
	if len(last) != 1 || last[0].Labels.Get("pod") != "leave" || last[0].T != 2000 {
		t.Errorf("handed over %v, want the last sample of leave", last)
	}

	// The relist with the new filter: a gained object is held; one that
	// is owned and absent was deleted meanwhile (none here).
	*now = 2100
	s.Replace(set, []collectors.Object{obj(stay, "2", ser("m", 1, "pod", "stay")), obj(gained, "1", ser("m", 3, "pod", "gained"))})
	expect(t, rec)
	*now = 2500
	s.Apply(set, obj(gained, "2", ser("m", 4, "pod", "gained")))
	s.Resend()
	expect(t, rec, `m{pod="stay"} 2500 1`)

	*now = 4000
	if n := s.ReleaseHeld(); n != 1 {
		t.Errorf("released %d objects, want 1", n)
	}
	expect(t, rec, `m{pod="gained"} 4000 4`)

	// After the handover, a relist that lacks an owned object ends it.
	*now = 5000
	s.Replace(set, []collectors.Object{obj(gained, "2", ser("m", 4, "pod", "gained"))})
	expect(t, rec, `m{pod="stay"} 5000 stale`)
}

// An object gained by a reshard that is deleted during the handover, or
// that loses a series then, is ended only when the handover ends: the shard
// that handed it over may still be sending its last sample, and a marker
// landing before that sample would get it rejected as out of order.
func TestSnapshotHeldObjectEnds(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	set := s.NewSet("pods", nil)
	gone, shrinks, back := uidIn(t, "gone", 0, 2), uidIn(t, "shrinks", 0, 2), uidIn(t, "back", 0, 2)
	s.Replace(set, nil)
	*now = 2000
	s.SetShard(shard(0, 2), 4000)
	*now = 2100
	s.Replace(set, []collectors.Object{
		obj(gone, "1", ser("m", 1, "pod", "gone")),
		obj(shrinks, "1", ser("m", 2, "pod", "shrinks"), ser("n", 2, "pod", "shrinks")),
		obj(back, "1", ser("m", 3, "pod", "back")),
	})
	*now = 2500
	s.Remove(set, gone, "2")
	s.Apply(set, obj(shrinks, "2", ser("m", 2, "pod", "shrinks")))
	// Deleted and created again under the same name, with a new UID.
	s.Remove(set, back, "2")
	again := uidIn(t, "again", 0, 2)
	s.Apply(set, obj(again, "3", ser("m", 5, "pod", "back")))
	expect(t, rec)

	*now = 4000
	if n := s.ReleaseHeld(); n != 2 {
		t.Errorf("released %d objects, want 2", n)
	}
	expectAnyOrder(t, rec, `m{pod="gone"} 4000 stale`, `n{pod="shrinks"} 4000 stale`, `m{pod="back"} 4000 stale`,
		`m{pod="shrinks"} 4001 2`, `m{pod="back"} 4001 5`)

	// Nothing is ended twice.
	*now = 5000
	s.ReleaseHeld()
	s.Resend()
	expectAnyOrder(t, rec, `m{pod="shrinks"} 5000 2`, `m{pod="back"} 5000 5`)
}

// A restarted snapshot continues each series' timestamps, and ends the live
// series no object produces any more.
func TestSnapshotRestore(t *testing.T) {
	s, rec, now := newTestSnapshot(t)
	*now = 1000
	s.Restore(map[string]*PrevSeries{
		lbl("m", "back").String(): {Labels: lbl("m", "back"), T: 5000, Live: true},
		lbl("m", "gone").String(): {Labels: lbl("m", "gone"), T: 900, Live: true},
		lbl("m", "old").String():  {Labels: lbl("m", "old"), T: 800, Live: false},
	})
	set := s.NewSet("pods", nil)
	s.Replace(set, nil)
	s.Apply(set, obj("u", "1", ser("m", 7, "pod", "back")))
	expect(t, rec, `m{pod="back"} 5001 7`)
	if n := s.EndVanished(); n != 1 {
		t.Errorf("ended %d series, want 1", n)
	}
	expect(t, rec, `m{pod="gone"} 1000 stale`)
}
