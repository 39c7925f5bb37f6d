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
	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/series"
)

// Sender stores one encoded write request; *Client is the real one.
type Sender interface {
	Store(ctx context.Context, body []byte) error
}

// QueueConfig tunes a Queue.
type QueueConfig struct {
	// Shards is the number of parallel senders.
	Shards int
	// MaxSamplesPerSend caps the samples of one request.
	MaxSamplesPerSend int
	// Capacity is the number of samples each shard buffers before WriteBatch blocks.
	Capacity int
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff, MaxBackoff time.Duration
}

// DefaultQueueConfig is used for zero fields of a QueueConfig.
var DefaultQueueConfig = QueueConfig{
	Shards:            4,
	MaxSamplesPerSend: 2000,
	Capacity:          20000,
	MinBackoff:        50 * time.Millisecond,
	MaxBackoff:        5 * time.Second,
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
	shards  []*shard
	seed    maphash.Seed
	limiter *logLimiter
}

type shard struct {
	ch  chan []series.Sample
	enc *encoder

	mu       sync.Mutex
	cond     *sync.Cond
	accepted int64 // samples handed to this shard
	finished int64 // samples sent or dropped
}

// NewQueue returns a queue that sends through sender. Run starts it.
func NewQueue(cfg QueueConfig, sender Sender, reg prometheus.Registerer, logger *slog.Logger) *Queue {
	cfg = withDefaults(cfg)
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	q := &Queue{
		cfg:     cfg,
		sender:  sender,
		logger:  logger,
		metrics: newQueueMetrics(reg),
		seed:    maphash.MakeSeed(),
		limiter: newLogLimiter(10 * time.Second),
	}
	// Channel slots hold sub-batches; the capacity in samples is enforced by
	// counting below, the slots only bound the number of pieces.
	for range cfg.Shards {
		s := &shard{ch: make(chan []series.Sample, 64), enc: newEncoder()}
		s.cond = sync.NewCond(&s.mu)
		q.shards = append(q.shards, s)
	}
	return q
}

func withDefaults(c QueueConfig) QueueConfig {
	d := DefaultQueueConfig
	if c.Shards <= 0 {
		c.Shards = d.Shards
	}
	if c.MaxSamplesPerSend <= 0 {
		c.MaxSamplesPerSend = d.MaxSamplesPerSend
	}
	if c.Capacity <= 0 {
		c.Capacity = d.Capacity
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = d.MinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	return c
}

// WriteBatch spreads batch over the shards by series. It blocks while a shard
// is full, until ctx is done.
func (q *Queue) WriteBatch(ctx context.Context, batch []series.Sample) error {
	parts := make([][]series.Sample, len(q.shards))
	for _, s := range batch {
		i := q.shardOf(s.Labels)
		parts[i] = append(parts[i], s)
	}
	for i, p := range parts {
		if len(p) == 0 {
			continue
		}
		sh := q.shards[i]
		sh.mu.Lock()
		sh.accepted += int64(len(p))
		sh.mu.Unlock()
		q.metrics.pending.Add(float64(len(p)))
		select {
		case sh.ch <- p:
		case <-ctx.Done():
			q.finish(sh, len(p))
			q.metrics.pending.Sub(float64(len(p)))
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(p)))
			return ctx.Err()
		}
	}
	return nil
}

func (q *Queue) shardOf(ls series.Labels) int {
	if len(q.shards) == 1 {
		return 0
	}
	var h maphash.Hash
	h.SetSeed(q.seed)
	ls.Hash(&h)
	return int(h.Sum64() % uint64(len(q.shards)))
}

// Flush blocks until every sample accepted before the call has been sent or
// dropped, or ctx is done.
func (q *Queue) Flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		for _, sh := range q.shards {
			sh.mu.Lock()
			sh.cond.Broadcast()
			sh.mu.Unlock()
		}
	})
	defer stop()
	for _, sh := range q.shards {
		sh.mu.Lock()
		target := sh.accepted
		for sh.finished < target && ctx.Err() == nil {
			sh.cond.Wait()
		}
		sh.mu.Unlock()
	}
	return ctx.Err()
}

func (q *Queue) finish(sh *shard, n int) {
	sh.mu.Lock()
	sh.finished += int64(n)
	sh.cond.Broadcast()
	sh.mu.Unlock()
}

// Run sends until ctx is done, then returns once every shard has stopped. A
// request in flight when ctx ends is aborted and its samples counted as dropped.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sh := range q.shards {
		wg.Go(func() { q.runShard(ctx, sh) })
	}
	wg.Wait()
	return nil
}

func (q *Queue) runShard(ctx context.Context, sh *shard) {
	var buf []series.Sample
	for {
		if len(buf) == 0 {
			select {
			case <-ctx.Done():
				return
			case p := <-sh.ch:
				buf = p
			}
		}
	fill:
		for len(buf) < q.cfg.MaxSamplesPerSend {
			select {
			case p := <-sh.ch:
				buf = append(buf, p...)
			default:
				break fill
			}
		}
		n := min(len(buf), q.cfg.MaxSamplesPerSend)
		q.send(ctx, sh, buf[:n])
		q.metrics.pending.Sub(float64(n))
		q.finish(sh, n)
		buf = buf[n:]
		if len(buf) == 0 {
			buf = nil
		}
	}
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
		q.metrics.sendDuration.Observe(time.Since(start).Seconds())
		if err == nil {
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

// Mark is the queue's progress at one moment: per shard, the samples accepted
// so far.
type Mark []int64

// Mark returns the current progress; Reached(m) later reports whether every
// sample accepted before the call has been sent or dropped.
func (q *Queue) Mark() Mark {
	m := make(Mark, len(q.shards))
	for i, sh := range q.shards {
		sh.mu.Lock()
		m[i] = sh.accepted
		sh.mu.Unlock()
	}
	return m
}

// Reached reports whether every sample accepted before m was taken has been
// sent or dropped.
func (q *Queue) Reached(m Mark) bool {
	for i, sh := range q.shards {
		sh.mu.Lock()
		done := sh.finished >= m[i]
		sh.mu.Unlock()
		if !done {
			return false
		}
	}
	return true
}
