package wal

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
)

// A full device refuses the write of a Sync without failing the WAL: the
// records stay buffered, the segment keeps only whole records, and a Sync
// once there is space makes them durable, in order.
func TestNoSpace(t *testing.T) {
	for _, budget := range []int64{0, 1500} {
		for _, roll := range []bool{false, true} {
			t.Run(fmt.Sprintf("budget=%d roll=%v", budget, roll), func(t *testing.T) {
				dir := t.TempDir()
				fs := newFaults()
				opts := Options{create: fs.create, SegmentSize: 1 << 20}
				if roll {
					opts.SegmentSize = 3000
				}
				w, err := Open(dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				synced := makeRecords(4, 10, 200)
				appendSync(t, w, synced)
				durable := w.Durable()
				fs.set(func(fs *faults) { fs.budget, fs.writeErr = budget, syscall.ENOSPC })

				unsynced := makeRecords(5, 30, 200)
				for _, r := range unsynced {
					if _, err := w.Append(r); err != nil {
						t.Fatalf("Append with the device full: %v", err)
					}
				}
				for range 2 {
					if err := w.Sync(); !errors.Is(err, ErrNoSpace) || errors.Is(err, ErrFailed) {
						t.Fatalf("Sync with the device full: %v; want ErrNoSpace, not ErrFailed", err)
					}
				}
				if d := w.Durable(); d != durable {
					t.Fatalf("Durable moved from %v to %v with the device full", durable, d)
				}
				got, _ := readAll(t, w, Position{})
				sameRecords(t, got, synced)

				fs.set(func(fs *faults) { fs.budget = -1 }) // space again
				if err := w.Sync(); err != nil {
					t.Fatalf("Sync once there is space: %v", err)
				}
				all := append(append([][]byte{}, synced...), unsynced...)
				got, _ = readAll(t, w, Position{})
				sameRecords(t, got, all)
				if err := w.Close(); err != nil {
					t.Fatal(err)
				}
				w = openT(t, dir, Options{})
				if r := w.Repairs(); len(r) != 0 {
					t.Errorf("reopened with repairs: %+v", r)
				}
				got, _ = readAll(t, w, Position{})
				sameRecords(t, got, all)
			})
		}
	}
}
