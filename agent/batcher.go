package agent

import (
	"context"
	"sync"
	"time"

	"github.com/kube-state-push/kube-state-push/series"
)

// BatchWriter takes batches of samples on towards remote storage: the remote
// write queue, or a write-ahead log in front of it.
type BatchWriter interface {
	// WriteBatch blocks until the batch is accepted or ctx is done. Samples of
	// one series are in increasing time order within and across batches, and the
	// writer must keep that order. The writer owns batch once called.
	WriteBatch(ctx context.Context, batch []series.Sample) error
	// Flush blocks until every batch accepted before the call has been
	// delivered or definitively dropped, or ctx is done.
	Flush(ctx context.Context) error
}

// batcher collects the snapshot's samples and hands them to a BatchWriter at
// least every interval, and at once when a full request's worth is pending.
// Pending samples are bounded: Append blocks (holding back the watches) while
// the limit is reached.
type batcher struct {
	w        BatchWriter
	interval time.Duration
	full     int // samples that make a batch worth sending at once
	limit    int // pending samples at which Append blocks

	mu      sync.Mutex
	notFull *sync.Cond
	pending []series.Sample
	closed  bool
	stopped chan struct{}
	kick    chan struct{}
	flushMu sync.Mutex // serializes hand-offs, keeping batches in order
	// waited is how long Append has waited for room, but the wait under
	// way, which began at since (zero: none). The snapshot appends from
	// one goroutine at a time.
	waited time.Duration
	since  time.Time
}

func newBatcher(w BatchWriter, interval time.Duration, full, limit int) *batcher {
	b := &batcher{
		w: w, interval: interval, full: full, limit: max(limit, full),
		kick: make(chan struct{}, 1), stopped: make(chan struct{}),
	}
	b.notFull = sync.NewCond(&b.mu)
	return b
}

// Append queues samples; see Appender.
func (b *batcher) Append(ss []series.Sample) {
	b.mu.Lock()
	if !b.closed && len(b.pending) > 0 && len(b.pending)+len(ss) > b.limit {
		b.since = time.Now()
		for !b.closed && len(b.pending) > 0 && len(b.pending)+len(ss) > b.limit {
			b.notFull.Wait()
		}
		b.waited += time.Since(b.since)
		b.since = time.Time{}
	}
	b.pending = append(b.pending, ss...)
	n := len(b.pending)
	b.mu.Unlock()
	if n >= b.full {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
}

// Waited returns how long Append has waited for room in all, the wait under
// way included.
func (b *batcher) Waited() time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.since.IsZero() {
		return b.waited
	}
	return b.waited + time.Since(b.since)
}

// Pending returns the number of samples not yet handed to the writer.
func (b *batcher) Pending() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.pending)
}

// Run hands pending samples to the writer until ctx is done or Close is
// called. ctx also bounds each hand-off: cancelling it drops the batch being
// handed over, so it should outlive Close.
func (b *batcher) Run(ctx context.Context) error {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-b.stopped:
			return nil
		case <-t.C:
		case <-b.kick:
		}
		if err := b.flush(ctx); err != nil && ctx.Err() == nil {
			return err
		}
	}
}

// flush hands everything pending to the writer.
func (b *batcher) flush(ctx context.Context) error {
	b.flushMu.Lock()
	defer b.flushMu.Unlock()
	b.mu.Lock()
	batch := b.pending
	b.pending = make([]series.Sample, 0, min(len(batch), b.limit))
	b.notFull.Broadcast()
	b.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	return b.w.WriteBatch(ctx, batch)
}

// Sync hands everything pending to the writer, bounded by writeCtx, and waits
// until it is delivered, bounded by waitCtx.
func (b *batcher) Sync(writeCtx, waitCtx context.Context) error {
	if err := b.flush(writeCtx); err != nil {
		return err
	}
	return b.w.Flush(waitCtx)
}

// Close stops Run and stops Append from blocking: what arrives after Close is
// kept for the final Sync.
func (b *batcher) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return
	}
	b.closed = true
	close(b.stopped)
	b.notFull.Broadcast()
}
