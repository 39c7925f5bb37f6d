package wal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Cursor files. The cursor of consumer NAME is the file cursor-NAME, 20 bytes:
// the segment (uint64) and offset (int64) of its Position, big-endian, then the
// CRC-32C of those 16 bytes. SaveCursor replaces it atomically.
const (
	cursorPrefix  = "cursor-"
	cursorSize    = 20
	maxCursorName = 128
)

// SaveCursor durably records p as the position consumer name has finished
// with, replacing its previous cursor. It writes a temporary file, fsyncs it,
// renames it over the cursor and fsyncs the directory, so a crash leaves the
// old cursor or the new one, never a torn one; on error the old cursor stays.
// name is 1 to 128 ASCII letters, digits, '-' or '_'; hash a URL into one.
func (w *WAL) SaveCursor(name string, p Position) error {
	if err := checkCursorName(name); err != nil {
		return err
	}
	w.cursorMu.Lock()
	defer w.cursorMu.Unlock()
	w.stateMu.Lock()
	shut := w.shut
	w.stateMu.Unlock()
	if shut {
		return ErrClosed
	}
	if err := writeCursorFile(w.opts.create, w.dir, name, p); err != nil {
		return fmt.Errorf("save cursor %s: %w", name, err)
	}
	if err := syncDir(w.dir); err != nil {
		return fmt.Errorf("save cursor %s: %w", name, err)
	}
	return nil
}

// writeCursorFile replaces the cursor file atomically (writeFileAtomic); the
// caller fsyncs the directory. On error the old cursor is untouched.
func writeCursorFile(create func(string) (file, error), dir, name string, p Position) error {
	var b [cursorSize]byte
	binary.BigEndian.PutUint64(b[0:8], p.Segment)
	binary.BigEndian.PutUint64(b[8:16], uint64(p.Offset))
	binary.BigEndian.PutUint32(b[16:20], crc32.Checksum(b[:16], castagnoli))
	return writeFileAtomic(create, filepath.Join(dir, cursorPrefix+name), b[:])
}

// LoadCursor returns the position last saved for consumer name, and false if
// it has none. A Reader started there returns the records after it.
func (w *WAL) LoadCursor(name string) (Position, bool, error) {
	if err := checkCursorName(name); err != nil {
		return Position{}, false, err
	}
	return readCursorFile(w.dir, name)
}

func readCursorFile(dir, name string) (Position, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, cursorPrefix+name))
	if errors.Is(err, fs.ErrNotExist) {
		return Position{}, false, nil
	}
	if err != nil {
		return Position{}, false, fmt.Errorf("load cursor %s: %w", name, err)
	}
	if len(b) != cursorSize || crc32.Checksum(b[:16], castagnoli) != binary.BigEndian.Uint32(b[16:20]) {
		return Position{}, false, fmt.Errorf("load cursor %s: corrupt file of %d bytes", name, len(b))
	}
	p := Position{Segment: binary.BigEndian.Uint64(b[0:8]), Offset: int64(binary.BigEndian.Uint64(b[8:16]))}
	return p, true, nil
}

// cursorNames lists the consumers that have a cursor in dir.
func cursorNames(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list cursors: %w", err)
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutPrefix(e.Name(), cursorPrefix)
		if ok && checkCursorName(name) == nil {
			names = append(names, name)
		}
	}
	return names, nil
}

func checkCursorName(name string) error {
	ok := name != "" && len(name) <= maxCursorName
	for _, c := range name {
		if !ok {
			break
		}
		ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
	}
	if !ok {
		return fmt.Errorf("invalid cursor name %q", name)
	}
	return nil
}
