package wal

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	dir := t.TempDir()
	w := openT(t, dir, Options{})
	if _, ok, err := w.LoadCursor("remote-1"); ok || err != nil {
		t.Fatalf("LoadCursor of a new consumer: %v, %v; want none", ok, err)
	}
	for _, p := range []Position{{}, {Segment: 1 << 16, Offset: 12345}, {Segment: ^uint64(0), Offset: 1<<63 - 1}} {
		if err := w.SaveCursor("remote-1", p); err != nil {
			t.Fatal(err)
		}
		got, ok, err := w.LoadCursor("remote-1")
		if !ok || err != nil || got != p {
			t.Fatalf("LoadCursor = %v, %v, %v; want %v", got, ok, err, p)
		}
	}
	want := Position{Segment: 3 << 16, Offset: 99}
	if err := w.SaveCursor("Remote_2", want); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w = openT(t, dir, Options{})
	if got, ok, err := w.LoadCursor("Remote_2"); !ok || err != nil || got != want {
		t.Fatalf("after reopen: %v, %v, %v; want %v", got, ok, err, want)
	}
	for _, name := range []string{"", "a/b", "../x", "x.tmp", "ü", strings.Repeat("x", 129)} {
		if err := w.SaveCursor(name, want); err == nil {
			t.Fatalf("SaveCursor accepted the name %q", name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, cursorPrefix+"bad"), []byte("not a cursor"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := w.LoadCursor("bad"); err == nil {
		t.Fatal("LoadCursor of a corrupt file succeeded")
	}
	w.Close()
	if err := w.SaveCursor("late", want); !errors.Is(err, ErrClosed) {
		t.Fatalf("SaveCursor after Close: %v; want ErrClosed", err)
	}
}

func TestCursorTornTempFile(t *testing.T) {
	good := Position{Segment: 1 << 16, Offset: 42}
	for _, tc := range []struct {
		name string
		arm  func(fs *faults)
	}{
		{"short write", func(fs *faults) { fs.budget, fs.short = 7, true }},
		{"write error", func(fs *faults) { fs.budget = 3 }},
		{"fsync error", func(fs *faults) { fs.syncErr = errInjected }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			fs := newFaults()
			fs.only = cursorPrefix
			w := openT(t, dir, Options{create: fs.create})
			if err := w.SaveCursor("c", good); err != nil {
				t.Fatal(err)
			}
			fs.set(tc.arm)
			if err := w.SaveCursor("c", Position{Segment: 9 << 16, Offset: 9}); err == nil {
				t.Fatal("SaveCursor succeeded despite the fault")
			}
			if got, ok, err := w.LoadCursor("c"); !ok || err != nil || got != good {
				t.Fatalf("LoadCursor = %v, %v, %v; want the old %v", got, ok, err, good)
			}
			for _, name := range dirFiles(t, dir) {
				if strings.HasSuffix(name, tmpSuffix) {
					t.Fatalf("failed SaveCursor left %s", name)
				}
			}
			// The WAL itself is unaffected.
			appendSync(t, w, [][]byte{[]byte("x")})
		})
	}
	t.Run("crash left a torn temp file", func(t *testing.T) {
		dir := t.TempDir()
		w := openT(t, dir, Options{})
		if err := w.SaveCursor("c", good); err != nil {
			t.Fatal(err)
		}
		tmp := filepath.Join(dir, cursorPrefix+"c"+tmpSuffix)
		if err := os.WriteFile(tmp, []byte{1, 2, 3}, 0o644); err != nil {
			t.Fatal(err)
		}
		if got, ok, err := w.LoadCursor("c"); !ok || err != nil || got != good {
			t.Fatalf("LoadCursor = %v, %v, %v; want %v", got, ok, err, good)
		}
		w.Close()
		w = openT(t, dir, Options{})
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Fatalf("Open kept the torn temp file: %v", err)
		}
		if got, ok, err := w.LoadCursor("c"); !ok || err != nil || got != good {
			t.Fatalf("after reopen: %v, %v, %v; want %v", got, ok, err, good)
		}
		next := Position{Segment: 2 << 16}
		if err := w.SaveCursor("c", next); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := w.LoadCursor("c"); got != next {
			t.Fatalf("LoadCursor = %v; want %v", got, next)
		}
	})
}
