package wal

import (
	"fmt"
	"testing"
)

// BenchmarkAppend appends records and Syncs every `sync` appends, as the
// agent does per flush (group commit). MB/s counts payload bytes.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		for _, every := range []int{1, 16, 256} {
			b.Run(fmt.Sprintf("record=%dKiB/sync=%d", size>>10, every), func(b *testing.B) {
				w := openT(b, b.TempDir(), Options{})
				rec := makeRecords(12, 1, 1)[0]
				rec = append(rec, make([]byte, size-len(rec))...)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				n := 0
				for b.Loop() {
					if _, err := w.Append(rec); err != nil {
						b.Fatal(err)
					}
					if n++; n%every == 0 {
						if err := w.Sync(); err != nil {
							b.Fatal(err)
						}
					}
					if w.Size() > 1<<30 { // bound the disk used by long runs
						b.StopTimer()
						if err := w.Sync(); err != nil {
							b.Fatal(err)
						}
						if err := w.TruncateBefore(w.Durable()); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
				}
				if err := w.Sync(); err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "records/s")
			})
		}
	}
}

// BenchmarkReplay reads a 64 MiB WAL from the start, as the agent does on
// start to send its backlog (CRC checks included; the data is in the page
// cache).
func BenchmarkReplay(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("record=%dKiB", size>>10), func(b *testing.B) {
			w := openT(b, b.TempDir(), Options{})
			rec := make([]byte, size)
			total := 64 << 20
			for range total / size {
				if _, err := w.Append(rec); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Sync(); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			records := 0
			for b.Loop() {
				r, err := w.NewReader(Position{})
				if err != nil {
					b.Fatal(err)
				}
				n := 0
				for r.Next() {
					n++
				}
				if r.Err() != nil || n != total/size {
					b.Fatalf("read %d records, %v; want %d", n, r.Err(), total/size)
				}
				r.Close()
				records += n
			}
			b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
		})
	}
}

// BenchmarkOpen opens a 64 MiB WAL of 1 KiB records: Open checks every
// record before it returns.
func BenchmarkOpen(b *testing.B) {
	dir := b.TempDir()
	w := openT(b, dir, Options{})
	rec := make([]byte, 1<<10)
	const total = 64 << 20
	for range total / len(rec) {
		if _, err := w.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		w, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
