package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/kube-state-push/kube-state-push/series"
)

// Sender stores one encoded write request; *Client is the real one.
type Sender interface {
	Store(ctx context.Context, body []byte) error
}

// QueueConfig tunes a Queue.
type QueueConfig struct {
	// MinShards and MaxShards bound the number of parallel senders; the queue
	// starts at MinShards and adapts to throughput and backlog.
	MinShards, MaxShards int
	// MaxSamplesPerSend caps the samples of one request.
	MaxSamplesPerSend int
	// Capacity is the number of samples each shard buffers before WriteBatch blocks.
	Capacity int
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff, MaxBackoff time.Duration
	// ReshardInterval is how often the shard count is reconsidered.
	ReshardInterval time.Duration
	// Transform, when set, rewrites each sample's labels before it is queued
	// (external labels, write_relabel_configs); keep false drops the sample.
	Transform func(series.Labels) (ls series.Labels, keep bool)
}

// DefaultQueueConfig is used for zero fields of a QueueConfig: Prometheus's
// defaults, but for a larger minimum of shards, as a full resend is a burst.
var DefaultQueueConfig = QueueConfig{
	MinShards:         2,
	MaxShards:         50,
	MaxSamplesPerSend: 2000,
	Capacity:          10000,
	MinBackoff:        30 * time.Millisecond,
	MaxBackoff:        5 * time.Second,
	ReshardInterval:   10 * time.Second,
}

// Queue sends samples through parallel shards. A series always goes through the
// same shard and each shard sends in order, retrying a failed request until it
// succeeds, is refused for good (4xx), or the queue stops, so per series the
// receiver sees samples in the order given.
type Queue struct {
	cfg     QueueConfig
	sender  Sender
	logger  *slog.Logger
	metrics *queueMetrics
	seed    maphash.Seed
	limiter *logLimiter
	stats   sendStats

	// mu guards the shard set: WriteBatch holds it for reading, a reshard for
	// writing while it drains the old shards and starts the new ones.
	mu     sync.RWMutex
	shards []*shard
	epoch  int
}

// send delivers one request's samples, retrying what is worth retrying.
func (q *Queue) send(ctx context.Context, sh *shard, ss []series.Sample) {
	body, err := sh.enc.encode(ss)
	if err != nil {
		q.metrics.samplesDropped.WithLabelValues("encode").Add(float64(len(ss)))
		q.logger.Error("Dropped samples that could not be encoded", "samples", len(ss), "err", err)
		return
	}
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(q.cfg.MinBackoff),
		backoff.WithMaxInterval(q.cfg.MaxBackoff),
		backoff.WithMaxElapsedTime(0),
	)
	for {
		start := time.Now()
		err := q.sender.Store(ctx, body)
		took := time.Since(start)
		q.metrics.sendDuration.Observe(took.Seconds())
		if err == nil {
			q.stats.sent.Add(int64(len(ss)))
			q.stats.sentTime.Add(took.Nanoseconds())
			q.metrics.requests.WithLabelValues("success").Inc()
			q.metrics.samplesSent.Add(float64(len(ss)))
			q.metrics.bytesSent.Add(float64(len(body)))
			now := time.Now().UnixMilli()
			for _, s := range ss {
				q.metrics.lag.Observe(float64(now-s.T) / 1000)
			}
			return
		}
		if ctx.Err() != nil {
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(ss)))
			return
		}
		var rerr *RecoverableError
		if !errors.As(err, &rerr) {
			code := "other"
			var serr *StatusError
			if errors.As(err, &serr) {
				code = fmt.Sprint(serr.Code)
			}
			q.metrics.requests.WithLabelValues("dropped").Inc()
			q.metrics.samplesDropped.WithLabelValues("http_" + code).Add(float64(len(ss)))
			if n, ok := q.limiter.allow("drop"); ok {
				q.logger.Error("Receiver refused samples; dropped them", "samples", len(ss), "err", err, "suppressed", n)
			}
			return
		}
		q.metrics.requests.WithLabelValues("retried").Inc()
		q.stats.failures.Add(1)
		wait := bo.NextBackOff()
		if rerr.RetryAfter > wait {
			wait = rerr.RetryAfter
		}
		if n, ok := q.limiter.allow("retry"); ok {
			q.logger.Warn("Failed to send samples, retrying", "samples", len(ss), "err", err, "backoff", wait, "suppressed", n)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(ss)))
			return
		case <-t.C:
		}
	}
}

// logLimiter lets one log line per key through per interval and counts the rest.
type logLimiter struct {
	mu         sync.Mutex
	interval   time.Duration
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// allow reports whether a line for key may be logged now, and how many were
// suppressed since the last one.
func (l *logLimiter) allow(key string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last[key]) < l.interval {
		l.suppressed[key]++
		return 0, false
	}
	l.last[key] = now
	n := l.suppressed[key]
	l.suppressed[key] = 0
	return n, true
}
