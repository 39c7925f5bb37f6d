//go:build !unix

package wal

import (
	"errors"
	"os"
)

// lockDir is not implemented off Unix: the agent runs on Linux.
func lockDir(string) (*os.File, error) {
	return nil, errors.New("wal: directory locking needs a Unix system")
}
