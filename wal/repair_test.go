package wal

import (
	"bytes"
	"fmt"
	"os"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// tornTailFixture is one closed segment of records and where each starts.
type tornTailFixture struct {
	recs   [][]byte
	starts []int64
	data   []byte // the segment file
	seg    uint64
}

func newTornTailFixture(t *testing.T) tornTailFixture {
	dir := t.TempDir()
	w := openT(t, dir, Options{})
	fx := tornTailFixture{recs: makeRecords(7, 8, 120)}
	fx.recs[len(fx.recs)-1] = bytes.Repeat([]byte("last"), 10)
	var end int64
	for _, p := range appendSync(t, w, fx.recs) {
		fx.starts = append(fx.starts, end)
		end = p.Offset
	}
	fx.seg = w.Durable().Segment
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	var err error
	if fx.data, err = os.ReadFile(segmentPath(dir, fx.seg)); err != nil {
		t.Fatal(err)
	}
	return fx
}

// check writes the damaged segment into a fresh directory, opens it and
// asserts that exactly the first keep records survive and that a tail repair
// cut the segment at the start of record keep.
func (fx tornTailFixture) check(t *testing.T, damaged []byte, keep int) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(segmentPath(dir, fx.seg), damaged, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w := openT(t, dir, Options{Registerer: reg})
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, fx.recs[:keep])

	cut := int64(len(fx.data))
	if keep < len(fx.recs) {
		cut = fx.starts[keep]
	}
	want := []Repair{{Segment: fx.seg, Offset: cut, BytesCut: int64(len(damaged)) - cut, Tail: true}}
	if int64(len(damaged)) == cut {
		want = nil
	}
	reps := w.Repairs()
	for i := range reps {
		reps[i].Reason = "" // checked below, not compared
	}
	if fmt.Sprint(reps) != fmt.Sprint(want) {
		t.Fatalf("Repairs = %+v; want %+v", w.Repairs(), want)
	}
	if want != nil {
		if w.Repairs()[0].Reason == "" {
			t.Fatal("repair has no reason")
		}
		if n := metricValue(t, w.m.repairBytes); n != float64(want[0].BytesCut) {
			t.Fatalf("bytes cut metric = %v; want %d", n, want[0].BytesCut)
		}
	}
	if fi, err := os.Stat(segmentPath(dir, fx.seg)); cut == 0 && !os.IsNotExist(err) {
		t.Fatalf("segment cut to nothing: %v, %v; want it removed", fi, err)
	} else if cut > 0 && (err != nil || fi.Size() != cut) {
		t.Fatalf("segment after repair: %v, %v; want %d bytes", fi, err, cut)
	}
	// The repaired WAL opens cleanly and keeps the records.
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	w = openT(t, dir, Options{})
	if len(w.Repairs()) != 0 {
		t.Fatalf("second Open repaired again: %+v", w.Repairs())
	}
	got, _ = readAll(t, w, Position{})
	sameRecords(t, got, fx.recs[:keep])
}

func TestRepairTornTail(t *testing.T) {
	fx := newTornTailFixture(t)
	n := len(fx.recs)
	last := fx.starts[n-1]
	mid := n / 2
	damage := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(fx.data)) }

	t.Run("intact", func(t *testing.T) { fx.check(t, fx.data, n) })
	t.Run("truncated at every byte of the last record", func(t *testing.T) {
		for cut := last; cut < int64(len(fx.data)); cut++ {
			fx.check(t, fx.data[:cut], n-1)
		}
	})
	for i := range 4 {
		t.Run(fmt.Sprintf("CRC byte %d flipped", i), func(t *testing.T) {
			fx.check(t, damage(func(b []byte) []byte { b[last+5+int64(i)] ^= 0x01; return b }), n-1)
			fx.check(t, damage(func(b []byte) []byte { b[fx.starts[mid]+5+int64(i)] ^= 0x80; return b }), mid)
		})
	}
	t.Run("payload byte flipped", func(t *testing.T) {
		fx.check(t, damage(func(b []byte) []byte { b[len(b)-1] ^= 0x01; return b }), n-1)
		fx.check(t, damage(func(b []byte) []byte { b[fx.starts[mid]+headerSize] ^= 0xff; return b }), mid)
	})
	t.Run("length zeroed", func(t *testing.T) {
		for _, k := range []int{n - 1, mid, 0} {
			fx.check(t, damage(func(b []byte) []byte { copy(b[fx.starts[k]+1:], []byte{0, 0, 0, 0}); return b }), k)
		}
	})
	t.Run("length one byte off", func(t *testing.T) {
		fx.check(t, damage(func(b []byte) []byte { b[last+4]++; return b }), n-1)
		fx.check(t, damage(func(b []byte) []byte { b[fx.starts[mid]+4]--; return b }), mid)
	})
	t.Run("garbage header", func(t *testing.T) {
		for _, g := range [][]byte{
			bytes.Repeat([]byte{0xff}, headerSize),
			make([]byte, headerSize), // zeroed, as a file system may leave it
			{0x02, 0, 0, 0, 4, 0, 0, 0, 0},
			{recordData, 0xff, 0xff, 0xff, 0xff, 1, 2, 3, 4}, // length past the limit
			[]byte("GARBAGE!!"),
		} {
			fx.check(t, damage(func(b []byte) []byte { copy(b[last:], g); return b }), n-1)
			fx.check(t, damage(func(b []byte) []byte { copy(b[fx.starts[mid]:], g); return b }), mid)
		}
	})
	t.Run("garbage after the last record", func(t *testing.T) {
		for _, g := range [][]byte{
			{0x01},
			[]byte("trailing junk"),
			make([]byte, 4096), // preallocated zeros
			appendRecord(nil, []byte("valid record"))[:headerSize+5], // a torn next record
			func() []byte { r := appendRecord(nil, []byte("bad crc")); r[len(r)-1]++; return r }(),
		} {
			fx.check(t, append(bytes.Clone(fx.data), g...), n)
		}
	})
}

func TestRepairOlderSegment(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, Options{SegmentSize: 400})
	recs := makeRecords(8, 40, 60)
	pos := appendSync(t, w, recs)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	// Corrupt the second record of segment 1, and tear the newest segment.
	segs, err := listSegments(dir)
	if err != nil || len(segs) < 4 {
		t.Fatalf("segments %v, %v; want at least 4", segs, err)
	}
	var inSeg1 []int // indexes of the records of segment 1
	for i, p := range pos {
		if p.Segment == segs[1].Index {
			inSeg1 = append(inSeg1, i)
		}
	}
	bad := inSeg1[1]
	data, err := os.ReadFile(segmentPath(dir, segs[1].Index))
	if err != nil {
		t.Fatal(err)
	}
	start := pos[bad-1].Offset
	data[start+headerSize] ^= 0x55
	if err := os.WriteFile(segmentPath(dir, segs[1].Index), data, 0o644); err != nil {
		t.Fatal(err)
	}
	newest := segs[len(segs)-1]
	if err := os.Truncate(segmentPath(dir, newest.Index), newest.Size-1); err != nil {
		t.Fatal(err)
	}

	w = openT(t, dir, Options{})
	reps := w.Repairs()
	if len(reps) != 2 || reps[0].Segment != segs[1].Index || reps[0].Offset != start || reps[0].Tail ||
		reps[0].BytesCut != segs[1].Size-start || reps[1].Segment != newest.Index || !reps[1].Tail {
		t.Fatalf("Repairs = %+v", reps)
	}
	// Segment 1 keeps its first record and loses the rest; later segments
	// are kept, except the torn last record of the newest.
	var want [][]byte
	for i, r := range recs[:len(recs)-1] {
		if pos[i].Segment != segs[1].Index || i < bad {
			want = append(want, r)
		}
	}
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, want)
}

func TestOpenRemovesStaleFiles(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, Options{})
	appendSync(t, w, [][]byte{[]byte("a")})
	w.Close()
	for _, name := range []string{"00000000ffff0001.tmp", "cursor-x.tmp", "rewrite.tmp"} {
		if err := os.WriteFile(dir+"/"+name, []byte("junk"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w = openT(t, dir, Options{})
	for _, name := range dirFiles(t, dir) {
		if _, ok := parseSegmentName(name); !ok && name != lockName {
			t.Fatalf("Open left %s behind", name)
		}
	}
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, [][]byte{[]byte("a")})
}
