// Package wal is kube-state-push's write-ahead log: the storage layer that
// keeps batches on disk until every remote endpoint has acknowledged them, so
// that nothing is lost across restarts, crashes and receiver outages. It
// stores opaque records; the agent decides what a record holds, when to Sync
// and what compaction keeps.
//
// # On disk
//
// A WAL is one directory holding:
//
//   - segments, named by their number as 16 zero-padded hex digits. A segment
//     is records back to back, with no file header. A record is a 9-byte header
//     (type byte 0x01; payload length, uint32 big-endian; CRC-32C Castagnoli of
//     the payload, uint32 big-endian) and the payload. A record never straddles
//     segments; one larger than Options.SegmentSize gets a segment of its own.
//     Open and segment rolls number new segments with the next multiple of
//     1<<16; Rewrite numbers its output just after the segments it replaces.
//   - cursor-NAME, one per consumer: a Position and its CRC-32C (SaveCursor).
//   - lock, flocked by the open WAL; it holds the owner's pid, for operators.
//   - transiently: *.tmp files and the "rewrite" marker of a Rewrite.
//
// # Lifecycle
//
// Open locks the directory, finishes or undoes an interrupted Rewrite, checks
// every record and cuts each segment at its first bad record (a torn tail
// after a crash, or corruption; see Repairs), and starts a new segment: it
// never appends to an old one. Append buffers records; Sync makes them
// durable (group commit: one fsync for everything appended since the last
// one) and visible to Readers. A failed write or fsync fails the WAL: Append
// and Sync return ErrFailed until the WAL is closed and opened again, and
// nothing appended after the last good Sync counts as durable. Consumers read
// with a Reader, save their progress with SaveCursor after delivery, and the
// owner reclaims space with TruncateBefore(lowest cursor) and compacts with
// Rewrite. Close syncs and releases the lock.
//
// # Concurrency
//
// Every WAL method is safe for concurrent use. Append and Sync serialize on
// one mutex, held during Sync's fsync, so appends wait for an fsync in
// progress; the intended use is one writer goroutine appending each batch and
// calling Sync per flush. Readers run on other goroutines, one goroutine per
// Reader, and wait for the writer only briefly. Rewrite, TruncateBefore and
// Close run one at a time; Append, Sync, Readers and SaveCursor go on while
// Rewrite reads and writes, and only its final switch (a few renames and
// directory fsyncs) holds them up.
package wal
