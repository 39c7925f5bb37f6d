package walpipe

import (
	"fmt"
	"log/slog"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/wal"
)

func openTestWAL(t *testing.T, segmentSize int64) *wal.WAL {
	t.Helper()
	w, err := wal.Open(t.TempDir(), wal.Options{SegmentSize: segmentSize})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

func appendSamples(t *testing.T, w *wal.WAL, ss ...series.Sample) {
	t.Helper()
	if _, err := w.Append(encodeSamples(ss, nil)); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
}

func appendMarker(t *testing.T, w *wal.WAL, typ byte) wal.Position {
	t.Helper()
	p, err := w.Append([]byte{typ})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	return p
}

func lbl(name, pod string) series.Labels {
	return series.FromPairs([]series.Label{{Name: series.MetricName, Value: name}, {Name: "pod", Value: pod}})
}

// After a restart the WAL tells which series were live: those of the last
// complete resend and later, not ended.
func TestScanWALLiveSeries(t *testing.T) {
	w := openTestWAL(t, 0)
	gone, kept, ended, late := lbl("m", "gone"), lbl("m", "kept"), lbl("m", "ended"), lbl("m", "late")
	appendSamples(t, w, series.Sample{Labels: gone, T: 1, V: 1}, series.Sample{Labels: kept, T: 1, V: 1}, series.Sample{Labels: ended, T: 1, V: 1})
	appendMarker(t, w, recResendBegin)
	appendSamples(t, w, series.Sample{Labels: kept, T: 30, V: 1}, series.Sample{Labels: ended, T: 30, V: 1})
	appendMarker(t, w, recResendEnd)
	appendSamples(t, w, series.Sample{Labels: ended, T: 40, V: series.StaleNaN}, series.Sample{Labels: late, T: 50, V: 2})
	appendMarker(t, w, recResendBegin) // a resend cut short by a crash

	prev, _, err := scanWAL(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		ls   series.Labels
		live bool
		t    int64
	}{{gone, false, 1}, {kept, true, 30}, {ended, false, 40}, {late, true, 50}} {
		p := prev[c.ls.String()]
		if p == nil || p.Live != c.live || p.T != c.t {
			t.Errorf("%s: %+v, want live=%v t=%d", c.ls, p, c.live, c.t)
		}
	}
}

// Compaction keeps every transition and staleness marker, thins repeated
// identical values to one per resolution, and keeps the markers and the
// start timestamps.
func TestCompaction(t *testing.T) {
	w := openTestWAL(t, 1024)
	steady, flappy := lbl("steady", "p"), lbl("flappy", "p")
	const step = int64(3000) // a resend every 3 s
	start := int64(1_000_000)
	var flappyValues []float64
	for i := range int64(200) { // 10 minutes
		v := float64(i / 50) // changes every 150 s
		flappyValues = append(flappyValues, v)
		appendSamples(t, w,
			series.Sample{Labels: steady, T: start + i*step, V: 1},
			series.Sample{Labels: flappy, T: start + i*step, V: v, ST: start - 1000}) // a counter
	}
	appendSamples(t, w, series.Sample{Labels: steady, T: start + 200*step, V: series.StaleNaN})
	end := appendMarker(t, w, recResendBegin)
	appendMarker(t, w, recResendEnd)
	if n := len(w.Segments()); n < 10 {
		t.Fatalf("only %d segments; the test wants many", n)
	}
	sender := &walSender{}
	ws := &Pipeline{w: w, senders: []*walSender{sender}, metrics: newWALMetrics(nil), logger: slog.New(slog.DiscardHandler),
		resolution: 4 * time.Minute, completeBegin: wal.Position{Segment: end.Segment}}
	before := w.Size()
	ws.compact()
	if w.Size() >= before {
		t.Errorf("size %d after compaction, %d before", w.Size(), before)
	}

	r, err := w.NewReader(wal.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got := map[string][]series.Sample{}
	markers := 0
	for r.Next() {
		if len(r.Record()) == 1 {
			markers++
			continue
		}
		ss, err := decodeSamples(r.Record())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range ss {
			got[x.Labels.Name()] = append(got[x.Labels.Name()], x)
		}
	}
	if markers != 2 {
		t.Errorf("%d markers kept, want 2", markers)
	}
	// Every value of flappy appears, at the time it first appeared, with its
	// start timestamp.
	seen := map[float64]int64{}
	for _, x := range got["flappy"] {
		if x.ST != start-1000 {
			t.Fatalf("flappy sample at %d has start %d after compaction, want %d", x.T, x.ST, start-1000)
		}
		if _, ok := seen[x.V]; !ok {
			seen[x.V] = x.T
		}
	}
	for i, v := range flappyValues {
		if first, ok := seen[v]; !ok || (i > 0 && flappyValues[i-1] != v && first != start+int64(i)*step) {
			t.Errorf("transition to %v at %d lost (first kept at %d)", v, start+int64(i)*step, first)
		}
	}
	// steady: thinned to one sample per resolution in the compacted part (not
	// the first segment, where the sender reads, nor those of the last complete
	// resend: the first and last tens of seconds stay as they are), no gap
	// longer than the resolution, its staleness marker kept.
	st := got["steady"]
	middle := 0
	for _, x := range st {
		if x.T >= start+time.Minute.Milliseconds() && x.T < start+(9*time.Minute).Milliseconds() {
			middle++
		}
	}
	if middle > 3 || middle < 1 {
		t.Errorf("steady kept %d samples between minutes 1 and 9, want one per 4m", middle)
	}
	for i := 1; i < len(st); i++ {
		if gap := st[i].T - st[i-1].T; gap > (4*time.Minute).Milliseconds()+step {
			t.Errorf("gap of %dms in steady", gap)
		}
	}
	if last := st[len(st)-1]; math.Float64bits(last.V) != series.StaleNaNBits {
		t.Errorf("steady's staleness marker was compacted away")
	}
}

// Over the cap after compaction, the oldest segments go, counted.
func TestDropOldest(t *testing.T) {
	w := openTestWAL(t, 1024)
	ls := lbl("m", "p")
	for i := range int64(300) {
		appendSamples(t, w, series.Sample{Labels: ls, T: i, V: float64(i)})
	}
	ws := &Pipeline{w: w, senders: []*walSender{{}}, metrics: newWALMetrics(nil), logger: slog.New(slog.DiscardHandler),
		maxSize: w.Size() / 2}
	inFirst := ws.countSamples(w.Segments()[0])
	ws.dropOldest()
	if w.Size() >= ws.maxSize {
		t.Errorf("size %d, cap %d", w.Size(), ws.maxSize)
	}
	dropped := testutil.ToFloat64(ws.metrics.droppedSamples)
	if dropped < 100 || dropped >= 300 {
		t.Errorf("dropped %v samples, want about half of 300", dropped)
	}
	r, err := w.NewReader(wal.Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	left := 0
	for r.Next() {
		ss, _ := decodeSamples(r.Record())
		left += len(ss)
	}
	// The segment the sender reads (the first) is not counted as dropped: the
	// sender reads it to its end.
	if float64(left+inFirst)+dropped != 300 {
		t.Errorf("%d samples left, %d in the sender's segment, %v counted as dropped: not 300", left, inFirst, dropped)
	}
}

// BenchmarkWALSendPath measures what the WAL adds per batch on the send path:
// encode, append and fsync on the writer side, read and decode on the sender
// side. A batch is 1000 samples of pod series, as one flush of a busy cluster.
func BenchmarkWALSendPath(b *testing.B) {
	w, err := wal.Open(b.TempDir(), wal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	var batch []series.Sample
	for i := range 1000 {
		base := []series.Label{{Name: "namespace", Value: "default"}, {Name: "pod", Value: "web-" + fmt.Sprint(i/20)}, {Name: "uid", Value: "5f0c6a1e-2b7d-4c1e-9a57-" + fmt.Sprint(i/20)}}
		batch = append(batch, series.Sample{
			Labels: series.New("kube_pod_container_status_ready", &base, []series.Label{{Name: "container", Value: "app" + fmt.Sprint(i%20)}}),
			T:      1_700_000_000_000 + int64(i), V: 1,
		})
	}
	sink := &Sink{w: w, metrics: newWALMetrics(nil)}
	r, err := w.NewReader(wal.Position{})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	b.ReportAllocs()
	var bytes int
	for b.Loop() {
		if err := sink.WriteBatch(b.Context(), batch); err != nil {
			b.Fatal(err)
		}
		bytes = len(sink.buf)
		if !r.Next() {
			b.Fatal("record not readable after sync")
		}
		if _, err := decodeSamples(r.Record()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(bytes)/float64(len(batch)), "bytes/sample")
}

// After a reshard, the WAL's handover record tells a restart that the series
// handed over are not live: nothing ends them. The last assignment is read back.
func TestScanWALHandover(t *testing.T) {
	w := openTestWAL(t, 0)
	moved, kept := lbl("m", "moved"), lbl("m", "kept")
	appendMarker(t, w, recResendBegin)
	if _, err := w.Append(append([]byte{recShard}, "0/1"...)); err != nil {
		t.Fatal(err)
	}
	appendSamples(t, w, series.Sample{Labels: moved, T: 10, V: 1}, series.Sample{Labels: kept, T: 10, V: 1})
	appendMarker(t, w, recResendEnd)
	appendSamples(t, w, series.Sample{Labels: moved, T: 20, V: 1})
	if _, err := w.Append(encodeHandover([]series.Sample{{Labels: moved, T: 20, V: 1}}, nil)); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(append([]byte{recShard}, "0/2"...)); err != nil {
		t.Fatal(err)
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	prev, shard, err := scanWAL(w)
	if err != nil {
		t.Fatal(err)
	}
	if shard != "0/2" {
		t.Errorf("assignment %q, want 0/2", shard)
	}
	if p := prev[moved.String()]; p == nil || p.Live || p.T != 20 {
		t.Errorf("moved: %+v, want not live, t=20", p)
	}
	if p := prev[kept.String()]; p == nil || !p.Live {
		t.Errorf("kept: %+v, want live", p)
	}
}
