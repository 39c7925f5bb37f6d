package remotewrite

import (
	"syscall"
	"testing"
)

// threadCPUTime returns the user and system CPU time of the calling thread
// so far, in nanoseconds (the caller locks its goroutine to the thread): on a
// shared machine, the time a benchmark waits for a core counts in its ns/op
// but not here, nor does the work of other threads (the garbage collector's).
func threadCPUTime(b *testing.B) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		b.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
