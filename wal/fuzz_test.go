package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// fuzzRecords frames payloads back to back, as a segment holds them.
func fuzzRecords(payloads ...string) []byte {
	var b []byte
	for _, p := range payloads {
		b = appendRecord(b, []byte(p))
	}
	return b
}

// fuzzHeader is a record header with any type byte, length and CRC.
func fuzzHeader(typ byte, length, sum uint32) []byte {
	h := make([]byte, headerSize)
	h[0] = typ
	binary.BigEndian.PutUint32(h[1:5], length)
	binary.BigEndian.PutUint32(h[5:9], sum)
	return h
}

// addSegmentSeeds adds what a crash or a bad disk leaves in a segment: torn
// headers and payloads, bad CRCs, zeroed and garbage bytes, lengths past the
// file and past the format's limit.
func addSegmentSeeds(f *testing.F) {
	two := fuzzRecords("first record", "second")
	badCRC := fuzzRecords("abc")
	badCRC[len(badCRC)-1] ^= 0x40
	f.Add([]byte{})
	f.Add(two)
	f.Add(two[:len(two)-3])                         // torn payload
	f.Add(two[:len(fuzzRecords("first record"))+4]) // torn header
	f.Add(badCRC)
	f.Add(append(fuzzRecords("ok"), make([]byte, 64)...))               // zeroed tail (preallocated blocks)
	f.Add(append(fuzzRecords("ok"), bytes.Repeat([]byte{0xff}, 20)...)) // garbage tail
	f.Add(append(fuzzRecords("ok"), fuzzHeader(recordData, 0xffffffff, 0)...))
	f.Add(append(fuzzHeader(recordData, maxRecordLimit, 0), 'x'))
	f.Add(append(fuzzHeader(recordData, maxRecordLimit+1, 0), 'x'))
	f.Add(fuzzHeader(recordData, 0, 0))
	f.Add(fuzzHeader(0x02, 1, 0))
}

// decodeAll returns the payloads scanRecords accepts in data.
func decodeAll(t *testing.T, data []byte) (recs [][]byte, end int64, bad string) {
	t.Helper()
	end, bad, err := scanRecords(bytes.NewReader(data), int64(len(data)), func(rec []byte) error {
		recs = append(recs, bytes.Clone(rec))
		return nil
	})
	if err != nil {
		t.Fatalf("scanRecords over an in-memory segment: %v", err)
	}
	return recs, end, bad
}

// FuzzRecordRoundTrip checks that a framed record decodes to its payload, and
// that a torn or damaged copy never decodes to different data: every record
// scanRecords returns is one that was written, in order, and a damaged tail is
// reported.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add([]byte("a"), []byte("second record"), uint32(0), byte(0))
	f.Add([]byte("payload"), []byte("x"), uint32(3), byte(0x01))
	f.Add(bytes.Repeat([]byte{0}, 300), []byte{0xff}, uint32(12), byte(0x80))
	f.Add([]byte("torn"), []byte("tail"), uint32(1<<31), byte(0))
	f.Fuzz(func(t *testing.T, a, b []byte, at uint32, flip byte) {
		if len(a) == 0 || len(b) == 0 {
			t.Skip("empty records are refused by Append")
		}
		data := appendRecord(appendRecord(nil, a), b)
		recs, end, bad := decodeAll(t, data)
		if bad != "" || end != int64(len(data)) || len(recs) != 2 || !bytes.Equal(recs[0], a) || !bytes.Equal(recs[1], b) {
			t.Fatalf("round trip: got %d records, end %d of %d, bad %q", len(recs), end, len(data), bad)
		}

		// Damage: cut the segment at a point (a torn write), or flip bits of
		// one byte (a bad disk).
		i := int(at % uint32(len(data)))
		damaged := bytes.Clone(data)
		if flip == 0 {
			damaged = damaged[:i]
		} else {
			damaged[i] ^= flip
		}
		recs, end, bad = decodeAll(t, damaged)
		want := [][]byte{a, b}
		if len(recs) > len(want) {
			t.Fatalf("damaged segment decoded to %d records", len(recs))
		}
		for k, r := range recs {
			if !bytes.Equal(r, want[k]) {
				t.Fatalf("damaged segment decoded record %d to %q, want %q", k, r, want[k])
			}
		}
		first := len(data) - headerSize - len(b) // where b's header starts
		if flip == 0 && i != 0 && i != first && bad == "" {
			t.Fatalf("cut at %d of %d not reported (end %d)", i, len(data), end)
		}
		if flip != 0 && (bad == "" || len(recs) == 2) {
			t.Fatalf("flipped %#x at %d not reported: %d records, end %d", flip, i, len(recs), end)
		}
		if wantEnd := int64(first) * int64(min(len(recs), 1)); len(recs) < 2 && end != wantEnd {
			t.Fatalf("valid data ends at %d, want %d", end, wantEnd)
		}
	})
}

// FuzzScanSegment decodes arbitrary bytes as a segment, as Open does after a
// crash. It must not panic nor allocate more than the segment holds, and what
// it accepts must be exactly the records framed in data[:end].
func FuzzScanSegment(f *testing.F) {
	addSegmentSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var allocated int64
		end, bad, err := scanRecords(bytes.NewReader(data), int64(len(data)), func(rec []byte) error {
			allocated = max(allocated, int64(cap(rec)))
			return nil
		})
		if err != nil {
			t.Fatalf("scanRecords over an in-memory segment: %v", err)
		}
		if end < 0 || end > int64(len(data)) {
			t.Fatalf("end %d outside 0..%d", end, len(data))
		}
		if (bad == "") != (end == int64(len(data))) {
			t.Fatalf("end %d of %d with reason %q", end, len(data), bad)
		}
		if allocated > int64(len(data)) {
			t.Fatalf("allocated %d bytes for a %d-byte segment", allocated, len(data))
		}
		recs, _, _ := decodeAll(t, data)
		if re := fuzzRecords(stringsOf(recs)...); !bytes.Equal(re, data[:end]) {
			t.Fatalf("records re-encode to %d bytes, valid data is %d", len(re), end)
		}
	})
}

func stringsOf(bs [][]byte) []string {
	s := make([]string, len(bs))
	for i, b := range bs {
		s[i] = string(b)
	}
	return s
}

// FuzzOpenAndRead writes arbitrary bytes as two segments of a WAL directory,
// the older one and the newest, and opens it, as the agent does after a
// crash: Open must cut each segment at its first bad record and report it,
// and a Reader must then return exactly the valid records, in order.
func FuzzOpenAndRead(f *testing.F) {
	two := fuzzRecords("older segment", "second")
	f.Add(append(bytes.Clone(two), fuzzRecords("newest")...), uint16(len(two)))
	f.Add(append(bytes.Clone(two), fuzzRecords("newest")[:5]...), uint16(len(two)))
	f.Add(append(bytes.Clone(two[:len(two)-1]), fuzzRecords("newest")...), uint16(len(two)-1))
	f.Add(append(fuzzRecords("x"), fuzzHeader(recordData, maxRecordLimit, 7)...), uint16(0))
	f.Add(append(fuzzRecords("x"), make([]byte, 32)...), uint16(0xffff))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		cut := min(int(split), len(data))
		segs := [][]byte{data[:cut], data[cut:]}
		dir := t.TempDir()
		for i, s := range segs {
			if err := os.WriteFile(filepath.Join(dir, segmentName(uint64(i)<<rewriteBits)), s, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		w, err := Open(dir, Options{})
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		defer w.Close()

		var want [][]byte
		var wantRepairs []Repair
		for i, s := range segs {
			recs, end, bad := decodeAll(t, s)
			want = append(want, recs...)
			if bad != "" {
				wantRepairs = append(wantRepairs, Repair{Segment: uint64(i) << rewriteBits, Offset: end,
					BytesCut: int64(len(s)) - end, Reason: bad, Tail: i == len(segs)-1})
			}
		}
		got := w.Repairs()
		if len(got) != len(wantRepairs) {
			t.Fatalf("Repairs = %+v, want %+v", got, wantRepairs)
		}
		for i := range got {
			if got[i] != wantRepairs[i] {
				t.Fatalf("Repairs[%d] = %+v, want %+v", i, got[i], wantRepairs[i])
			}
		}

		r, err := w.NewReader(Position{})
		if err != nil {
			t.Fatalf("NewReader: %v", err)
		}
		defer r.Close()
		var n int
		last := Position{}
		for r.Next() {
			if n >= len(want) || !bytes.Equal(r.Record(), want[n]) {
				t.Fatalf("record %d = %q, not among the %d valid ones", n, r.Record(), len(want))
			}
			if r.Position().Compare(last) <= 0 {
				t.Fatalf("position %s after %s", r.Position(), last)
			}
			last = r.Position()
			n++
		}
		if err := r.Err(); err != nil {
			var ce *CorruptionError
			if errors.As(err, &ce) {
				t.Fatalf("Reader found corruption Open left: %v", err)
			}
			t.Fatalf("Reader: %v", err)
		}
		if n != len(want) {
			t.Fatalf("Reader returned %d records, want %d", n, len(want))
		}
	})
}
