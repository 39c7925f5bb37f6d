package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
)

// The rewrite marker is the commit point of a Rewrite. The file "rewrite"
// holds big-endian uint64s: from and to (the replaced range), first and count
// (the new segments first..first+count-1, written as NAME.tmp), n, then for
// each of the n replaced segments its number, size, and the positions in the
// new segments before and after the records kept from it (segment, offset
// each); then the CRC-32C of all that. It is written as rewrite.tmp, fsynced
// and renamed. Without it, *.tmp files are an unfinished Rewrite and Open
// deletes them; with it, Open finishes the Rewrite: renames the new segments
// into place, moves the cursors that point into the range, removes the old
// segments, then the marker. Every step can be repeated after a crash.
const markerName = "rewrite"

// segmentMap tells where the records of one replaced segment went.
type segmentMap struct {
	index      uint64
	size       int64
	start, end Position // in the new segments, before and after its records
}

type rewriteMarker struct {
	from, to, first, count uint64
	inputs                 []segmentMap
}

// mapPosition moves a position inside the replaced range to the new
// segments: the end of a replaced segment to just after the records kept
// from it, any other position in it to just before them, so that a consumer
// resuming there may see that segment's records again but never misses one.
func (m *rewriteMarker) mapPosition(p Position) Position {
	for _, in := range m.inputs {
		switch {
		case p.Segment < in.index || p.Segment == in.index && p.Offset < in.size:
			return in.start
		case p.Segment == in.index:
			return in.end
		}
	}
	if len(m.inputs) == 0 {
		return Position{Segment: m.first}
	}
	return m.inputs[len(m.inputs)-1].end
}

func (m *rewriteMarker) encode() []byte {
	b := make([]byte, 0, 40+48*len(m.inputs)+4)
	for _, v := range []uint64{m.from, m.to, m.first, m.count, uint64(len(m.inputs))} {
		b = binary.BigEndian.AppendUint64(b, v)
	}
	for _, in := range m.inputs {
		for _, v := range []uint64{in.index, uint64(in.size), in.start.Segment, uint64(in.start.Offset), in.end.Segment, uint64(in.end.Offset)} {
			b = binary.BigEndian.AppendUint64(b, v)
		}
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeMarker(b []byte) (rewriteMarker, error) {
	var m rewriteMarker
	if len(b) < 44 || crc32.Checksum(b[:len(b)-4], castagnoli) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return m, errors.New("checksum mismatch")
	}
	u := func(i int) uint64 { return binary.BigEndian.Uint64(b[8*i:]) }
	m.from, m.to, m.first, m.count = u(0), u(1), u(2), u(3)
	if n := u(4); uint64(len(b)) != 44+48*n {
		return m, fmt.Errorf("%d bytes for %d segments", len(b), n)
	}
	for i := 5; i+6 <= (len(b)-4)/8; i += 6 {
		m.inputs = append(m.inputs, segmentMap{
			index: u(i), size: int64(u(i + 1)),
			start: Position{Segment: u(i + 2), Offset: int64(u(i + 3))},
			end:   Position{Segment: u(i + 4), Offset: int64(u(i + 5))},
		})
	}
	return m, nil
}

// writeMarker durably creates the rewrite marker.
func (w *WAL) writeMarker(m *rewriteMarker) error {
	if err := writeFileAtomic(w.opts.create, filepath.Join(w.dir, markerName), m.encode()); err != nil {
		return fmt.Errorf("write rewrite marker: %w", err)
	}
	return syncDir(w.dir)
}

// recoverRewrite finishes a Rewrite whose marker exists. It reports whether it
// found one.
func recoverRewrite(dir string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, markerName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read rewrite marker: %w", err)
	}
	m, err := decodeMarker(b)
	if err != nil {
		return false, fmt.Errorf("rewrite marker %s is corrupt (%w): cannot tell the old segments from the new",
			filepath.Join(dir, markerName), err)
	}
	return true, rollForward(dir, &m, createFile, nil)
}

// errHook wraps the error of a test hook, so that rollForward's caller can
// tell a simulated crash from a real failure.
var errHook = errors.New("hook")

// rollForward renames the new segments of a committed Rewrite into place,
// moves the cursors inside the range, removes the old segments and then the
// marker, fsyncing the directory after each step.
func rollForward(dir string, m *rewriteMarker, create func(string) (file, error), hook func(string) error) error {
	for n := m.first; n < m.first+m.count; n++ {
		final := filepath.Join(dir, segmentName(n))
		if err := os.Rename(final+tmpSuffix, final); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("rename segment %s: %w", segmentName(n), err)
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if hook != nil {
		if err := hook("renamed"); err != nil {
			return fmt.Errorf("%w: %w", errHook, err)
		}
	}
	if err := remapCursors(dir, m, create); err != nil {
		return err
	}
	segs, err := listSegments(dir)
	if err != nil {
		return err
	}
	for _, s := range segs {
		if s.Index < m.from || s.Index > m.to {
			continue
		}
		if err := os.Remove(filepath.Join(dir, segmentName(s.Index))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove segment %s: %w", segmentName(s.Index), err)
		}
	}
	if err := syncDir(dir); err != nil {
		return err
	}
	if hook != nil {
		if err := hook("removed"); err != nil {
			return fmt.Errorf("%w: %w", errHook, err)
		}
	}
	if err := os.Remove(filepath.Join(dir, markerName)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove rewrite marker: %w", err)
	}
	return syncDir(dir)
}

// remapCursors moves every cursor inside the replaced range to the new
// segments. A moved cursor points past the range, so repeating it is a no-op.
// Unreadable cursors are left for LoadCursor to report.
func remapCursors(dir string, m *rewriteMarker, create func(string) (file, error)) error {
	names, err := cursorNames(dir)
	if err != nil {
		return err
	}
	moved := false
	for _, name := range names {
		p, ok, err := readCursorFile(dir, name)
		if err != nil || !ok || p.Segment < m.from || p.Segment > m.to {
			continue
		}
		if err := writeCursorFile(create, dir, name, m.mapPosition(p)); err != nil {
			return fmt.Errorf("move cursor %s: %w", name, err)
		}
		moved = true
	}
	if moved {
		return syncDir(dir)
	}
	return nil
}
