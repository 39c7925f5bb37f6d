package remotewrite

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/series"
)

// Sender stores one encoded write request holding msg; *Client is the real
// one. It returns what a 2.0 receiver reported as written, and the errors
// Client.Store documents.
type Sender interface {
	Store(ctx context.Context, body []byte, msg ProtobufMessage) (WriteStats, error)
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
	// ProtobufMessage is the message sent: MessageV1 (also for "") or
	// MessageV2. With MessageV2, a receiver that answers 415, or 2xx without
	// the Written headers, makes the queue send the same samples again as 1.0
	// and keep to 1.0 for the rest of the process.
	ProtobufMessage ProtobufMessage
	// Metadata returns a family's type, help and unit. With 2.0 it goes with
	// every series; with 1.0 in separate requests (see MetadataSendInterval).
	// Nil sends no metadata.
	Metadata MetadataFunc
	// MetadataSendInterval is how often, with 1.0, the metadata of every family
	// sent so far is sent again (Prometheus's metadata_config.send_interval);
	// a family is also sent as soon as its first samples are. Negative sends no
	// 1.0 metadata (metadata_config.send: false); 2.0 still carries it.
	MetadataSendInterval time.Duration
	// MaxMetadataPerSend caps the families of one 1.0 metadata request
	// (metadata_config.max_samples_per_send).
	MaxMetadataPerSend int
}

// DefaultQueueConfig is used for zero fields of a QueueConfig.
var DefaultQueueConfig = QueueConfig{
	Shards:               4,
	MaxSamplesPerSend:    2000,
	Capacity:             20000,
	MinBackoff:           50 * time.Millisecond,
	MaxBackoff:           5 * time.Second,
	ProtobufMessage:      MessageV1,
	MetadataSendInterval: time.Minute,
	MaxMetadataPerSend:   2000,
}

// Queue sends samples through parallel shards. A series always goes through the
// same shard and each shard sends in order, retrying a failed request until it
// succeeds, is refused for good (4xx), or the queue stops, so per series the
// receiver sees samples in the order given, also across a fallback from 2.0
// to 1.0 (the request is sent again as 1.0 before the shard goes on).
type Queue struct {
	cfg      QueueConfig
	sender   Sender
	logger   *slog.Logger
	metrics  *queueMetrics
	shards   []*shard
	seed     maphash.Seed
	limiter  *logLimiter
	fellBack atomic.Bool
	families *familySet // nil when no 1.0 metadata is sent
}

type shard struct {
	ch   chan []series.Sample
	enc  *encoder
	enc2 *encoderV2 // nil unless 2.0 is configured
	// seen and lastName are the families this shard has reported to
	// Queue.families; only the shard goroutine uses them.
	seen     map[string]struct{}
	lastName string

	mu       sync.Mutex
	cond     *sync.Cond
	accepted int64 // samples handed to this shard
	finished int64 // samples sent or dropped
}

// NewQueue returns a queue that sends through sender. Run starts it.
func NewQueue(cfg QueueConfig, sender Sender, reg prometheus.Registerer, logger *slog.Logger) *Queue {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := cfg.ProtobufMessage.Validate(); err != nil {
		logger.Error("Sending Remote-Write 1.0", "err", err)
		cfg.ProtobufMessage = MessageV1
	}
	cfg = withDefaults(cfg)
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
		s := &shard{ch: make(chan []series.Sample, 64), enc: newEncoder(), seen: map[string]struct{}{}}
		if cfg.ProtobufMessage == MessageV2 {
			s.enc2 = newEncoderV2(cfg.Metadata)
		}
		s.cond = sync.NewCond(&s.mu)
		q.shards = append(q.shards, s)
	}
	if cfg.Metadata != nil && cfg.MetadataSendInterval > 0 {
		q.families = newFamilySet()
	}
	q.metrics.setMessage(cfg.ProtobufMessage)
	return q
}

// ProtobufMessage returns the message the queue sends now: the configured one,
// or MessageV1 after a fallback.
func (q *Queue) ProtobufMessage() ProtobufMessage {
	if q.cfg.ProtobufMessage == MessageV2 && !q.fellBack.Load() {
		return MessageV2
	}
	return MessageV1
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
	if c.ProtobufMessage == "" {
		c.ProtobufMessage = d.ProtobufMessage
	}
	if c.MetadataSendInterval == 0 {
		c.MetadataSendInterval = d.MetadataSendInterval
	}
	if c.MaxMetadataPerSend <= 0 {
		c.MaxMetadataPerSend = d.MaxMetadataPerSend
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

// Run sends until ctx is done, then returns once every shard (and the 1.0
// metadata sender) has stopped. A request in flight when ctx ends is aborted
// and its samples counted as dropped.
func (q *Queue) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, sh := range q.shards {
		wg.Go(func() { q.runShard(ctx, sh) })
	}
	if q.families != nil {
		wg.Go(func() { q.runMetadata(ctx) })
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
