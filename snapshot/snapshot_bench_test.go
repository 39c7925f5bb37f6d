package snapshot

import (
	"testing"

	v1 "k8s.io/api/core/v1"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
	"github.com/kube-state-push/kube-state-push/series"
)

type discard struct{ n int }

func (d *discard) Append(ss []series.Sample) { d.n += len(ss) }

// BenchmarkSnapshotUpdate measures one pod update event through the snapshot:
// generate the pod's series and diff them against the stored ones.
func BenchmarkSnapshotUpdate(b *testing.B) {
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	d := &discard{}
	s := New(d, nil)
	set := s.NewSet("pods", CounterFamilies(rs[0]))
	pods := []*v1.Pod{fixtures.Pod(0, v1.PodPending), fixtures.Pod(0, v1.PodRunning)}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		o, _ := gen.Generate(pods[i%2])
		s.Apply(set, o)
		i++
	}
	b.ReportMetric(float64(d.n)/float64(b.N), "samples/op")
}
