package wal

import (
	"errors"
	"io"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

func TestAppendReadAcrossSegments(t *testing.T) {
	dir := t.TempDir()
	const segSize = 1000
	w := openT(t, dir, Options{SegmentSize: segSize})
	recs := makeRecords(1, 200, 300)
	recs = append(recs, make([]byte, 2500)) // larger than a segment
	recs[len(recs)-1][0] = 'x'
	recs = append(recs, makeRecords(2, 20, 100)...)
	pos := appendSync(t, w, recs)

	got, gotPos := readAll(t, w, Position{})
	sameRecords(t, got, recs)
	for i := range pos {
		if gotPos[i] != pos[i] {
			t.Fatalf("record %d: reader position %v; Append returned %v", i, gotPos[i], pos[i])
		}
		if i > 0 && pos[i].Compare(pos[i-1]) <= 0 {
			t.Fatalf("positions not increasing: %v then %v", pos[i-1], pos[i])
		}
	}
	if d := w.Durable(); d != pos[len(pos)-1] {
		t.Fatalf("Durable = %v; want %v", d, pos[len(pos)-1])
	}
	segs := w.Segments()
	if len(segs) < 10 {
		t.Fatalf("got %d segments; want many with SegmentSize %d", len(segs), segSize)
	}
	var total int64
	oversized := 0
	for i, s := range segs {
		total += s.Size
		if s.Active != (i == len(segs)-1) {
			t.Fatalf("segment %d: Active = %v", i, s.Active)
		}
		if i > 0 && s.Index <= segs[i-1].Index {
			t.Fatalf("segment numbers not increasing: %v", segs)
		}
		fi, err := os.Stat(segmentPath(dir, s.Index))
		if err != nil || fi.Size() != s.Size {
			t.Fatalf("segment %d: file %v, %v; Segments says %d bytes", i, fi, err, s.Size)
		}
		if s.Size > segSize {
			oversized++ // only the 2500-byte record's own segment
			if s.Size != headerSize+2500 {
				t.Fatalf("segment %v is %d bytes", s, s.Size)
			}
		}
	}
	if oversized != 1 {
		t.Fatalf("got %d oversized segments; want 1", oversized)
	}
	if w.Size() != total {
		t.Fatalf("Size = %d; want %d", w.Size(), total)
	}
}

func TestAppendRefusesBadSizes(t *testing.T) {
	w := openT(t, t.TempDir(), Options{MaxRecordSize: 100})
	for _, n := range []int{0, 101} {
		if _, err := w.Append([]byte("ok"), make([]byte, n)); !errors.Is(err, ErrRecordSize) {
			t.Fatalf("Append of %d bytes: %v; want ErrRecordSize", n, err)
		}
	}
	appendSync(t, w, [][]byte{[]byte("after")})
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, [][]byte{[]byte("after")}) // the refused calls appended nothing
	if _, err := Open(t.TempDir(), Options{MaxRecordSize: maxRecordLimit + 1}); err == nil {
		t.Fatal("Open accepted a MaxRecordSize above the format's limit")
	}
}

func TestOpenStartsNewSegment(t *testing.T) {
	dir := t.TempDir()
	recs := makeRecords(3, 30, 50)
	w := openT(t, dir, Options{})
	appendSync(t, w, recs[:10])
	first := w.Segments()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := w.Append(recs[0]); !errors.Is(err, ErrClosed) {
		t.Fatalf("Append after Close: %v; want ErrClosed", err)
	}

	w = openT(t, dir, Options{})
	segs := w.Segments()
	if len(segs) != 2 || segs[0].Index != first[0].Index || segs[1].Index <= first[0].Index || !segs[1].Active || segs[1].Size != 0 {
		t.Fatalf("after reopen: %+v; want the old segment and a new empty active one", segs)
	}
	appendSync(t, w, recs[10:20])
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openT(t, dir, Options{}) // nothing appended in between: no empty segment piles up
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openT(t, dir, Options{})
	if n := len(w.Segments()); n != 3 {
		t.Fatalf("got %d segments; want 3: two with records, one active", n)
	}
	appendSync(t, w, recs[20:])
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, recs)
}

func TestUnsyncedRecordsAreNotRead(t *testing.T) {
	w := openT(t, t.TempDir(), Options{SegmentSize: 100})
	r, err := w.NewReader(Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	p, err := w.Append([]byte("one"), make([]byte, 200), []byte("three")) // rolls twice
	if err != nil {
		t.Fatal(err)
	}
	if r.Next() || r.Err() != nil {
		t.Fatalf("Next before Sync: record %q, err %v", r.Record(), r.Err())
	}
	if err := w.Sync(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for r.Next() {
		n++
	}
	if n != 3 || r.Err() != nil || r.Position() != p {
		t.Fatalf("after Sync: %d records, err %v, position %v; want 3, nil, %v", n, r.Err(), r.Position(), p)
	}
	for _, s := range w.Segments() {
		if fi, err := os.Stat(segmentPath(w.dir, s.Index)); err != nil || fi.Size() != s.Size {
			t.Fatalf("segment %v: file %v, %v", s, fi, err)
		}
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(fs *faults)
		want error
	}{
		{"short write", func(fs *faults) { fs.budget, fs.short = 1000, true }, io.ErrShortWrite},
		{"write error after N bytes", func(fs *faults) { fs.budget = 1500 }, errInjected},
		{"write error at once", func(fs *faults) { fs.budget = 0 }, errInjected},
		{"fsync error", func(fs *faults) { fs.syncErr = errInjected }, errInjected},
	} {
		for _, roll := range []bool{false, true} {
			name := tc.name
			if roll {
				name += " in a roll"
			}
			t.Run(name, func(t *testing.T) {
				dir := t.TempDir()
				fs := newFaults()
				opts := Options{create: fs.create, SegmentSize: 1 << 20}
				if roll {
					opts.SegmentSize = 3000 // the faulty appends roll
				}
				w, err := Open(dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				synced := makeRecords(4, 10, 200)
				appendSync(t, w, synced)
				durable := w.Durable()
				fs.set(tc.arm)

				unsynced := makeRecords(5, 30, 200)
				var faultErr error
				for _, r := range unsynced {
					if _, faultErr = w.Append(r); faultErr != nil {
						break
					}
				}
				if faultErr == nil {
					faultErr = w.Sync()
				}
				if !errors.Is(faultErr, ErrFailed) || !errors.Is(faultErr, tc.want) {
					t.Fatalf("got %v; want ErrFailed and %v", faultErr, tc.want)
				}
				if d := w.Durable(); d != durable {
					t.Fatalf("Durable moved from %v to %v after a failure", durable, d)
				}
				got, _ := readAll(t, w, Position{})
				sameRecords(t, got, synced)
				if _, err := w.Append([]byte("more")); !errors.Is(err, ErrFailed) {
					t.Fatalf("Append after the failure: %v; want ErrFailed", err)
				}
				if err := w.Sync(); !errors.Is(err, ErrFailed) {
					t.Fatalf("Sync after the failure: %v; want ErrFailed", err)
				}
				if err := w.Close(); !errors.Is(err, ErrFailed) {
					t.Fatalf("Close after the failure: %v; want ErrFailed", err)
				}

				w = openT(t, dir, Options{})
				got, _ = readAll(t, w, Position{})
				if len(got) < len(synced) {
					t.Fatalf("reopened: %d records; want at least the %d synced", len(got), len(synced))
				}
				// What follows the synced records, if anything, is a prefix of
				// the unsynced ones: written before the fault, never garbage.
				sameRecords(t, got, append(synced, unsynced[:len(got)-len(synced)]...))
			})
		}
	}
}

func TestMetrics(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	w := openT(t, dir, Options{Registerer: reg, SegmentSize: 500})
	appendSync(t, w, makeRecords(6, 20, 100))
	if got := metricValue(t, w.m.records); got != 20 {
		t.Fatalf("records appended = %v; want 20", got)
	}
	if got := metricValue(t, w.m.fsyncs); got < 2 {
		t.Fatalf("fsyncs = %v; want at least one per roll and one for Sync", got)
	}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if m := mf.GetMetric()[0]; m.GetGauge() != nil {
			got[mf.GetName()] = m.GetGauge().GetValue()
		} else {
			got[mf.GetName()] = -1
		}
	}
	for name, want := range map[string]float64{
		"kube_state_push_wal_bytes":                  float64(w.Size()),
		"kube_state_push_wal_segments":               float64(len(w.Segments())),
		"kube_state_push_wal_records_appended_total": -1,
		"kube_state_push_wal_bytes_appended_total":   -1,
		"kube_state_push_wal_fsyncs_total":           -1,
		"kube_state_push_wal_fsync_duration_seconds": -1,
		"kube_state_push_wal_repairs_total":          -1,
		"kube_state_push_wal_repair_bytes_cut_total": -1,
	} {
		if v, ok := got[name]; !ok || v != want {
			t.Errorf("%s: %v, %v; want %v", name, v, ok, want)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Close unregistered everything: a reopened WAL registers again.
	w = openT(t, dir, Options{Registerer: reg})
	if got := metricValue(t, w.m.records); got != 0 {
		t.Fatalf("records appended after reopen = %v; want 0", got)
	}
}

// metricValue returns the value of a counter or gauge.
func metricValue(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var pb dto.Metric
	if err := m.Write(&pb); err != nil {
		t.Fatal(err)
	}
	if pb.Counter != nil {
		return pb.GetCounter().GetValue()
	}
	return pb.GetGauge().GetValue()
}
