package wal

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// writeFileAtomic replaces the file at path with b so that a crash leaves the
// old content or the new, never a torn file: it writes path+tmpSuffix (made
// with create, which tests wrap to inject faults), fsyncs it and renames it
// over path. The caller fsyncs the directory, as it may replace several files
// first. On error the temporary file is removed and path is untouched.
func writeFileAtomic(create func(string) (file, error), path string, b []byte) error {
	tmp := path + tmpSuffix
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := create(tmp)
	if err == nil {
		var n int
		if n, err = f.Write(b); err == nil && n < len(b) {
			err = io.ErrShortWrite
		}
		if err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
	}
	return err
}
