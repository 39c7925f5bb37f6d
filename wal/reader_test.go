package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

func TestReaderTailsLiveAppends(t *testing.T) {
	w := openT(t, t.TempDir(), Options{SegmentSize: 2000})
	recs := makeRecords(9, 600, 150)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type result struct {
		recs [][]byte
		pos  []Position
		err  error
	}
	done := make(chan result)
	go func() {
		var res result
		r, err := w.NewReader(Position{})
		if err != nil {
			done <- result{err: err}
			return
		}
		defer r.Close()
		for {
			for r.Next() {
				res.recs = append(res.recs, bytes.Clone(r.Record()))
				res.pos = append(res.pos, r.Position())
			}
			if len(res.recs) >= len(recs) {
				break
			}
			if r.Err() != nil {
				res.err = r.Err()
				break
			}
			if res.err = r.Wait(ctx); res.err != nil {
				break
			}
		}
		done <- res
	}()
	// Group commit: Sync after every few appends, rolling many segments.
	for i := 0; i < len(recs); i += 7 {
		if _, err := w.Append(recs[i:min(i+7, len(recs))]...); err != nil {
			t.Fatal(err)
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	res := <-done
	if res.err != nil {
		t.Fatalf("reader: %v", res.err)
	}
	sameRecords(t, res.recs, recs)
	segs := map[uint64]bool{}
	for i, p := range res.pos {
		segs[p.Segment] = true
		if i > 0 && p.Compare(res.pos[i-1]) <= 0 {
			t.Fatalf("positions not increasing: %v then %v", res.pos[i-1], p)
		}
	}
	if len(segs) < 20 {
		t.Fatalf("records spanned %d segments; want the test to cross many rolls", len(segs))
	}
}

func TestReaderAtEndThenMore(t *testing.T) {
	w := openT(t, t.TempDir(), Options{SegmentSize: 100})
	r, err := w.NewReader(Position{})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if err := r.Wait(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Wait on an empty WAL: %v; want the context's deadline", err)
	}
	for i, batch := range [][][]byte{{[]byte("a")}, {make([]byte, 150)}, {[]byte("b"), []byte("c")}, {}} {
		if len(batch) > 0 {
			if _, err := w.Append(batch...); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Sync(); err != nil {
			t.Fatal(err)
		}
		if len(batch) > 0 {
			if err := r.Wait(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		var got [][]byte
		for r.Next() {
			got = append(got, bytes.Clone(r.Record()))
		}
		if r.Err() != nil {
			t.Fatal(r.Err())
		}
		sameRecords(t, got, batch)
		if r.Position() != w.Durable() {
			t.Fatalf("step %d: reader at %v; durable end %v", i, r.Position(), w.Durable())
		}
	}
	w.Close()
	if r.Next() || !errors.Is(r.Err(), ErrClosed) {
		t.Fatalf("after Close: Next err %v; want ErrClosed", r.Err())
	}
	if err := r.Wait(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Wait after Close: %v; want ErrClosed", err)
	}
	if _, err := w.NewReader(Position{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewReader after Close: %v; want ErrClosed", err)
	}
}

func TestReaderFromPosition(t *testing.T) {
	w := openT(t, t.TempDir(), Options{SegmentSize: 300})
	recs := makeRecords(10, 50, 80)
	pos := appendSync(t, w, recs)
	for _, i := range []int{0, 1, 17, 48, 49} {
		got, _ := readAll(t, w, pos[i])
		sameRecords(t, got, recs[i+1:])
	}
	// A position past a segment's end, or in a missing segment, starts at
	// the next segment.
	got, _ := readAll(t, w, Position{Segment: pos[0].Segment, Offset: 1 << 40})
	var want [][]byte
	for i, p := range pos {
		if p.Segment > pos[0].Segment {
			want = append(want, recs[i])
		}
	}
	sameRecords(t, got, want)
	got, _ = readAll(t, w, Position{Segment: pos[0].Segment + 1})
	sameRecords(t, got, want)
	if _, err := w.NewReader(Position{Segment: w.Durable().Segment + 1}); err == nil {
		t.Fatal("NewReader past the last segment succeeded")
	}
}

func TestTruncateBefore(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, Options{SegmentSize: 300})
	recs := makeRecords(11, 60, 80)
	pos := appendSync(t, w, recs)
	before := w.Segments()
	if len(before) < 6 {
		t.Fatalf("got %d segments; want at least 6", len(before))
	}
	r, err := w.NewReader(Position{}) // inside a segment that goes away
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()

	cut := before[3].Index
	var mid Position // a position in the middle of segment 3
	for _, p := range pos {
		if p.Segment == cut {
			mid = p
			break
		}
	}
	if err := w.TruncateBefore(mid); err != nil {
		t.Fatal(err)
	}
	after := w.Segments()
	if len(after) != len(before)-3 || after[0].Index != cut {
		t.Fatalf("after TruncateBefore(%v): %v; want segments from %s on", mid, after, segmentName(cut))
	}
	for _, s := range before[:3] {
		if _, err := os.Stat(segmentPath(dir, s.Index)); !os.IsNotExist(err) {
			t.Fatalf("segment %s still on disk", segmentName(s.Index))
		}
	}
	var want [][]byte
	var removedBytes int64
	for i, p := range pos {
		if p.Segment >= cut {
			want = append(want, recs[i])
		}
	}
	for _, s := range before[:3] {
		removedBytes += s.Size
	}
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, want)
	var total int64
	for _, s := range before {
		total += s.Size
	}
	if w.Size() != total-removedBytes {
		t.Fatalf("Size = %d; want %d", w.Size(), total-removedBytes)
	}
	// The open Reader still reads its removed segment, then goes on in order.
	var all [][]byte
	for r.Next() {
		all = append(all, bytes.Clone(r.Record()))
	}
	if r.Err() != nil || len(all) < len(want) {
		t.Fatalf("reader over truncated segments: %d records, %v", len(all), r.Err())
	}
	sameRecords(t, all[len(all)-len(want):], want)

	// The active segment is never removed.
	if err := w.TruncateBefore(Position{Segment: ^uint64(0)}); err != nil {
		t.Fatal(err)
	}
	segs := w.Segments()
	if len(segs) != 1 || !segs[0].Active {
		t.Fatalf("after truncating everything: %v; want the active segment", segs)
	}
	want = nil
	for i, p := range pos {
		if p.Segment == segs[0].Index {
			want = append(want, recs[i])
		}
	}
	appendSync(t, w, [][]byte{[]byte("still works")})
	got, _ = readAll(t, w, Position{})
	sameRecords(t, got, append(want, []byte("still works")))
}
