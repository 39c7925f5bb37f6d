//go:build !linux

package remotewrite

import (
	"testing"
	"time"
)

// threadCPUTime returns the wall clock where a thread's CPU time is not at
// hand.
func threadCPUTime(*testing.B) int64 { return time.Now().UnixNano() }
