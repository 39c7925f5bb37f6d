package snapshot

import (
	"compress/gzip"
	"io"
	"runtime"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/internal/fixtures"
)

// countingWriter counts what it is given, like a scraper that reads fast.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) {
	w.n += int64(len(p))
	return len(p), nil
}

// BenchmarkScrape10kPods measures one /metrics scrape of a snapshot of
// 10,000 realistic pods (memory_bench_test.go), KSM's default pod families:
// the time and allocations of WriteExposition, the bytes written, and the
// scrape's CPU time per pod. "gzip" also compresses (--enable-gzip-encoding).
// The snapshot's own heap is reported for scale.
func BenchmarkScrape10kPods(b *testing.B) {
	const n = 10_000
	rs, _ := collectors.Lookup([]string{"pods"})
	gen := rs[0].NewGenerator(collectors.Options{})
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	s := New(&discard{}, nil)
	set := s.NewSet("pods", CounterFamilies(rs[0]))
	s.DescribeSet(set, NewExposition(gen))
	for i := range n {
		o, _ := gen.Generate(fixtures.RealisticPod(i))
		s.Apply(set, o)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heap := float64(after.HeapAlloc - before.HeapAlloc)
	for _, c := range []struct {
		name string
		gzip bool
	}{{"text", false}, {"gzip", true}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var written int64
			zw := gzip.NewWriter(io.Discard)
			for b.Loop() {
				cw := &countingWriter{}
				var w io.Writer = cw
				if c.gzip {
					zw.Reset(cw)
					w = zw
				}
				if err := s.WriteExposition(w, false, nil); err != nil {
					b.Fatal(err)
				}
				if c.gzip {
					_ = zw.Close()
				}
				written = cw.n
			}
			b.ReportMetric(float64(written), "body-B")
			b.ReportMetric(heap/n, "snapshot-heap-B/pod")
		})
	}
}
