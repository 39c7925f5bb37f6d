package wal

import (
	"cmp"
	"context"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"slices"
)

// readChunk is how much a Reader reads from a segment at once.
const readChunk = 128 << 10

// Reader iterates over the durable records of a WAL in order, like
// bufio.Scanner, and tails the WAL as Sync makes more records durable:
//
//	for {
//		for r.Next() {
//			use(r.Record(), r.Position())
//		}
//		if r.Err() != nil {
//			break // corruption, I/O error or ErrClosed
//		}
//		r.Wait(ctx) // returns once more records may be durable
//	}
//
// Next returns false with Err() == nil at the durable end of the WAL; calling
// Next again later returns the records made durable since. A Reader never
// returns a record that a successful Sync has not covered. It is used by one
// goroutine at a time; any number of Readers may run beside the writer. Close
// it when done: an open Reader holds a file and stops Rewrite of its segment.
type Reader struct {
	w     *WAL
	pos   Position // after the current record, or the start
	f     *os.File // segment pos.Segment
	end   int64    // bytes of f known to be readable
	final bool     // end is f's final size: the segment is closed
	buf   []byte   // bytes of f from bufOff
	bufAt int64
	rec   []byte
	err   error
}

// NewReader returns a Reader whose first record is the one at from, a
// position returned by Append, Reader.Position or LoadCursor, or the zero
// Position for the start of the WAL. If from's segment no longer exists
// (removed by TruncateBefore or replaced by Rewrite), reading starts at the
// beginning of the next segment.
func (w *WAL) NewReader(from Position) (*Reader, error) {
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	if err := w.readableLocked(); err != nil {
		return nil, err
	}
	r := &Reader{w: w, pos: from}
	if err := r.openLocked(); err != nil {
		return nil, err
	}
	return r, nil
}

// Next advances to the next durable record and reports whether there is one.
func (r *Reader) Next() bool {
	r.rec = nil
	if r.err != nil {
		return false
	}
	for {
		if r.pos.Offset < r.end {
			return r.read()
		}
		if !r.final {
			if err := r.refresh(); err != nil {
				r.err = err
				return false
			}
			if r.pos.Offset < r.end {
				continue
			}
			if !r.final {
				return false // at the durable end; more may come
			}
		}
		if err := r.advance(); err != nil {
			r.err = err
			return false
		}
	}
}

// Record returns the current record. It is valid until the next call to Next
// or Close; copy it to keep it.
func (r *Reader) Record() []byte { return r.rec }

// Position returns the position just after the current record: where a
// Reader resuming after it must start, and what a consumer saves as its
// cursor once the record is handled. Before the first record it is the start
// position. It never decreases.
func (r *Reader) Position() Position { return r.pos }

// Err returns the error that stopped the Reader, or nil at the durable end.
// A *CorruptionError means a record changed on disk after Open checked it.
func (r *Reader) Err() error { return r.err }

// Wait blocks until records after the Reader's position may have become
// durable, ctx is done (returning its error) or the WAL is closed. Call it
// after Next returned false with a nil Err.
func (r *Reader) Wait(ctx context.Context) error {
	w := r.w
	w.stateMu.Lock()
	ch, shut, d := w.syncCh, w.shut, w.durable
	w.stateMu.Unlock()
	if shut {
		return ErrClosed
	}
	if r.pos.Compare(d) < 0 {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close releases the Reader's file. Next then returns false.
func (r *Reader) Close() error {
	r.w.stateMu.Lock()
	delete(r.w.readers, r)
	r.w.stateMu.Unlock()
	r.rec, r.buf = nil, nil
	if r.err == nil {
		r.err = ErrClosed
	}
	if r.f == nil {
		return nil
	}
	err := r.f.Close()
	r.f = nil
	return err
}

// openLocked opens the first segment numbered pos.Segment or above, moving pos
// to its start if it is a later one, and registers the Reader there. The
// caller holds stateMu, so Rewrite sees the Reader before it can commit.
func (r *Reader) openLocked() error {
	w := r.w
	i, found := slices.BinarySearchFunc(w.segs, r.pos.Segment, func(s SegmentInfo, t uint64) int {
		return cmp.Compare(s.Index, t)
	})
	if i == len(w.segs) {
		return fmt.Errorf("position %s is after the last segment", r.pos)
	}
	if !found {
		r.pos = Position{Segment: w.segs[i].Index}
	}
	f, err := os.Open(filepath.Join(w.dir, segmentName(r.pos.Segment)))
	if err != nil {
		return fmt.Errorf("open segment %s: %w", segmentName(r.pos.Segment), err)
	}
	r.f, r.end, r.final, r.buf, r.bufAt = f, 0, false, r.buf[:0], 0
	w.readers[r] = r.pos.Segment
	return nil
}

// refresh learns how much of the current segment is durable.
func (r *Reader) refresh() error {
	w := r.w
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	if err := w.readableLocked(); err != nil {
		return err
	}
	switch d := w.durable; {
	case r.pos.Segment < d.Segment: // closed: complete and fsynced
		fi, err := r.f.Stat()
		if err != nil {
			return fmt.Errorf("stat segment %s: %w", segmentName(r.pos.Segment), err)
		}
		r.end, r.final = fi.Size(), true
	case r.pos.Segment == d.Segment:
		r.end = d.Offset
	default: // created by a roll, not yet covered by a Sync
		r.end = 0
	}
	return nil
}

// advance moves to the start of the segment after the current one.
func (r *Reader) advance() error {
	w := r.w
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	if err := w.readableLocked(); err != nil {
		return err
	}
	if err := r.f.Close(); err != nil {
		return fmt.Errorf("close segment %s: %w", segmentName(r.pos.Segment), err)
	}
	r.f = nil
	r.pos = Position{Segment: r.pos.Segment + 1}
	return r.openLocked()
}

// read decodes the record at the Reader's position.
func (r *Reader) read() bool {
	off := r.pos.Offset
	h, err := r.peek(off, headerSize)
	if err != nil {
		r.err = err
		return false
	}
	length, sum, bad := parseHeader(h)
	if bad == "" {
		var p []byte
		if p, err = r.peek(off+headerSize, length); err != nil {
			r.err = err
			return false
		}
		if crc32.Checksum(p, castagnoli) == sum {
			r.rec = p
			r.pos.Offset = off + headerSize + length
			return true
		}
		bad = "checksum mismatch"
	}
	r.err = &CorruptionError{Segment: r.pos.Segment, Offset: off, Reason: bad}
	return false
}

// peek returns n bytes of the current segment from off, reading ahead.
func (r *Reader) peek(off, n int64) ([]byte, error) {
	if off+n > r.end {
		return nil, &CorruptionError{Segment: r.pos.Segment, Offset: r.pos.Offset,
			Reason: fmt.Sprintf("torn record: %d bytes at %d pass the readable end %d", n, off, r.end)}
	}
	if off >= r.bufAt && off+n <= r.bufAt+int64(len(r.buf)) {
		return r.buf[off-r.bufAt : off-r.bufAt+n], nil
	}
	size := min(max(n, readChunk), r.end-off)
	if int64(cap(r.buf)) < size || (cap(r.buf) > 4*readChunk && size <= readChunk) {
		r.buf = make([]byte, size)
	}
	r.buf = r.buf[:size]
	if _, err := r.f.ReadAt(r.buf, off); err != nil {
		r.buf = r.buf[:0]
		return nil, fmt.Errorf("read segment %s at %d: %w", segmentName(r.pos.Segment), off, err)
	}
	r.bufAt = off
	return r.buf[:n], nil
}

// readableLocked returns why Readers cannot go on, if they cannot; stateMu is
// held.
func (w *WAL) readableLocked() error {
	if w.shut {
		return ErrClosed
	}
	return w.broken
}

// errReaderInRange reports the open Readers inside [from, to]; stateMu is held.
func (w *WAL) errReaderInRange(from, to uint64) error {
	for _, seg := range w.readers {
		if seg >= from && seg <= to {
			return fmt.Errorf("%w: a reader is in segment %s", ErrBusy, segmentName(seg))
		}
	}
	return nil
}
