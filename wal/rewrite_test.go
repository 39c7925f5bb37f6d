package wal

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// rewriteFixture is a WAL of numbered records over many closed segments.
type rewriteFixture struct {
	dir  string
	w    *WAL
	recs [][]byte
	pos  []Position
	segs []SegmentInfo
}

func newRewriteFixture(t *testing.T, opts Options) *rewriteFixture {
	fx := &rewriteFixture{dir: t.TempDir()}
	opts.SegmentSize = 300
	fx.w = openT(t, fx.dir, opts)
	for i := range 80 {
		fx.recs = append(fx.recs, []byte(strings.Repeat(string(rune('a'+i%26)), 20+i%13)))
	}
	fx.pos = appendSync(t, fx.w, fx.recs)
	fx.segs = fx.w.Segments()
	if len(fx.segs) < 8 {
		t.Fatalf("got %d segments; want at least 8", len(fx.segs))
	}
	return fx
}

// split returns the records before, in and after the segments [from, to].
func (fx *rewriteFixture) split(from, to uint64) (before, in, after [][]byte) {
	for i, p := range fx.pos {
		switch {
		case p.Segment < from:
			before = append(before, fx.recs[i])
		case p.Segment <= to:
			in = append(in, fx.recs[i])
		default:
			after = append(after, fx.recs[i])
		}
	}
	return before, in, after
}

// firstPos returns the position after the first record of segment i.
func (fx *rewriteFixture) firstPos(i uint64) Position {
	for _, p := range fx.pos {
		if p.Segment == i {
			return p
		}
	}
	panic("BUG: no such segment")
}

// lastPos returns the position after the last record of segment i.
func (fx *rewriteFixture) lastPos(i uint64) Position {
	var last Position
	for _, p := range fx.pos {
		if p.Segment == i {
			last = p
		}
	}
	return last
}

// thinnedFrom returns what thin, run over the records of [from, to], keeps
// of those in segment k and later.
func (fx *rewriteFixture) thinnedFrom(from, to, k uint64) [][]byte {
	n := 0
	keep := thin(&n)
	var out [][]byte
	for i, p := range fx.pos {
		if p.Segment >= from && p.Segment <= to {
			kept := keep(fx.recs[i])
			if p.Segment >= k {
				out = append(out, kept...)
			}
		}
	}
	return out
}

// thin keeps every third record and doubles every record starting with 'e',
// so the test sees drops, keeps and expansion.
func thin(n *int) func(rec []byte) [][]byte {
	return func(rec []byte) [][]byte {
		*n++
		switch {
		case rec[0] == 'e':
			return [][]byte{rec, append(bytes.Clone(rec), '2')}
		case *n%3 == 0:
			return [][]byte{rec}
		}
		return nil
	}
}

func thinned(recs [][]byte) [][]byte {
	n := 0
	keep := thin(&n)
	var out [][]byte
	for _, r := range recs {
		out = append(out, keep(r)...)
	}
	return out
}

func concat(parts ...[][]byte) [][]byte {
	var out [][]byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func TestRewrite(t *testing.T) {
	fx := newRewriteFixture(t, Options{})
	w := fx.w
	from, to := fx.segs[1].Index, fx.segs[len(fx.segs)-3].Index
	before, in, after := fx.split(from, to)
	// Consumers' cursors: in the middle of a segment of the range, at the end
	// of one, at the end of the range, before it and after it.
	cursors := map[string]Position{
		"mid":      fx.firstPos(fx.segs[3].Index),
		"segEnd":   fx.lastPos(fx.segs[2].Index),
		"rangeEnd": fx.lastPos(to),
		"early":    fx.firstPos(fx.segs[0].Index),
		"late":     fx.firstPos(fx.segs[len(fx.segs)-2].Index),
	}
	for name, p := range cursors {
		if err := w.SaveCursor(name, p); err != nil {
			t.Fatal(err)
		}
	}

	n := 0
	res, err := w.Rewrite(from, to, thin(&n))
	if err != nil {
		t.Fatal(err)
	}
	want := concat(before, thinned(in), after)
	got, pos := readAll(t, w, Position{})
	sameRecords(t, got, want)
	for i := 1; i < len(pos); i++ {
		if pos[i].Compare(pos[i-1]) <= 0 {
			t.Fatalf("positions not increasing: %v then %v", pos[i-1], pos[i])
		}
	}
	if res.RecordsIn != len(in) || res.RecordsOut != len(thinned(in)) || len(res.Removed) != len(fx.segs)-3 {
		t.Fatalf("result %+v; want %d records in, %d out, %d segments removed", res, len(in), len(thinned(in)), len(fx.segs)-3)
	}
	// The new segments sit between the untouched ones, bounded in size.
	segs := w.Segments()
	wantSegs := concat2(fx.segs[:1], res.Created, fx.segs[len(fx.segs)-2:])
	wantSegs[len(wantSegs)-1].Size = segs[len(segs)-1].Size
	if len(segs) != len(wantSegs) || len(res.Created) < 2 {
		t.Fatalf("segments %v; want %v with at least 2 new", segs, wantSegs)
	}
	for i := range segs {
		if segs[i] != wantSegs[i] {
			t.Fatalf("segment %d: %v; want %v", i, segs[i], wantSegs[i])
		}
		if i > 0 && segs[i].Index <= segs[i-1].Index {
			t.Fatalf("segment numbers out of order: %v", segs)
		}
	}
	if res.Created[0].Index != to+1 {
		t.Fatalf("first new segment %s; want %s", segmentName(res.Created[0].Index), segmentName(to+1))
	}
	for _, s := range res.Created {
		if s.Size > 300 {
			t.Fatalf("new segment %v is larger than SegmentSize", s)
		}
	}
	// Cursors inside the range move to the new segments: to before the
	// records kept from their segment, or after them at its end. The others
	// stay.
	early := indexOf(fx.pos, cursors["early"])
	for name, want := range map[string][][]byte{
		"mid":      concat(fx.thinnedFrom(from, to, fx.segs[3].Index), after),
		"segEnd":   concat(fx.thinnedFrom(from, to, fx.segs[3].Index), after),
		"rangeEnd": after,
		"early":    concat(fx.recs[early+1:len(before)], thinned(in), after),
		"late":     fx.recs[indexOf(fx.pos, cursors["late"])+1:],
	} {
		p, _, err := w.LoadCursor(name)
		if err != nil {
			t.Fatal(err)
		}
		moved := p != cursors[name]
		if inRange := cursors[name].Segment >= from && cursors[name].Segment <= to; moved != inRange || p.Segment >= from && p.Segment <= to {
			t.Fatalf("cursor %s went from %v to %v", name, cursors[name], p)
		}
		got, _ := readAll(t, w, p)
		sameRecords(t, got, want)
	}
	// The switch survives a reopen, with nothing left over.
	w.Close()
	w = openT(t, fx.dir, Options{})
	got, _ = readAll(t, w, Position{})
	sameRecords(t, got, want)
	for _, name := range dirFiles(t, fx.dir) {
		if strings.HasSuffix(name, tmpSuffix) || name == markerName {
			t.Fatalf("%s left behind", name)
		}
	}
	// Rewriting the output again (a second compaction pass) works and keeps
	// order.
	last := res.Created[len(res.Created)-1].Index
	res2, err := w.Rewrite(fx.segs[0].Index, last, func(rec []byte) [][]byte { return [][]byte{rec} })
	if err != nil {
		t.Fatal(err)
	}
	if res2.Created[0].Index != last+1 {
		t.Fatalf("second pass starts at %s; want %s", segmentName(res2.Created[0].Index), segmentName(last+1))
	}
	got, _ = readAll(t, w, Position{})
	sameRecords(t, got, want)
}

func concat2(parts ...[]SegmentInfo) []SegmentInfo {
	var out []SegmentInfo
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func indexOf(pos []Position, p Position) int {
	for i, q := range pos {
		if q == p {
			return i
		}
	}
	panic("BUG: position not found")
}

func TestRewriteDropsEverything(t *testing.T) {
	fx := newRewriteFixture(t, Options{})
	from, to := fx.segs[0].Index, fx.segs[2].Index
	if err := fx.w.SaveCursor("c", fx.pos[1]); err != nil {
		t.Fatal(err)
	}
	res, err := fx.w.Rewrite(from, to, func([]byte) [][]byte { return nil })
	if err != nil || len(res.Created) != 0 || len(res.Removed) != 3 {
		t.Fatalf("Rewrite = %+v, %v; want 3 segments removed and none created", res, err)
	}
	_, _, after := fx.split(from, to)
	got, _ := readAll(t, fx.w, Position{})
	sameRecords(t, got, after)
	p, _, _ := fx.w.LoadCursor("c")
	got, _ = readAll(t, fx.w, p)
	sameRecords(t, got, after)
}

func TestRewriteRefusals(t *testing.T) {
	fx := newRewriteFixture(t, Options{})
	w := fx.w
	keepAll := func(rec []byte) [][]byte { return [][]byte{rec} }
	active := fx.segs[len(fx.segs)-1].Index
	for _, r := range [][2]uint64{{fx.segs[0].Index, active}, {fx.segs[3].Index, fx.segs[2].Index}, {active - 5, active - 1}} {
		if _, err := w.Rewrite(r[0], r[1], keepAll); err == nil {
			t.Fatalf("Rewrite(%s, %s) succeeded", segmentName(r[0]), segmentName(r[1]))
		}
	}
	// An open Reader inside the range: refused, and nothing changes.
	r, err := w.NewReader(fx.pos[len(fx.pos)/2])
	if err != nil {
		t.Fatal(err)
	}
	from, to := fx.segs[0].Index, fx.segs[len(fx.segs)-2].Index
	if _, err := w.Rewrite(from, to, keepAll); !errors.Is(err, ErrBusy) {
		t.Fatalf("Rewrite with a reader inside: %v; want ErrBusy", err)
	}
	if segs := w.Segments(); len(segs) != len(fx.segs) {
		t.Fatalf("segments changed: %v", segs)
	}
	for _, name := range dirFiles(t, fx.dir) {
		if strings.HasSuffix(name, tmpSuffix) {
			t.Fatalf("refused Rewrite left %s", name)
		}
	}
	r.Close()
	if _, err := w.Rewrite(from, to, keepAll); err != nil {
		t.Fatalf("Rewrite after the reader closed: %v", err)
	}
	// A Reader that reaches the range only after the switch sees the new
	// segments, from their start.
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, fx.recs)
}

// TestRewriteCrash stops Rewrite at each stage, as a crash would, and checks
// that reopening yields the old records or the new ones, never both.
func TestRewriteCrash(t *testing.T) {
	errCrash := errors.New("simulated crash")
	for _, tc := range []struct {
		stage   string
		want    string // "old" or "new"
		leftTmp bool   // the crash leaves *.tmp segments behind
	}{
		{"written", "old", true},
		{"committed", "new", true},
		{"renamed", "new", false},
		{"removed", "new", false},
	} {
		t.Run(tc.stage, func(t *testing.T) {
			fx := newRewriteFixture(t, Options{hook: func(stage string) error {
				if stage == tc.stage {
					return errCrash
				}
				return nil
			}})
			from, to := fx.segs[2].Index, fx.segs[5].Index
			before, in, after := fx.split(from, to)
			cursor := fx.lastPos(fx.segs[3].Index)
			if err := fx.w.SaveCursor("c", cursor); err != nil {
				t.Fatal(err)
			}
			n := 0
			if _, err := fx.w.Rewrite(from, to, thin(&n)); !errors.Is(err, errCrash) {
				t.Fatalf("Rewrite: %v; want the simulated crash", err)
			}
			tmps := 0
			for _, name := range dirFiles(t, fx.dir) {
				if strings.HasSuffix(name, tmpSuffix) {
					tmps++
				}
			}
			if (tmps > 0) != tc.leftTmp {
				t.Fatalf("%d temp files after the crash; want some: %v", tmps, tc.leftTmp)
			}
			fx.w.Close()

			w := openT(t, fx.dir, Options{})
			want := concat(before, in, after)
			wantFromCursor := fx.recs[indexOf(fx.pos, cursor)+1:]
			if tc.want == "new" {
				want = concat(before, thinned(in), after)
				wantFromCursor = concat(fx.thinnedFrom(from, to, fx.segs[4].Index), after)
			}
			got, _ := readAll(t, w, Position{})
			sameRecords(t, got, want)
			p, _, err := w.LoadCursor("c")
			if err != nil {
				t.Fatal(err)
			}
			got, _ = readAll(t, w, p)
			sameRecords(t, got, wantFromCursor)
			for _, name := range dirFiles(t, fx.dir) {
				if _, ok := parseSegmentName(name); !ok && name != lockName && name != cursorPrefix+"c" {
					t.Fatalf("reopen left %s", name)
				}
			}
			if _, err := os.Stat(filepath.Join(fx.dir, markerName)); !os.IsNotExist(err) {
				t.Fatalf("marker still there: %v", err)
			}
		})
	}
}

// TestRewriteConcurrent compacts closed segments (keeping every record) while
// a writer appends and a reader tails the WAL; both must see every record
// once, in order.
func TestRewriteConcurrent(t *testing.T) {
	w := openT(t, t.TempDir(), Options{SegmentSize: 1000})
	recs := makeRecords(13, 3000, 100)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	written := make(chan error, 1)
	go func() {
		for i := 0; i < len(recs); i += 5 {
			if _, err := w.Append(recs[i:min(i+5, len(recs))]...); err != nil {
				written <- err
				return
			}
			if err := w.Sync(); err != nil {
				written <- err
				return
			}
		}
		written <- nil
	}()
	read := make(chan [][]byte, 1)
	go func() {
		r, err := w.NewReader(Position{})
		if err != nil {
			t.Error(err)
			read <- nil
			return
		}
		defer r.Close()
		var got [][]byte
		for len(got) < len(recs) {
			for r.Next() {
				got = append(got, bytes.Clone(r.Record()))
			}
			if r.Err() != nil || len(got) >= len(recs) {
				break
			}
			if err := r.Wait(ctx); err != nil {
				break
			}
		}
		if r.Err() != nil {
			t.Error(r.Err())
		}
		read <- got
	}()
	keepAll := func(rec []byte) [][]byte { return [][]byte{rec} }
	rewrites, busy := 0, 0
	var werr error
	for done := false; !done; {
		select {
		case werr = <-written:
			done = true
		default:
		}
		segs := w.Segments()
		if len(segs) < 3 {
			continue
		}
		_, err := w.Rewrite(segs[0].Index, segs[len(segs)-2].Index, keepAll)
		switch {
		case err == nil:
			rewrites++
		case errors.Is(err, ErrBusy):
			busy++
		default:
			t.Fatalf("Rewrite: %v", err)
		}
	}
	if werr != nil {
		t.Fatal(werr)
	}
	sameRecords(t, <-read, recs)
	got, _ := readAll(t, w, Position{})
	sameRecords(t, got, recs)
	if rewrites == 0 {
		t.Fatalf("no Rewrite succeeded (%d busy)", busy)
	}
	t.Logf("%d rewrites, %d refused while the reader was inside", rewrites, busy)
}
