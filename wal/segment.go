package wal

import (
	"cmp"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// Segment numbering. File names are the segment number as 16 zero-padded hex
// digits, so they sort like the numbers. Segments created by Open and by rolls
// take the next multiple of 1<<rewriteBits above every existing number; the
// numbers in between are left for Rewrite, whose output for the range
// [from, to] is numbered to+1, to+2, ...: it sorts after every input and before
// the next segment, and never reuses an input's number, so a Position that
// pointed into an input cannot be mistaken for one in the output.
const (
	rewriteBits = 16
	nameDigits  = 16
	tmpSuffix   = ".tmp"
	lockName    = "lock"
)

// SegmentInfo describes one segment file.
type SegmentInfo struct {
	// Index is the segment number, as in Position.Segment and the file name.
	Index uint64
	// Size is the segment's length in bytes; for the active segment it includes
	// bytes appended but still buffered.
	Size int64
	// Active is true for the segment being appended to.
	Active bool
}

// Start returns the position of the segment's first record.
func (s SegmentInfo) Start() Position { return Position{Segment: s.Index} }

// End returns the position just after the segment's last record.
func (s SegmentInfo) End() Position { return Position{Segment: s.Index, Offset: s.Size} }

func segmentName(i uint64) string { return fmt.Sprintf("%0*x", nameDigits, i) }

// nextLive returns the number of a segment created after segment i.
func nextLive(i uint64) uint64 { return (i>>rewriteBits + 1) << rewriteBits }

// parseSegmentName returns the number of a segment file name.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != nameDigits {
		return 0, false
	}
	i, err := strconv.ParseUint(name, 16, 64)
	return i, err == nil
}

// file is what the WAL needs of a file it writes. Options.create makes them,
// so that tests can inject faults.
type file interface {
	Write(p []byte) (int, error)
	// Truncate and Seek take back the part of a write that did not fit.
	Truncate(size int64) error
	Seek(offset int64, whence int) (int64, error)
	Sync() error
	Close() error
}

// createFile creates a new file for writing; it fails if name exists.
func createFile(name string) (file, error) {
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
}

// syncDir fsyncs a directory, making the creations, renames and removals of
// files in it durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// listSegments returns the segment files of dir, in order. Other files are
// left to the caller.
func listSegments(dir string) ([]SegmentInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list segments: %w", err)
	}
	var segs []SegmentInfo
	for _, e := range entries {
		i, ok := parseSegmentName(e.Name())
		if !ok || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil {
			return nil, fmt.Errorf("stat segment %s: %w", e.Name(), err)
		}
		segs = append(segs, SegmentInfo{Index: i, Size: fi.Size()})
	}
	slices.SortFunc(segs, func(a, b SegmentInfo) int { return cmp.Compare(a.Index, b.Index) })
	return segs, nil
}

// removeStale removes the temporary files a crash can leave behind: segments
// of an uncommitted Rewrite, cursor and marker temp files. Call it only after
// recoverRewrite.
func removeStale(dir string) (removed bool, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("list directory: %w", err)
	}
	for _, e := range entries {
		if !strings.HasSuffix(e.Name(), tmpSuffix) || !e.Type().IsRegular() {
			continue
		}
		if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return removed, fmt.Errorf("remove stale %s: %w", e.Name(), err)
		}
		removed = true
	}
	return removed, nil
}

// Repair is a cut Open made: everything of Segment from Offset on failed the
// checks and was removed. Only a cut at the end of the newest segment (Tail) is
// the expected result of a crash; a cut in an older segment means the disk
// changed data after it was synced.
type Repair struct {
	// Segment and Offset locate the first bad record.
	Segment uint64
	Offset  int64
	// BytesCut is how many bytes were removed.
	BytesCut int64
	// Reason says which check the record at Offset failed.
	Reason string
	// Tail is true when the segment was the newest one.
	Tail bool
}

// repairSegment checks every record of a segment and truncates it at the
// first bad one, then fsyncs it. It returns the cut, if any, and the segment's
// valid size. The newest segment is fsynced even when intact: the process that
// wrote it may have died before its last fsync, and readers must only see
// durable records.
func repairSegment(dir string, s SegmentInfo, newest bool) (*Repair, int64, error) {
	name := filepath.Join(dir, segmentName(s.Index))
	f, err := os.OpenFile(name, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open segment %s: %w", segmentName(s.Index), err)
	}
	defer f.Close()
	end, bad, err := scanRecords(f, s.Size, nil)
	if err != nil {
		return nil, 0, fmt.Errorf("check segment %s: %w", segmentName(s.Index), err)
	}
	var r *Repair
	if bad != "" {
		if err := f.Truncate(end); err != nil {
			return nil, 0, fmt.Errorf("truncate segment %s: %w", segmentName(s.Index), err)
		}
		r = &Repair{Segment: s.Index, Offset: end, BytesCut: s.Size - end, Reason: bad, Tail: newest}
	}
	if r != nil || newest {
		if err := f.Sync(); err != nil {
			return nil, 0, fmt.Errorf("fsync segment %s: %w", segmentName(s.Index), err)
		}
	}
	return r, end, nil
}
