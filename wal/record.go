package wal

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// Record framing. A record is a 9-byte header followed by its payload:
//
//	byte  0    type and flags: recordData (0x01); every other value is invalid,
//	           so zeroed or garbage bytes never pass as a header
//	bytes 1-4  payload length, uint32 big-endian, 1..maxRecordLimit
//	bytes 5-8  CRC-32C (Castagnoli) of the payload, uint32 big-endian
//
// There is no file header and no padding: a segment is records back to back.
const (
	headerSize = 9
	recordData = 0x01
	// maxRecordLimit is the largest payload the format allows. Readers treat a
	// longer length as corruption, whatever Options.MaxRecordSize was, so that
	// lowering the option never makes existing records unreadable.
	maxRecordLimit = 256 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Errors returned by the WAL; test for them with errors.Is.
var (
	// ErrFailed marks every error of a WAL whose write path failed (a write,
	// fsync or segment creation error). The WAL then refuses Append and Sync:
	// close it and Open the directory again.
	ErrFailed = errors.New("wal failed, close and reopen it")
	// ErrNoSpace is returned by Sync (and Close) when the device is full: the
	// records appended since the last good Sync stay buffered, the segment
	// keeps only whole records, and the WAL stays usable: a later Sync writes
	// them once there is space again. It does not fail the WAL.
	ErrNoSpace = errors.New("wal: no space left on device")
	// ErrClosed is returned by methods of a closed WAL and by its Readers.
	ErrClosed = errors.New("wal closed")
	// ErrLocked is returned by Open when another process or WAL holds the
	// directory.
	ErrLocked = errors.New("wal directory locked")
	// ErrRecordSize is returned by Append for an empty record or one larger
	// than Options.MaxRecordSize; nothing is appended.
	ErrRecordSize = errors.New("bad record size")
	// ErrBusy is returned by Rewrite when an open Reader is inside the range.
	ErrBusy = errors.New("segment range in use by a reader")
)

// Position is a place in the WAL: a segment number and a byte offset in it.
// Positions returned by Append and Reader.Position are just after a record;
// they order the records (Compare), also across Rewrite and TruncateBefore.
type Position struct {
	// Segment is the segment number, as in the file name.
	Segment uint64
	// Offset is the byte offset in the segment.
	Offset int64
}

// Compare returns -1, 0 or +1 as p is before, equal to or after q.
func (p Position) Compare(q Position) int {
	if c := cmp.Compare(p.Segment, q.Segment); c != 0 {
		return c
	}
	return cmp.Compare(p.Offset, q.Offset)
}

// String formats p as segment:offset, the segment as its file name.
func (p Position) String() string {
	return fmt.Sprintf("%s:%d", segmentName(p.Segment), p.Offset)
}

// CorruptionError reports a record that failed its checks: a torn or invalid
// header, a length out of range, a payload cut short or a CRC mismatch.
type CorruptionError struct {
	// Segment and Offset locate the bad record's header.
	Segment uint64
	Offset  int64
	// Reason says which check failed.
	Reason string
}

// Error implements error.
func (e *CorruptionError) Error() string {
	return fmt.Sprintf("corrupt record in segment %s at offset %d: %s", segmentName(e.Segment), e.Offset, e.Reason)
}

// appendRecord appends the framed payload to dst.
func appendRecord(dst, payload []byte) []byte {
	var h [headerSize]byte
	h[0] = recordData
	binary.BigEndian.PutUint32(h[1:5], uint32(len(payload)))
	binary.BigEndian.PutUint32(h[5:9], crc32.Checksum(payload, castagnoli))
	dst = append(dst, h[:]...)
	return append(dst, payload...)
}

// parseHeader checks a header and returns the payload length and CRC, or the
// reason it is invalid.
func parseHeader(h []byte) (length int64, sum uint32, bad string) {
	if h[0] != recordData {
		return 0, 0, fmt.Sprintf("invalid type byte %#02x", h[0])
	}
	length = int64(binary.BigEndian.Uint32(h[1:5]))
	if length == 0 || length > maxRecordLimit {
		return 0, 0, fmt.Sprintf("invalid length %d", length)
	}
	return length, binary.BigEndian.Uint32(h[5:9]), ""
}

// scanRecords reads the records of a segment of the given size, calling fn (if
// not nil) with each valid payload; the slice is reused after fn returns. It
// stops at the first invalid record and returns the offset where valid data
// ends and, if it stopped early, why. err is an I/O error or fn's.
func scanRecords(r io.Reader, size int64, fn func(rec []byte) error) (end int64, bad string, err error) {
	br := bufio.NewReaderSize(r, 1<<20)
	var h [headerSize]byte
	var buf []byte
	for end < size {
		if size-end < headerSize {
			return end, fmt.Sprintf("torn header: %d of %d bytes", size-end, headerSize), nil
		}
		if _, err := io.ReadFull(br, h[:]); err != nil {
			return end, "", fmt.Errorf("read header at %d: %w", end, err)
		}
		length, sum, reason := parseHeader(h[:])
		if reason != "" {
			return end, reason, nil
		}
		if rest := size - end - headerSize; length > rest {
			return end, fmt.Sprintf("torn record: length %d, %d bytes left", length, rest), nil
		}
		if int64(cap(buf)) < length {
			buf = make([]byte, length)
		}
		buf = buf[:length]
		if _, err := io.ReadFull(br, buf); err != nil {
			return end, "", fmt.Errorf("read record at %d: %w", end, err)
		}
		if crc32.Checksum(buf, castagnoli) != sum {
			return end, "checksum mismatch", nil
		}
		if fn != nil {
			if err := fn(buf); err != nil {
				return end, "", err
			}
		}
		end += headerSize + length
	}
	return end, "", nil
}
