package snapshot

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"

	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
	"github.com/kube-state-push/kube-state-push/series"
)

// seriesLabelsPods is the pods generator with --series-labels=pods=[team] and
// kube_pod_labels carrying team too.
func seriesLabelsPods(t testing.TB) (collectors.Resource, collectors.Generator) {
	t.Helper()
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	return rs[0], rs[0].NewGenerator(collectors.Options{AllowLabels: []string{"team"}, SeriesLabels: []string{"team"}})
}

// Changing a copied label changes the identity of every series of the
// object: in one batch, each old series ends with a staleness marker and the
// new one starts, at the same timestamp, with the same value; nothing else is
// sent. Changing it back at once starts the old series again after their
// markers. Per series, timestamps strictly increase throughout.
func TestSnapshotSeriesLabelChange(t *testing.T) {
	r, gen := seriesLabelsPods(t)
	rec := &batchRecorder{}
	s := New(rec, nil)
	now := int64(1000)
	s.now = func() int64 { return now }
	set := s.NewSet("pods", CounterFamilies(r))
	pod := fixtures.Pod(0, v1.PodRunning)
	pod.Labels["team"] = "a"
	apply := func(team, rv string) []series.Sample {
		t.Helper()
		p := pod.DeepCopy()
		p.Labels["team"], p.ResourceVersion = team, rv
		o, _ := gen.Generate(p)
		rec.batches = nil
		s.Apply(set, o)
		if len(rec.batches) > 1 {
			t.Fatalf("team=%s: %d batches, want one", team, len(rec.batches))
		}
		return slices.Concat(rec.batches...)
	}
	last := map[string]int64{}
	inOrder := func(ss []series.Sample) {
		t.Helper()
		for _, x := range ss {
			k := x.Labels.String()
			if t0, ok := last[k]; ok && x.T <= t0 {
				t.Errorf("%s: sample at %d after one at %d", k, x.T, t0)
			}
			last[k] = x.T
		}
	}

	first := apply("a", "1")
	inOrder(first)
	n := len(first)
	if n < 30 {
		t.Fatalf("%d series for the pod", n)
	}
	for _, x := range first {
		if x.Labels.Get("label_team") != "a" {
			t.Errorf("%s lacks label_team=\"a\"", x.Labels)
		}
	}
	stored := set.objects["uid"]
	if !slices.Contains(*stored.base, series.Label{Name: "label_team", Value: "a"}) {
		t.Errorf("the object's shared labels %v lack label_team", *stored.base)
	}

	now = 2000
	changed := apply("b", "2")
	inOrder(changed)
	check := func(ss []series.Sample, from, to string, at int64) {
		t.Helper()
		var ended, started []string
		for _, x := range ss {
			switch {
			case x.Labels.Get("label_team") == from && series.IsStaleNaN(x.V):
				ended = append(ended, strings.Replace(x.Labels.String(), `label_team="`+from+`"`, `label_team="`+to+`"`, 1))
				if x.T != at {
					t.Errorf("%s: marker at %d, want %d", x.Labels, x.T, at)
				}
			case x.Labels.Get("label_team") == to && !math.IsNaN(x.V):
				started = append(started, x.Labels.String())
				if x.T != at {
					t.Errorf("%s: first sample at %d, want %d", x.Labels, x.T, at)
				}
			default:
				t.Errorf("unexpected sample %s %d %v", x.Labels, x.T, x.V)
			}
		}
		slices.Sort(ended)
		slices.Sort(started)
		if len(ended) != n || !slices.Equal(ended, started) {
			t.Errorf("team=%s→%s: %d series ended, %d started, want the same %d:\nended:   %v\nstarted: %v", from, to, len(ended), len(started), n, ended, started)
		}
	}
	check(changed, "a", "b", 2000)
	// The values carry over: each new series' value is its old one's.
	values := map[string]float64{}
	for _, x := range first {
		values[strings.Replace(x.Labels.String(), `"a"`, `"b"`, 1)] = x.V
	}
	for _, x := range changed {
		if v, ok := values[x.Labels.String()]; ok && v != x.V {
			t.Errorf("%s = %v, was %v", x.Labels, x.V, v)
		}
	}

	// Back to a in the same millisecond: a's series start again after their
	// markers, b's end after their first samples.
	back := apply("a", "3")
	inOrder(back)
	check(back, "b", "a", 2001)

	// A change of anything else sends only what changed.
	if got := apply("a", "4"); len(got) != 0 {
		t.Errorf("an unchanged pod sent %d samples", len(got))
	}
	now = 5000
	rec.batches = nil
	s.Resend()
	resent := slices.Concat(rec.batches...)
	inOrder(resent)
	if len(resent) != n {
		t.Errorf("resent %d samples, want %d", len(resent), n)
	}
	for _, x := range resent {
		if x.Labels.Get("label_team") != "a" || x.T != 5000 {
			t.Errorf("resent %s at %d, want label_team=\"a\" at 5000", x.Labels, x.T)
		}
	}

	// Relabelled in the millisecond of the resend: the markers come 1 ms
	// later, and so do the new series, not before them.
	changed = apply("c", "5")
	inOrder(changed)
	check(changed, "a", "c", 5001)
}

// Copied labels are stored once per object, in its shared labels: pods that
// differ only by their team share every family label set as they do without
// --series-labels, and the snapshot keeps the same number of series.
func TestSnapshotSeriesLabelsSharedPerObject(t *testing.T) {
	r, _ := seriesLabelsPods(t)
	plain := r.NewGenerator(collectors.Options{})
	withCopies := r.NewGenerator(collectors.Options{SeriesLabels: []string{"team"}})
	sets := map[string]int{}
	seriesCount := map[string]int{}
	for name, gen := range map[string]collectors.Generator{"plain": plain, "copies": withCopies} {
		s := New(&discard{}, nil)
		set := s.NewSet("pods", nil)
		for i := range 20 {
			p := fixtures.Pod(i, v1.PodRunning)
			p.UID = types.UID(fmt.Sprint("uid-", i))
			p.Labels["team"] = fmt.Sprint("team-", i)
			o, _ := gen.Generate(p)
			s.Apply(set, o)
		}
		sets[name] = len(s.extras.sets)
		for _, o := range set.objects {
			seriesCount[name] += len(o.series)
		}
	}
	if sets["copies"] != sets["plain"] || seriesCount["copies"] != seriesCount["plain"] {
		t.Errorf("family label sets %v, series %v: want the same with and without copied labels", sets, seriesCount)
	}
}

// Restarted with another copied label value (the pod relabelled while the
// agent was down, or --series-labels changed), with a WAL: the series the
// WAL knew as live end with a marker once the initial lists are applied, as
// for a deleted object, and the new ones start.
func TestSnapshotSeriesLabelChangeAcrossRestart(t *testing.T) {
	r, gen := seriesLabelsPods(t)
	pod := fixtures.Pod(0, v1.PodRunning)
	pod.Labels["team"] = "a"
	before, _ := gen.Generate(pod)
	prev := map[string]*PrevSeries{}
	for _, x := range before.Series {
		prev[x.Labels.String()] = &PrevSeries{Labels: x.Labels, T: 900, Live: true}
	}

	rec := &sampleRecorder{}
	s := New(rec, nil)
	s.now = func() int64 { return 1000 }
	s.Restore(prev)
	set := s.NewSet("pods", CounterFamilies(r))
	pod.Labels["team"] = "b"
	after, _ := gen.Generate(pod)
	s.Replace(set, []collectors.Object{after})
	if n := s.EndVanished(); n != len(before.Series) {
		t.Errorf("ended %d series, want the %d of team a", n, len(before.Series))
	}
	started, ended := 0, 0
	for _, x := range rec.got {
		switch team := x.Labels.Get("label_team"); {
		case team == "a" && series.IsStaleNaN(x.V):
			ended++
		case team == "b" && !math.IsNaN(x.V):
			started++
		default:
			t.Errorf("unexpected sample %s %v", x.Labels, x.V)
		}
	}
	if started != len(before.Series) || ended != len(before.Series) {
		t.Errorf("%d started, %d ended, want %d each", started, ended, len(before.Series))
	}
}
