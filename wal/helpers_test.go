package wal

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var errInjected = errors.New("injected fault")

// faults injects write and fsync failures into the files a WAL creates, like
// Prometheus's faultySegmentFile. Arm it after Open to fail a later write.
type faults struct {
	mu sync.Mutex
	// only limits the faults to files whose name starts with it; "" means all.
	only string
	// budget is how many more bytes may be written; < 0 means no limit. The
	// write that passes it writes what fits and then fails.
	budget int64
	// short makes that write return a short count and a nil error, instead
	// of errInjected.
	short bool
	// writeErr, if not nil, is the error of the write that passes the
	// budget, instead of errInjected.
	writeErr error
	// syncErr, if not nil, is returned by Sync, which then syncs nothing.
	syncErr error
}

func newFaults() *faults { return &faults{budget: -1} }

func (fs *faults) set(fn func(fs *faults)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fn(fs)
}

func (fs *faults) create(name string) (file, error) {
	f, err := createFile(name)
	if err != nil {
		return nil, err
	}
	return &faultyFile{file: f, fs: fs, name: filepath.Base(name)}, nil
}

type faultyFile struct {
	file
	fs   *faults
	name string
}

func (f *faultyFile) applies() bool { return strings.HasPrefix(f.name, f.fs.only) }

func (f *faultyFile) Write(p []byte) (int, error) {
	fs := f.fs
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if !f.applies() || fs.budget < 0 {
		return f.file.Write(p)
	}
	if int64(len(p)) <= fs.budget {
		fs.budget -= int64(len(p))
		return f.file.Write(p)
	}
	n, err := f.file.Write(p[:fs.budget]) // the bytes that fit do reach the file
	fs.budget = 0
	if err != nil {
		return n, err
	}
	if fs.short {
		return n, nil
	}
	if fs.writeErr != nil {
		return n, fs.writeErr
	}
	return n, errInjected
}

func (f *faultyFile) Sync() error {
	f.fs.mu.Lock()
	err := f.fs.syncErr
	f.fs.mu.Unlock()
	if err != nil && f.applies() {
		return err
	}
	return f.file.Sync()
}

// openT opens a WAL in dir and closes it at the end of the test.
func openT(t testing.TB, dir string, opts Options) *WAL {
	t.Helper()
	w, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = w.Close() })
	return w
}

// makeRecords returns n records of pseudo-random sizes in [1, maxSize] whose
// bytes are derived from seed, so that every record is distinct.
func makeRecords(seed uint64, n, maxSize int) [][]byte {
	rng := rand.New(rand.NewPCG(seed, 1))
	recs := make([][]byte, n)
	for i := range recs {
		r := make([]byte, 1+rng.IntN(maxSize))
		for j := range r {
			r[j] = byte(rng.Uint32())
		}
		copy(r, fmt.Sprintf("%d", i))
		recs[i] = r
	}
	return recs
}

// appendSync appends each record on its own and syncs; it returns the
// position after each record.
func appendSync(t testing.TB, w *WAL, recs [][]byte) []Position {
	t.Helper()
	var pos []Position
	for _, r := range recs {
		p, err := w.Append(r)
		if err != nil {
			t.Fatalf("Append: %v", err)
		}
		pos = append(pos, p)
	}
	if err := w.Sync(); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	return pos
}

// readAll reads every durable record from `from` and the position after each.
func readAll(t testing.TB, w *WAL, from Position) ([][]byte, []Position) {
	t.Helper()
	r, err := w.NewReader(from)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	defer r.Close()
	var recs [][]byte
	var pos []Position
	for r.Next() {
		recs = append(recs, bytes.Clone(r.Record()))
		pos = append(pos, r.Position())
	}
	if err := r.Err(); err != nil {
		t.Fatalf("Reader: %v", err)
	}
	return recs, pos
}

// sameRecords fails the test unless got equals want, record for record.
func sameRecords(t testing.TB, got, want [][]byte) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d records; want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Fatalf("record %d: got %d bytes %.20q; want %d bytes %.20q", i, len(got[i]), got[i], len(want[i]), want[i])
		}
	}
}

// dirFiles lists the names in dir.
func dirFiles(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// segmentPath returns the file of segment i.
func segmentPath(dir string, i uint64) string { return filepath.Join(dir, segmentName(i)) }
