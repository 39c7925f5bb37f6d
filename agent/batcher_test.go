package agent

import (
	"context"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/series"
)

// gateWriter takes batches only while open is closed.
type gateWriter struct {
	open chan struct{}
	got  chan int
}

func (w *gateWriter) WriteBatch(ctx context.Context, batch []series.Sample) error {
	select {
	case <-w.open:
	case <-ctx.Done():
		return ctx.Err()
	}
	w.got <- len(batch)
	return nil
}

func (w *gateWriter) Flush(context.Context) error { return nil }

// Append waits while the limit is pending, never holds more than the limit,
// and counts how long it waited.
func TestBatcherLimitAndWait(t *testing.T) {
	w := &gateWriter{open: make(chan struct{}), got: make(chan int, 100)}
	b := newBatcher(w, 10*time.Millisecond, 10, 30)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = b.Run(ctx) }()

	// The writer holds the first batch; 30 more may wait, the next Append blocks.
	b.Append(make([]series.Sample, 10))
	deadline := time.Now().Add(5 * time.Second)
	for b.Pending() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	for range 3 {
		b.Append(make([]series.Sample, 10))
	}
	if n := b.Pending(); n > 30 {
		t.Fatalf("%d pending, limit 30", n)
	}
	blocked := make(chan struct{})
	go func() {
		b.Append(make([]series.Sample, 10)) // over the limit: waits
		close(blocked)
	}()
	select {
	case <-blocked:
		t.Fatal("Append did not wait at the limit")
	case <-time.After(100 * time.Millisecond):
	}
	if n := b.Pending(); n != 30 {
		t.Errorf("%d pending while full, want 30", n)
	}
	close(w.open)
	select {
	case <-blocked:
	case <-time.After(5 * time.Second):
		t.Fatal("Append still waiting after the writer took batches")
	}
	if d := b.Waited(); d < 100*time.Millisecond {
		t.Errorf("waited %v, want at least the 100ms it was blocked", d)
	}
}
