package wal

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

const (
	// DefaultSegmentSize is the default Options.SegmentSize.
	DefaultSegmentSize = 16 << 20
	// DefaultMaxRecordSize is the default Options.MaxRecordSize.
	DefaultMaxRecordSize = 16 << 20

	// bufferSize is how much Append buffers before it writes to the file.
	bufferSize = 256 << 10
)

// Options tune a WAL. Zero fields take the defaults.
type Options struct {
	// SegmentSize is the size past which the active segment is closed and a
	// new one started (default DefaultSegmentSize). A record never straddles
	// segments; one larger than SegmentSize gets a segment of its own.
	SegmentSize int64
	// MaxRecordSize is the largest record Append accepts (default
	// DefaultMaxRecordSize, at most 256 MiB).
	MaxRecordSize int
	// Registerer, if not nil, gets the WAL's metrics (kube_state_push_wal_*).
	// Close unregisters them, so the same registry can serve a reopened WAL.
	Registerer prometheus.Registerer
	// Logger logs repairs and write-path failures; nil discards.
	Logger *slog.Logger

	// create makes the files the WAL writes; tests wrap it to inject faults.
	create func(name string) (file, error)
	// hook is called at the stages of Rewrite; an error stops Rewrite there,
	// leaving the files as a crash would. For tests.
	hook func(stage string) error
}

func (o Options) withDefaults() (Options, error) {
	if o.SegmentSize == 0 {
		o.SegmentSize = DefaultSegmentSize
	}
	if o.MaxRecordSize == 0 {
		o.MaxRecordSize = DefaultMaxRecordSize
	}
	if o.SegmentSize < 0 {
		return o, fmt.Errorf("segment size %d is negative", o.SegmentSize)
	}
	if o.MaxRecordSize < 0 || o.MaxRecordSize > maxRecordLimit {
		return o, fmt.Errorf("max record size %d is outside 1..%d", o.MaxRecordSize, maxRecordLimit)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.create == nil {
		o.create = createFile
	}
	if o.hook == nil {
		o.hook = func(string) error { return nil }
	}
	return o, nil
}

// WAL is an open write-ahead log directory. Its methods are safe for
// concurrent use; see the package documentation for what blocks what.
type WAL struct {
	dir     string
	opts    Options
	log     *slog.Logger
	m       *metrics
	lock    io.Closer
	repairs []Repair // made by Open; read-only after it

	// maintMu serializes Rewrite, TruncateBefore and Close; cursorMu
	// serializes SaveCursor and Close. Lock order: maintMu, cursorMu, mu,
	// stateMu.
	maintMu  sync.Mutex
	cursorMu sync.Mutex

	// mu guards the write path. It is taken before stateMu.
	mu       sync.Mutex
	f        file   // active segment; nil after a failed roll or Close
	seg      uint64 // active segment number
	written  int64  // bytes of the active segment written to f
	buf      []byte // records appended but not yet written
	unsynced bool   // f has writes not yet fsynced
	dirDirty bool   // a segment was created since the last directory fsync
	failed   error  // first write-path error; sticky
	closed   bool

	// stateMu guards what readers and the space methods see.
	stateMu sync.Mutex
	segs    []SegmentInfo      // every segment, in order; the last one is active
	durable Position           // end of the data made durable by the last Sync
	syncCh  chan struct{}      // closed and replaced when durable advances or the WAL closes
	readers map[*Reader]uint64 // open readers and the segment each is in
	shut    bool               // Close has begun
	broken  error              // a Rewrite failed after its commit point; Readers stop
}

// Open opens the WAL in dir, creating dir if needed. It locks the directory,
// finishes or undoes an interrupted Rewrite, removes temporary files, checks
// every record of every segment and cuts each segment at its first bad record
// (see Repairs), removes empty segments and starts a new active segment.
// Checking reads the whole WAL once.
func Open(dir string, opts Options) (*WAL, error) {
	opts, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create wal directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	w := &WAL{
		dir: dir, opts: opts, log: opts.Logger, lock: lock,
		syncCh: make(chan struct{}), readers: make(map[*Reader]uint64),
	}
	if w.m, err = newMetrics(opts.Registerer, w); err != nil {
		lock.Close()
		return nil, err
	}
	if err := w.recover(); err != nil {
		w.release()
		return nil, fmt.Errorf("open wal %s: %w", dir, err)
	}
	return w, nil
}

// recover brings the directory to a clean state and starts the active segment.
func (w *WAL) recover() error {
	changed, err := recoverRewrite(w.dir)
	if err != nil {
		return err
	}
	removed, err := removeStale(w.dir)
	if err != nil {
		return err
	}
	changed = changed || removed
	segs, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	next := uint64(0)
	for i, s := range segs {
		r, size, err := repairSegment(w.dir, s, i == len(segs)-1)
		if err != nil {
			return err
		}
		if r != nil {
			w.repairs = append(w.repairs, *r)
			w.m.repairs.Inc()
			w.m.repairBytes.Add(float64(r.BytesCut))
			w.log.Warn("Cut corrupt WAL segment", "segment", segmentName(r.Segment), "offset", r.Offset,
				"bytes_cut", r.BytesCut, "reason", r.Reason, "tail", r.Tail)
		}
		next = nextLive(s.Index)
		if size == 0 {
			if err := os.Remove(filepath.Join(w.dir, segmentName(s.Index))); err != nil {
				return fmt.Errorf("remove empty segment %s: %w", segmentName(s.Index), err)
			}
			changed = true
			continue
		}
		w.segs = append(w.segs, SegmentInfo{Index: s.Index, Size: size})
	}
	if changed {
		if err := syncDir(w.dir); err != nil {
			return err
		}
	}
	if err := w.startSegment(next); err != nil {
		return err
	}
	if err := w.syncDir(); err != nil {
		return err
	}
	w.durable = Position{Segment: next}
	return nil
}

// Repairs returns the cuts Open made, in segment order.
func (w *WAL) Repairs() []Repair { return slices.Clone(w.repairs) }

// Append adds records to the active segment and returns the position just
// after the last one. The records are buffered and written, but not durable:
// only a later successful Sync makes them durable and visible to Readers.
// Empty records and records larger than Options.MaxRecordSize are refused
// with ErrRecordSize, and then none of recs is appended. A write error fails
// the WAL (ErrFailed), but for a full device: the records stay buffered, and
// Sync reports ErrNoSpace. The caller may reuse recs once Append returns.
func (w *WAL) Append(recs ...[]byte) (Position, error) {
	var n int64
	for _, rec := range recs {
		if len(rec) == 0 || len(rec) > w.opts.MaxRecordSize {
			return Position{}, fmt.Errorf("%w: %d bytes, want 1..%d", ErrRecordSize, len(rec), w.opts.MaxRecordSize)
		}
		n += headerSize + int64(len(rec))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return Position{}, err
	}
	for _, rec := range recs {
		size := w.written + int64(len(w.buf))
		if size > 0 && size+headerSize+int64(len(rec)) > w.opts.SegmentSize {
			// With the device full the active segment grows past the size
			// instead; a later Append rolls.
			if err := w.roll(); err != nil && !errors.Is(err, ErrNoSpace) {
				return Position{}, err
			}
		}
		w.buf = appendRecord(w.buf, rec)
		if len(w.buf) >= bufferSize {
			if err := w.flush(); err != nil && !errors.Is(err, ErrNoSpace) {
				return Position{}, err
			}
		}
	}
	w.m.records.Add(float64(len(recs)))
	w.m.appendedBytes.Add(float64(n))
	end := Position{Segment: w.seg, Offset: w.written + int64(len(w.buf))}
	w.stateMu.Lock()
	w.segs[len(w.segs)-1].Size = end.Offset
	w.stateMu.Unlock()
	return end, nil
}

// Sync writes what Append buffered and fsyncs the active segment, and the
// directory if a segment was created since the last Sync. When it returns nil,
// every record appended before the call is durable and readable by Readers.
// A full device (ENOSPC on write) returns ErrNoSpace and changes nothing: the
// records stay buffered for the next Sync. Any other error fails the WAL:
// records appended since the last successful Sync may
// or may not be on disk, Durable stays where it was, and Append and Sync
// return ErrFailed until the WAL is closed and opened again (an fsync error
// cannot be retried safely: the kernel may have dropped the dirty pages).
func (w *WAL) Sync() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.syncFile(); err != nil {
		return err
	}
	if err := w.syncDir(); err != nil {
		return err
	}
	w.stateMu.Lock()
	if p := (Position{Segment: w.seg, Offset: w.written}); p != w.durable {
		w.durable = p
		close(w.syncCh)
		w.syncCh = make(chan struct{})
	}
	w.stateMu.Unlock()
	return nil
}

// Durable returns the position after the last record made durable by Sync.
func (w *WAL) Durable() Position {
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	return w.durable
}

// Close syncs and closes the WAL and releases the directory lock. It returns
// the Sync's error, or the error that failed the WAL earlier. Readers still
// open return ErrClosed; close them too.
func (w *WAL) Close() error {
	w.maintMu.Lock()
	defer w.maintMu.Unlock()
	w.cursorMu.Lock()
	defer w.cursorMu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return nil
	}
	err := w.usable()
	if err == nil {
		if err = w.flush(); err == nil {
			if err = w.syncFile(); err == nil {
				err = w.syncDir()
			}
		}
	}
	w.closed = true
	w.release()
	return err
}

// release closes the active segment and the lock and unregisters the metrics.
func (w *WAL) release() {
	if w.f != nil {
		if err := w.f.Close(); err != nil {
			w.log.Warn("Close WAL segment", "segment", segmentName(w.seg), "err", err)
		}
		w.f = nil
	}
	w.stateMu.Lock()
	if !w.shut {
		w.shut = true
		close(w.syncCh)
	}
	w.stateMu.Unlock()
	w.m.unregister()
	w.lock.Close()
}

// usable returns why the write path cannot be used, if it cannot.
func (w *WAL) usable() error {
	if w.closed {
		return ErrClosed
	}
	if w.failed != nil {
		return fmt.Errorf("%w: %w", ErrFailed, w.failed)
	}
	return nil
}

// fail records the first write-path error; the WAL refuses writes from then on.
func (w *WAL) fail(err error) error {
	if w.failed == nil {
		w.failed = err
		w.log.Error("WAL write failed; appends are refused until it is reopened", "err", err)
	}
	return fmt.Errorf("%w: %w", ErrFailed, err)
}

// flush writes the buffered records to the active segment.
func (w *WAL) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.buf)
	if errors.Is(err, syscall.ENOSPC) {
		// Take back what part of the buffer reached the file, so that the
		// segment ends at its last whole record, and keep the buffer.
		if n == 0 || w.undoWrite() == nil {
			w.m.noSpace.Inc()
			return fmt.Errorf("%w: write segment %s: %w", ErrNoSpace, segmentName(w.seg), err)
		}
	}
	w.written += int64(n)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		return w.fail(fmt.Errorf("write segment %s: %w", segmentName(w.seg), err))
	}
	w.unsynced = true
	if cap(w.buf) > 4*bufferSize { // do not keep a huge record's buffer
		w.buf = nil
	}
	w.buf = w.buf[:0]
	return nil
}

// undoWrite cuts the active segment back to the bytes written before the
// last write, which reached the file only in part.
func (w *WAL) undoWrite() error {
	if err := w.f.Truncate(w.written); err != nil {
		return err
	}
	_, err := w.f.Seek(w.written, io.SeekStart)
	return err
}

// syncFile fsyncs the active segment if it has unsynced writes.
func (w *WAL) syncFile() error {
	if !w.unsynced {
		return nil
	}
	start := time.Now()
	if err := w.f.Sync(); err != nil {
		return w.fail(fmt.Errorf("fsync segment %s: %w", segmentName(w.seg), err))
	}
	w.m.observeFsync(start)
	w.unsynced = false
	return nil
}

// syncDir fsyncs the directory if a segment was created since it last was.
func (w *WAL) syncDir() error {
	if !w.dirDirty {
		return nil
	}
	start := time.Now()
	if err := syncDir(w.dir); err != nil {
		return w.fail(err)
	}
	w.m.observeFsync(start)
	w.dirDirty = false
	return nil
}

// roll closes the full active segment, fsynced, and starts the next one.
func (w *WAL) roll() error {
	if err := w.flush(); err != nil {
		return err
	}
	if err := w.syncFile(); err != nil {
		return err
	}
	err := w.f.Close()
	w.f = nil
	if err != nil {
		return w.fail(fmt.Errorf("close segment %s: %w", segmentName(w.seg), err))
	}
	w.stateMu.Lock()
	w.segs[len(w.segs)-1].Size = w.written // final: records of this Append call included
	w.stateMu.Unlock()
	if err := w.startSegment(nextLive(w.seg)); err != nil {
		return w.fail(err)
	}
	return nil
}

// startSegment creates segment i and makes it the active one.
func (w *WAL) startSegment(i uint64) error {
	f, err := w.opts.create(filepath.Join(w.dir, segmentName(i)))
	if err != nil {
		return fmt.Errorf("create segment %s: %w", segmentName(i), err)
	}
	w.f, w.seg, w.written, w.unsynced, w.dirDirty = f, i, 0, false, true
	w.stateMu.Lock()
	if n := len(w.segs); n > 0 {
		w.segs[n-1].Active = false
	}
	w.segs = append(w.segs, SegmentInfo{Index: i, Active: true})
	w.stateMu.Unlock()
	return nil
}

// Size returns the bytes of all segments, including bytes appended to the
// active segment but still buffered.
func (w *WAL) Size() int64 {
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	var n int64
	for _, s := range w.segs {
		n += s.Size
	}
	return n
}

// Segments returns every segment, oldest first; the last one is active.
func (w *WAL) Segments() []SegmentInfo {
	w.stateMu.Lock()
	defer w.stateMu.Unlock()
	return slices.Clone(w.segs)
}

// TruncateBefore removes every segment whose records are all before p, that
// is every segment numbered below p.Segment, except the active one. Call it
// with the oldest position any consumer still needs (the lowest cursor). A
// Reader inside a removed segment reads it to its end and goes on.
func (w *WAL) TruncateBefore(p Position) error {
	w.maintMu.Lock()
	defer w.maintMu.Unlock()
	w.stateMu.Lock()
	if w.shut {
		w.stateMu.Unlock()
		return ErrClosed
	}
	var err error
	n := 0
	for _, s := range w.segs {
		if s.Index >= p.Segment || s.Active {
			break
		}
		if e := os.Remove(filepath.Join(w.dir, segmentName(s.Index))); e != nil && !errors.Is(e, fs.ErrNotExist) {
			err = fmt.Errorf("remove segment %s: %w", segmentName(s.Index), e)
			break
		}
		n++
	}
	w.segs = slices.Delete(w.segs, 0, n)
	w.stateMu.Unlock()
	if n > 0 {
		if e := syncDir(w.dir); e != nil && err == nil {
			err = e
		}
	}
	return err
}
