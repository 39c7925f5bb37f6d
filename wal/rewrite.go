package wal

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// RewriteResult tells what a Rewrite did.
type RewriteResult struct {
	// Removed are the numbers of the segments replaced.
	Removed []uint64
	// Created are the new segments, in order.
	Created []SegmentInfo
	// RecordsIn and RecordsOut count the records read and written.
	RecordsIn, RecordsOut int
	// BytesIn and BytesOut count the segment bytes read and written.
	BytesIn, BytesOut int64
}

// Rewrite replaces the closed segments numbered from..to (inclusive) with new
// ones holding, in order, the records keep returns for each of their records;
// it is the mechanism under compaction, keep decides what survives. keep must
// not retain rec (the slice is reused) and may return slices of it; a nil
// result drops the record. Append, Sync, Readers and SaveCursor go on while
// keep runs; TruncateBefore and Close wait for Rewrite to return.
//
// The new segments are numbered to+1, to+2, ... so they sort after the old
// ones and before the next segment (Rewrite fails if those numbers run into
// the next segment), and positions keep their order. Saved cursors inside the
// range move with the records: a cursor at the end of a replaced segment to
// just after the records kept from it, any other cursor in that segment to
// just before them, so its consumer may see that one segment's kept records
// again but misses none. Any other position inside the range no longer has
// its segment: a Reader started there begins at the first new segment (or
// the next segment if keep dropped everything). Rewrite refuses a range an
// open Reader is in (ErrBusy), so a live Reader never sees a record twice:
// rewrite ranges the Readers have not reached, or have passed.
//
// The switch is crash-safe: the new segments are written as *.tmp and
// fsynced, then a marker file commits the switch, then the new segments are
// renamed into place, the cursors moved, the old segments removed and the
// marker removed, with the directory fsynced after each step. A crash leaves
// the old segments or the new ones, never both: Open deletes the *.tmp files
// of a Rewrite without a marker and finishes one with a marker. An error
// after the commit point fails the WAL (ErrFailed) and stops its Readers;
// reopening it finishes the switch.
func (w *WAL) Rewrite(from, to uint64, keep func(rec []byte) [][]byte) (RewriteResult, error) {
	w.maintMu.Lock()
	defer w.maintMu.Unlock()
	var res RewriteResult
	inputs, limit, err := w.rewriteInputs(from, to)
	if err != nil {
		return res, err
	}
	out := &rewriteOutput{w: w, next: to + 1, limit: limit}
	// keepFiles is set once the marker is written (the new files are then
	// the data) or when a test hook stopped Rewrite where a crash would.
	keepFiles := false
	defer func() {
		if err != nil && !keepFiles {
			out.abort()
		}
	}()
	for _, s := range inputs {
		if err = out.copy(s.Index, keep, &res); err != nil {
			return res, err
		}
		res.Removed = append(res.Removed, s.Index)
	}
	if err = out.finish(); err != nil {
		return res, err
	}
	if err = w.opts.hook("written"); err != nil {
		keepFiles = true
		return res, err
	}
	m := &rewriteMarker{from: from, to: to, first: to + 1, count: uint64(len(out.done)), inputs: out.maps}
	if err = w.commitRewrite(m, out.done, &keepFiles); err != nil {
		return res, err
	}
	res.Created = out.done
	for _, s := range out.done {
		res.BytesOut += s.Size
	}
	w.log.Info("Rewrote WAL segments", "from", segmentName(from), "to", segmentName(to),
		"records_in", res.RecordsIn, "records_out", res.RecordsOut, "bytes_in", res.BytesIn, "bytes_out", res.BytesOut)
	return res, nil
}

// rewriteInputs returns the segments in [from, to] and the number the new
// segments must stay below.
func (w *WAL) rewriteInputs(from, to uint64) ([]SegmentInfo, uint64, error) {
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	if err := w.readableLocked(); err != nil {
		return nil, 0, err
	}
	active := w.segs[len(w.segs)-1].Index
	if from > to || to >= active {
		return nil, 0, fmt.Errorf("rewrite %s..%s: not a range of closed segments (active %s)",
			segmentName(from), segmentName(to), segmentName(active))
	}
	var inputs []SegmentInfo
	limit := active
	for _, s := range w.segs {
		if s.Index > to {
			limit = s.Index
			break
		}
		if s.Index >= from {
			inputs = append(inputs, s)
		}
	}
	if len(inputs) == 0 {
		return nil, 0, fmt.Errorf("rewrite %s..%s: no segments in range", segmentName(from), segmentName(to))
	}
	return inputs, limit, w.errReaderInRange(from, to)
}

// commitRewrite makes the new segments replace the old ones. It holds mu and
// stateMu throughout, so that Readers and Sync see the old segments or the
// new ones, never a mix. It sets *committed once the marker is written.
func (w *WAL) commitRewrite(m *rewriteMarker, created []SegmentInfo, committed *bool) error {
	w.cursorMu.Lock() // cursors move in rollForward
	defer w.cursorMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	if err := w.readableLocked(); err != nil {
		return err
	}
	if err := w.errReaderInRange(m.from, m.to); err != nil {
		return err
	}
	if err := w.writeMarker(m); err != nil {
		return err
	}
	// Committed: from here on, only going forward is right.
	*committed = true
	if err := w.opts.hook("committed"); err != nil {
		return err
	}
	if err := rollForward(w.dir, m, w.opts.create, w.opts.hook); err != nil {
		if errors.Is(err, errHook) {
			return err
		}
		w.broken = w.fail(fmt.Errorf("finish rewrite of %s..%s (reopen to finish it): %w", segmentName(m.from), segmentName(m.to), err))
		return w.broken
	}
	w.segs = slices.DeleteFunc(w.segs, func(s SegmentInfo) bool { return s.Index >= m.from && s.Index <= m.to })
	i, _ := slices.BinarySearchFunc(w.segs, m.first, func(s SegmentInfo, t uint64) int { return cmp.Compare(s.Index, t) })
	w.segs = slices.Insert(w.segs, i, created...)
	return nil
}

// rewriteOutput writes the new segments of a Rewrite as NAME.tmp files.
type rewriteOutput struct {
	w     *WAL
	next  uint64 // number of the next new segment
	limit uint64 // new segments stay below this number
	f     file
	cur   SegmentInfo
	buf   []byte
	done  []SegmentInfo // finished new segments
	files []string      // every file created, for abort
	maps  []segmentMap  // where each input's records went
}

// position returns the position after the last record written so far.
func (o *rewriteOutput) position() Position {
	if o.f == nil {
		return Position{Segment: o.next}
	}
	return Position{Segment: o.cur.Index, Offset: o.cur.Size}
}

// copy passes the records of closed segment i through keep into the output.
func (o *rewriteOutput) copy(i uint64, keep func([]byte) [][]byte, res *RewriteResult) error {
	f, err := os.Open(filepath.Join(o.w.dir, segmentName(i)))
	if err != nil {
		return fmt.Errorf("open segment %s: %w", segmentName(i), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return fmt.Errorf("stat segment %s: %w", segmentName(i), err)
	}
	res.BytesIn += fi.Size()
	sm := segmentMap{index: i, size: fi.Size(), start: o.position()}
	end, bad, err := scanRecords(f, fi.Size(), func(rec []byte) error {
		res.RecordsIn++
		for _, k := range keep(rec) {
			if err := o.add(k); err != nil {
				return err
			}
			res.RecordsOut++
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rewrite segment %s: %w", segmentName(i), err)
	}
	if bad != "" {
		return &CorruptionError{Segment: i, Offset: end, Reason: bad}
	}
	sm.end = o.position()
	o.maps = append(o.maps, sm)
	return nil
}

// add appends a record, starting a new segment when the current one is full.
func (o *rewriteOutput) add(rec []byte) error {
	if len(rec) == 0 || len(rec) > o.w.opts.MaxRecordSize {
		return fmt.Errorf("%w: keep returned %d bytes, want 1..%d", ErrRecordSize, len(rec), o.w.opts.MaxRecordSize)
	}
	n := headerSize + int64(len(rec))
	if o.f != nil && o.cur.Size > 0 && o.cur.Size+n > o.w.opts.SegmentSize {
		if err := o.close(); err != nil {
			return err
		}
	}
	if o.f == nil {
		if o.next >= o.limit {
			return fmt.Errorf("rewrite: no segment numbers left below %s; rewrite a range that ends at a later segment", segmentName(o.limit))
		}
		name := filepath.Join(o.w.dir, segmentName(o.next)+tmpSuffix)
		f, err := o.w.opts.create(name)
		if err != nil {
			return fmt.Errorf("create segment %s: %w", segmentName(o.next), err)
		}
		o.files = append(o.files, name)
		o.f, o.cur = f, SegmentInfo{Index: o.next}
		o.next++
	}
	o.buf = appendRecord(o.buf, rec)
	o.cur.Size += n
	if len(o.buf) >= bufferSize {
		return o.flush()
	}
	return nil
}

func (o *rewriteOutput) flush() error {
	n, err := o.f.Write(o.buf)
	if err == nil && n < len(o.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return fmt.Errorf("write segment %s: %w", segmentName(o.cur.Index), err)
	}
	o.buf = o.buf[:0]
	return nil
}

// close finishes the current new segment: written, fsynced and closed.
func (o *rewriteOutput) close() error {
	err := o.flush()
	if err == nil {
		if err = o.f.Sync(); err != nil {
			err = fmt.Errorf("fsync segment %s: %w", segmentName(o.cur.Index), err)
		}
	}
	if cerr := o.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close segment %s: %w", segmentName(o.cur.Index), cerr)
	}
	o.f = nil
	if err == nil {
		o.done = append(o.done, o.cur)
	}
	return err
}

// finish closes the last new segment and makes the new files durable.
func (o *rewriteOutput) finish() error {
	if o.f != nil {
		if err := o.close(); err != nil {
			return err
		}
	}
	return syncDir(o.w.dir)
}

// abort removes the new segments of a Rewrite that did not commit.
func (o *rewriteOutput) abort() {
	if o.f != nil {
		_ = o.f.Close()
	}
	for _, name := range o.files {
		_ = os.Remove(name)
	}
}
