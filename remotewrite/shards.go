package remotewrite

import (
	"context"
	"hash/maphash"
	"log/slog"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kube-state-push/kube-state-push/series"
)

// shard sends the samples of the series that hash to it, in order, one
// request at a time.
type shard struct {
	enc  *encoder
	enc2 *encoderV2 // nil unless 2.0 is configured
	// seen and lastName are the families this shard has reported to
	// Queue.families; only the shard goroutine uses them.
	seen     map[string]struct{}
	lastName string

	mu       sync.Mutex
	cond     *sync.Cond
	buf      []series.Sample // accepted, not yet taken for a request
	closed   bool            // no more samples: drain and stop
	accepted int64           // samples handed to this shard
	finished int64           // samples sent or dropped
}

func newShard(cfg QueueConfig) *shard {
	s := &shard{enc: newEncoder(cfg.External), seen: map[string]struct{}{}}
	if cfg.ProtobufMessage == MessageV2 {
		s.enc2 = newEncoderV2(cfg.Metadata, cfg.External)
	}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// sendStats measure throughput for resharding.
type sendStats struct {
	in       atomic.Int64 // samples accepted
	sentTime atomic.Int64 // nanoseconds spent in successful requests
	sent     atomic.Int64 // samples in successful requests
	failures atomic.Int64 // failed attempts
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
	q.labelLimits = newLabelLimiter(cfg.LabelLimits, cfg.External, q.metrics, logger)
	for range cfg.MinShards {
		q.shards = append(q.shards, newShard(cfg))
	}
	if cfg.Metadata != nil && cfg.MetadataSendInterval > 0 {
		q.families = newFamilySet()
	}
	q.metrics.shards.Set(float64(len(q.shards)))
	q.metrics.setMessage(cfg.ProtobufMessage)
	return q
}

func withDefaults(c QueueConfig) QueueConfig {
	d := DefaultQueueConfig
	if c.MinShards <= 0 {
		c.MinShards = d.MinShards
	}
	if c.MaxShards <= 0 {
		c.MaxShards = max(d.MaxShards, c.MinShards)
	}
	c.MaxShards = max(c.MaxShards, c.MinShards)
	if c.ReshardInterval <= 0 {
		c.ReshardInterval = d.ReshardInterval
	}
	if c.MaxSamplesPerSend <= 0 {
		c.MaxSamplesPerSend = d.MaxSamplesPerSend
	}
	if c.Capacity <= 0 {
		c.Capacity = max(d.Capacity, c.MaxSamplesPerSend)
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = d.MinBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = d.MaxBackoff
	}
	c.MaxBackoff = max(c.MaxBackoff, c.MinBackoff)
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

// WriteBatch spreads batch over the shards by series, less the samples of
// series over the LabelLimits. It blocks while a shard is full (Capacity
// samples), until ctx is done.
func (q *Queue) WriteBatch(ctx context.Context, batch []series.Sample) error {
	owned := false
	if q.cfg.Transform != nil {
		batch, owned = q.transform(batch), true
	}
	if q.labelLimits != nil {
		batch = q.labelLimits.filter(batch, owned)
	}
	q.mu.RLock()
	defer q.mu.RUnlock()
	// Each sample's shard, then each shard's samples straight into its
	// buffer: no per-shard copy of the batch.
	idx := make([]int32, len(batch))
	counts := make([]int, len(q.shards))
	for j, s := range batch {
		i := q.shardOf(s.Labels)
		idx[j] = int32(i)
		counts[i]++
	}
	q.stats.in.Add(int64(len(batch)))
	for i, n := range counts {
		if n == 0 {
			continue
		}
		if err := q.put(ctx, q.shards[i], batch, idx, i, n); err != nil {
			return err
		}
	}
	return nil
}

// transform applies QueueConfig.Transform, into a new slice: the caller's
// batch may be shared with other endpoints.
func (q *Queue) transform(batch []series.Sample) []series.Sample {
	out := make([]series.Sample, 0, len(batch))
	for _, s := range batch {
		ls, keep := q.cfg.Transform(s.Labels)
		if !keep {
			q.metrics.filtered.Inc()
			continue
		}
		s.Labels = ls
		out = append(out, s)
	}
	return out
}

// put appends to shard i's buffer the n samples of batch whose idx is i,
// waiting for room.
func (q *Queue) put(ctx context.Context, sh *shard, batch []series.Sample, idx []int32, i, n int) error {
	stop := context.AfterFunc(ctx, func() {
		sh.mu.Lock()
		sh.cond.Broadcast()
		sh.mu.Unlock()
	})
	defer stop()
	sh.mu.Lock()
	defer sh.mu.Unlock()
	for len(sh.buf) > 0 && len(sh.buf)+n > q.cfg.Capacity && ctx.Err() == nil {
		sh.cond.Wait()
	}
	if err := ctx.Err(); err != nil {
		q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(n))
		return err
	}
	sh.buf = slices.Grow(sh.buf, n)
	for j, s := range batch {
		if int(idx[j]) == i {
			sh.buf = append(sh.buf, s)
		}
	}
	sh.accepted += int64(n)
	q.metrics.pending.Add(float64(n))
	sh.cond.Broadcast()
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

// Run sends until ctx is done, adapting the number of shards, then returns once
// every shard has stopped. A request in flight when ctx ends is aborted and its
// samples counted as dropped.
func (q *Queue) Run(ctx context.Context) error {
	// The shards' goroutines, which a reshard waits for, apart from the
	// metadata sender, which runs until ctx is done.
	shardWG := &sync.WaitGroup{}
	q.mu.RLock()
	for _, sh := range q.shards {
		shardWG.Go(func() { q.runShard(ctx, sh) })
	}
	q.mu.RUnlock()
	var metaWG sync.WaitGroup
	if q.families != nil {
		metaWG.Go(func() { q.runMetadata(ctx) })
	}
	t := time.NewTicker(q.cfg.ReshardInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			shardWG.Wait()
			metaWG.Wait()
			return nil
		case <-t.C:
		}
		if n := q.desiredShards(); n != q.numShards() {
			shardWG = q.reshard(ctx, shardWG, n)
		}
	}
}

func (q *Queue) numShards() int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	return len(q.shards)
}

// desiredShards works out, from the last interval, how many shards keep up
// with the incoming samples with room to spare: incoming rate times the time a
// sample takes to send, plus what the backlog needs to drain in one interval.
// It keeps the count while requests fail (more shards would not help) and
// while the change is small.
func (q *Queue) desiredShards() int {
	in, sent, sentTime, failures := q.stats.in.Swap(0), q.stats.sent.Swap(0), q.stats.sentTime.Swap(0), q.stats.failures.Swap(0)
	current := q.numShards()
	if failures > 0 || sent == 0 {
		return current
	}
	perSample := float64(sentTime) / float64(sent) // ns of one shard's time per sample
	interval := float64(q.cfg.ReshardInterval.Nanoseconds())
	backlog := 0.0
	q.mu.RLock()
	for _, sh := range q.shards {
		sh.mu.Lock()
		backlog += float64(len(sh.buf))
		sh.mu.Unlock()
	}
	q.mu.RUnlock()
	need := (float64(in) + backlog) * perSample / interval * 1.3
	desired := int(math.Ceil(need))
	desired = min(max(desired, q.cfg.MinShards), q.cfg.MaxShards)
	if d := float64(desired - current); math.Abs(d) < 0.3*float64(current) && desired >= q.cfg.MinShards {
		return current
	}
	return desired
}

// reshard drains the current shards (keeping every series' order) and starts
// n new ones. WriteBatch waits meanwhile.
func (q *Queue) reshard(ctx context.Context, old *sync.WaitGroup, n int) *sync.WaitGroup {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, sh := range q.shards {
		sh.mu.Lock()
		sh.closed = true
		sh.cond.Broadcast()
		sh.mu.Unlock()
	}
	old.Wait()
	q.logger.Info("Resharding remote write", "from", len(q.shards), "to", n)
	q.shards = q.shards[:0]
	for range n {
		q.shards = append(q.shards, newShard(q.cfg))
	}
	q.epoch++
	q.metrics.shards.Set(float64(n))
	wg := &sync.WaitGroup{}
	for _, sh := range q.shards {
		wg.Go(func() { q.runShard(ctx, sh) })
	}
	return wg
}

// runShard sends the shard's samples until it is closed and drained, or ctx
// is done.
func (q *Queue) runShard(ctx context.Context, sh *shard) {
	stop := context.AfterFunc(ctx, func() {
		sh.mu.Lock()
		sh.cond.Broadcast()
		sh.mu.Unlock()
	})
	defer stop()
	// One request's samples at a time: send keeps none of them.
	per := q.cfg.MaxSamplesPerSend
	batch := make([]series.Sample, 0, per)
	for {
		sh.mu.Lock()
		for len(sh.buf) == 0 && !sh.closed && ctx.Err() == nil {
			sh.cond.Wait()
		}
		if ctx.Err() != nil || len(sh.buf) == 0 {
			sh.mu.Unlock()
			return
		}
		n := min(len(sh.buf), q.samplesPerSend(len(sh.buf)))
		batch = append(batch[:0], sh.buf[:n]...)
		// Keep the buffer's array for the next samples, unless it grew
		// large for a burst.
		rest := copy(sh.buf, sh.buf[n:])
		clear(sh.buf[rest:])
		sh.buf = sh.buf[:rest]
		if rest == 0 && cap(sh.buf) > 4*per {
			sh.buf = nil
		}
		sh.cond.Broadcast()
		sh.mu.Unlock()

		q.send(ctx, sh, batch)
		clear(batch) // let the labels go
		q.metrics.pending.Sub(float64(n))
		sh.mu.Lock()
		sh.finished += int64(n)
		sh.cond.Broadcast()
		sh.mu.Unlock()
	}
}

// maxBacklogSamplesPerSend bounds the larger 2.0 requests of a shard with a
// backlog (see samplesPerSend), far under what receivers take by default:
// Cortex refuses a request of more samples than its ingestion burst (50,000),
// Mimir than its own (200,000); the OpenTelemetry Collector reads at most
// 20 MiB of body, VictoriaMetrics decompresses at most 32 MiB, Mimir and
// Cortex 100 MiB. 10,000 samples of pods take about 0.5 MB of 2.0 protobuf
// (2 MB as 1.0, should the queue fall back while sending them).
const maxBacklogSamplesPerSend = 10000

// samplesPerSend is the most samples the next request of a shard holding
// queued samples takes: MaxSamplesPerSend, but for 2.0 with more queued
// than that, up to 4 times MaxSamplesPerSend (at most
// maxBacklogSamplesPerSend, or MaxSamplesPerSend if that is more). A 2.0
// request carries its own symbols table, with the label names, the values
// objects share and the help text of its families: in a larger request more
// samples share it (pods: 6-7% fewer bytes per sample at 8,000 samples than
// at 2,000, for about 5% more encoding CPU; BenchmarkEncodeBacklog). A
// receiver that answers 413 gets the request again in halves.
func (q *Queue) samplesPerSend(queued int) int {
	per := q.cfg.MaxSamplesPerSend
	if queued <= per || q.ProtobufMessage() != MessageV2 {
		return per
	}
	return max(per, min(4*per, maxBacklogSamplesPerSend))
}

// Mark is the queue's progress at one moment: the shard set and, per shard,
// the samples accepted so far.
type Mark struct {
	epoch  int
	counts []int64
}

// Mark returns the current progress; Reached(m) later reports whether every
// sample accepted before the call has been sent or dropped.
func (q *Queue) Mark() Mark {
	q.mu.RLock()
	defer q.mu.RUnlock()
	m := Mark{epoch: q.epoch, counts: make([]int64, len(q.shards))}
	for i, sh := range q.shards {
		sh.mu.Lock()
		m.counts[i] = sh.accepted
		sh.mu.Unlock()
	}
	return m
}

// Reached reports whether every sample accepted before m was taken has been
// sent or dropped. A reshard drains every shard, so marks from before one are
// reached.
func (q *Queue) Reached(m Mark) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if m.epoch != q.epoch {
		return true
	}
	for i, sh := range q.shards {
		sh.mu.Lock()
		done := sh.finished >= m.counts[i]
		sh.mu.Unlock()
		if !done {
			return false
		}
	}
	return true
}

// Flush blocks until every sample accepted before the call has been sent or
// dropped, or ctx is done.
func (q *Queue) Flush(ctx context.Context) error {
	m := q.Mark()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !q.Reached(m) {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
	return nil
}

// Discard drops every sample waiting in the queue (not the requests in
// flight), counted as dropped for reason. An HA replica that stops leading
// uses it: what it queued as leader must not reach the receiver after the new
// leader's samples.
func (q *Queue) Discard(reason string) int {
	q.mu.RLock()
	defer q.mu.RUnlock()
	total := 0
	for _, sh := range q.shards {
		sh.mu.Lock()
		n := len(sh.buf)
		clear(sh.buf)
		sh.buf = nil
		sh.finished += int64(n)
		sh.cond.Broadcast()
		sh.mu.Unlock()
		total += n
	}
	q.metrics.pending.Sub(float64(total))
	q.metrics.samplesDropped.WithLabelValues(reason).Add(float64(total))
	return total
}

// Dropped returns the samples dropped so far for reason (as counted in
// kube_state_push_remote_write_samples_dropped_total).
func (q *Queue) Dropped(reason string) int64 {
	var m dto.Metric
	if err := q.metrics.samplesDropped.WithLabelValues(reason).Write(&m); err != nil {
		return 0
	}
	return int64(m.GetCounter().GetValue())
}
