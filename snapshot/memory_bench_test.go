package snapshot

import (
	"runtime"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
	"github.com/kube-state-push/kube-state-push/series"
)

// BenchmarkSnapshotMemory reports the heap the snapshot keeps per object in
// steady state (after GC, the typed objects gone), next to an estimate of what
// kube-state-metrics keeps for the same object: its series rendered as
// exposition text, one []byte per family.
func BenchmarkSnapshotMemory(b *testing.B) {
	for _, c := range []struct {
		name, resource string
		newObj         func(i int) any
		opts           collectors.Options
	}{
		{"pods", "pods", func(i int) any { return fixtures.RealisticPod(i) }, collectors.Options{}},
		{"deployments", "deployments", func(i int) any { return fixtures.RealisticDeployment(i) }, collectors.Options{}},
		{"nodes", "nodes", func(i int) any { return fixtures.RealisticNode(i) }, collectors.Options{}},
		// --series-labels=pods=[team,app]: two labels on every series.
		{"pods-series-labels", "pods", func(i int) any { return fixtures.RealisticPod(i) }, collectors.Options{SeriesLabels: []string{"team", "app"}}},
	} {
		b.Run(c.name, func(b *testing.B) {
			const n = 2000
			rs, _ := collectors.Lookup([]string{c.resource})
			gen := rs[0].NewGenerator(c.opts)
			var perObject, ksmPerObject, seriesPerObject float64
			for b.Loop() {
				runtime.GC()
				var before runtime.MemStats
				runtime.ReadMemStats(&before)
				s := New(&discard{}, nil)
				set := s.NewSet(c.resource, CounterFamilies(rs[0]))
				ksmBytes, nSeries := 0, 0
				for i := range n {
					o, _ := gen.Generate(c.newObj(i))
					ksmBytes += ksmTextBytes(o.Series)
					nSeries += len(o.Series)
					s.Apply(set, o)
				}
				runtime.GC()
				var after runtime.MemStats
				runtime.ReadMemStats(&after)
				perObject = float64(after.HeapAlloc-before.HeapAlloc) / n
				ksmPerObject = float64(ksmBytes) / n
				seriesPerObject = float64(nSeries) / n
				runtime.KeepAlive(s)
			}
			b.ReportMetric(perObject, "heap-B/object")
			b.ReportMetric(ksmPerObject, "ksm-text-B/object")
			b.ReportMetric(seriesPerObject, "series/object")
		})
	}
}

// ksmTextBytes is the size of the series as KSM renders and keeps them: one
// text line per series, a []byte header per family.
func ksmTextBytes(ss []series.Series) int {
	n, families := 0, map[string]bool{}
	for _, s := range ss {
		n += len(s.String()) + 1
		families[s.Labels.Get(series.MetricName)] = true
	}
	return n + 24*len(families)
}
