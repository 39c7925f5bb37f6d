package walpipe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
	"github.com/kube-state-push/kube-state-push/wal"
)

// Queue is what a sender feeds: the remote-write queue of one endpoint
// (*remotewrite.Queue). A sender hands it the samples of each record in WAL
// order, and moves its cursor past a record once the queue has reached the
// mark taken after it.
type Queue interface {
	// WriteBatch blocks until the queue has taken the batch or ctx is done.
	WriteBatch(ctx context.Context, batch []series.Sample) error
	// Mark returns the queue's position after everything written so far.
	Mark() remotewrite.Mark
	// Reached reports whether everything before m was sent (2xx) or
	// definitively dropped.
	Reached(m remotewrite.Mark) bool
}

// Sink is the writer in front of the WAL (the agent's BatchWriter): every
// batch is appended and made durable (one fsync per batch: the batcher hands
// one batch per flush) before a sender may read it.
//
// When the WAL's device is full, WriteBatch holds the batch (appended, not
// yet durable) and retries every noSpaceRetry until it is durable: the
// batcher, and behind it the watches, wait meanwhile (back-pressure), and
// nothing is lost or written in part. That is logged once when it begins and
// once when it ends, and counted.
type Sink struct {
	w       *wal.WAL
	logger  *slog.Logger
	metrics *walMetrics

	mu       sync.Mutex
	last     wal.Position // after the last record appended and synced
	appended wal.Position // after the last record appended
	unsynced bool
	buf      []byte
	senders  []*walSender
	full     time.Time // since when the device is full; zero when it is not
}

// noSpaceRetry is how often a batch held back for lack of space is tried again.
var noSpaceRetry = time.Second

// position returns the position after the last record appended.
func (s *Sink) position() wal.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}

// syncIfNeeded makes durable what an append left unsynced (a failed sync).
func (s *Sink) syncIfNeeded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsynced {
		_ = s.syncLocked()
	}
}

// WriteBatch appends batch as one record and syncs it. With the device full it
// waits until the record is durable, or ctx is done.
func (s *Sink) WriteBatch(ctx context.Context, batch []series.Sample) error {
	s.mu.Lock()
	s.buf = encodeSamples(batch, s.buf)
	err := s.appendLocked(s.buf)
	s.mu.Unlock()
	if errors.Is(err, wal.ErrNoSpace) {
		return s.waitSpace(ctx, len(batch), err)
	}
	return err
}

// waitSpace retries the sync of a batch of n samples the full device refused
// until it succeeds or ctx is done.
func (s *Sink) waitSpace(ctx context.Context, n int, err error) error {
	s.mu.Lock()
	if s.full.IsZero() {
		s.full = time.Now()
		s.metrics.noSpace.Set(1)
		s.logger.Error("WAL device full: holding back new samples until there is space again (nothing is dropped; the watches wait)",
			"err", err)
	}
	s.mu.Unlock()
	s.metrics.heldBack.Add(float64(n))
	t := time.NewTicker(noSpaceRetry)
	defer t.Stop()
	for {
		s.metrics.noSpaceRefusals.Inc()
		select {
		case <-ctx.Done():
			return fmt.Errorf("wal sync: %w (%w)", ctx.Err(), err)
		case <-t.C:
		}
		s.mu.Lock()
		err = nil
		if s.unsynced {
			err = s.syncLocked()
		}
		s.mu.Unlock()
		if !errors.Is(err, wal.ErrNoSpace) {
			return err
		}
	}
}

// marker appends a resend marker record.
func (s *Sink) marker(typ byte) error { return s.record([]byte{typ}) }

// record appends a record that is not sent (a marker, a handover). With the
// device full it stays buffered, durable with the next batch.
func (s *Sink) record(rec []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.appendLocked(rec); err != nil && !errors.Is(err, wal.ErrNoSpace) {
		return err
	}
	return nil
}

func (s *Sink) appendLocked(rec []byte) error {
	pos, err := s.w.Append(rec)
	if err != nil {
		return fmt.Errorf("wal append: %w", err)
	}
	s.unsynced, s.appended = true, pos
	return s.syncLocked()
}

// syncLocked makes everything appended durable; ErrNoSpace keeps it for the
// next try.
func (s *Sink) syncLocked() error {
	start := time.Now()
	if err := s.w.Sync(); err != nil {
		return fmt.Errorf("wal sync: %w", err)
	}
	s.unsynced = false
	s.metrics.syncDuration.Observe(time.Since(start).Seconds())
	s.last = s.appended
	if !s.full.IsZero() {
		s.logger.Info("WAL device has space again: appends resumed", "held_back_for", time.Since(s.full).Round(time.Millisecond))
		s.full = time.Time{}
		s.metrics.noSpace.Set(0)
	}
	return nil
}

// Flush waits until every sender has delivered everything appended so far.
func (s *Sink) Flush(ctx context.Context) error {
	s.mu.Lock()
	target := s.last
	s.mu.Unlock()
	for _, snd := range s.senders {
		if err := snd.waitAcked(ctx, target); err != nil {
			return err
		}
	}
	return nil
}

// walSender reads the WAL from its endpoint's cursor and feeds the endpoint's
// queue in order. Its cursor advances, durably, only once the queue has sent
// (2xx) or definitively dropped (4xx) everything before it: never on read.
type walSender struct {
	name    string
	cursor  string
	w       *wal.WAL
	queue   Queue
	logger  *slog.Logger
	metrics *walMetrics

	mu      sync.Mutex
	cond    *sync.Cond
	acked   wal.Position
	saved   wal.Position
	read    wal.Position // after the last record handed to the queue
	pending []inflight
	// saveFailing is set while saving the cursor fails (ackLoop only).
	saveFailing bool
	// admit, when set, returns the samples of a record that may be sent; a
	// record left with none is skipped (an HA replica that is not leading, or
	// backlog from before another replica's term).
	admit func([]series.Sample) []series.Sample
}

// reading returns the position the sender has read up to.
func (s *walSender) reading() wal.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.read
}

// inflight is a record handed to the queue and not yet delivered.
type inflight struct {
	end    wal.Position // after the record
	mark   remotewrite.Mark
	oldest int64 // its oldest sample's timestamp, or 0
	bytes  int64
}

func newWALSender(name, cursor string, w *wal.WAL, q Queue, m *walMetrics, logger *slog.Logger) (*walSender, error) {
	pos, _, err := w.LoadCursor(cursor)
	if err != nil {
		return nil, fmt.Errorf("load wal cursor %s: %w", name, err)
	}
	s := &walSender{name: name, cursor: cursor, w: w, queue: q, logger: logger, metrics: m, acked: pos, saved: pos}
	s.cond = sync.NewCond(&s.mu)
	return s, nil
}

// run feeds the queue until ctx is done.
func (s *walSender) run(ctx context.Context) {
	ackDone := make(chan struct{})
	go func() { defer close(ackDone); s.ackLoop(ctx) }()
	defer func() { <-ackDone }()
	for ctx.Err() == nil {
		s.mu.Lock()
		from := s.acked
		s.mu.Unlock()
		if err := s.readFrom(ctx, from); err != nil && ctx.Err() == nil {
			s.logger.Error("Reading the WAL failed; starting again from the last delivered position", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

func (s *walSender) readFrom(ctx context.Context, from wal.Position) error {
	r, err := s.w.NewReader(from)
	if err != nil {
		return err
	}
	defer r.Close()
	for {
		for r.Next() {
			rec := r.Record()
			if !isSamples(rec) {
				s.track(inflight{end: r.Position(), mark: s.queue.Mark()})
				continue
			}
			ss, err := decodeSamples(rec)
			if err != nil {
				s.metrics.badRecords.Inc()
				s.logger.Error("Skipped a WAL record that cannot be decoded", "position", r.Position().String(), "err", err)
				s.track(inflight{end: r.Position(), mark: s.queue.Mark()})
				continue
			}
			if s.admit != nil {
				if ss = s.admit(ss); len(ss) == 0 {
					s.metrics.skipped.Inc()
					s.track(inflight{end: r.Position(), mark: s.queue.Mark()})
					continue
				}
			}
			oldest := int64(math.MaxInt64)
			for _, x := range ss {
				oldest = min(oldest, x.T)
			}
			if err := s.queue.WriteBatch(ctx, ss); err != nil {
				return err
			}
			s.track(inflight{end: r.Position(), mark: s.queue.Mark(), oldest: oldest, bytes: int64(len(rec))})
		}
		if err := r.Err(); err != nil {
			return err
		}
		if err := r.Wait(ctx); err != nil {
			return err
		}
	}
}

func (s *walSender) track(f inflight) {
	s.mu.Lock()
	s.pending = append(s.pending, f)
	s.read = f.end
	s.mu.Unlock()
}

// ackLoop advances the cursor past delivered records and saves it at most once
// a second, and once more on the way out.
func (s *walSender) ackLoop(ctx context.Context) {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	lastSave := time.Now()
	for {
		select {
		case <-ctx.Done():
			s.advance()
			s.save()
			return
		case <-tick.C:
		}
		s.advance()
		if time.Since(lastSave) >= time.Second {
			s.save()
			lastSave = time.Now()
		}
	}
}

func (s *walSender) advance() {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for n < len(s.pending) && s.queue.Reached(s.pending[n].mark) {
		if s.pending[n].end.Compare(s.acked) > 0 {
			s.acked = s.pending[n].end
		}
		n++
	}
	if n > 0 {
		s.pending = append(s.pending[:0], s.pending[n:]...)
		s.cond.Broadcast()
	}
	records, bytes, oldest := s.backlogLocked()
	s.metrics.backlogRecords.WithLabelValues(s.name).Set(float64(records))
	s.metrics.backlogBytes.WithLabelValues(s.name).Set(float64(bytes))
	s.metrics.oldestUnacked.WithLabelValues(s.name).Set(float64(oldest) / 1000)
}

// backlog returns the records and bytes read and not yet delivered, and the
// oldest timestamp among them (0 when none).
func (s *walSender) backlog() (records int, bytes, oldest int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.backlogLocked()
}

func (s *walSender) backlogLocked() (records int, bytes, oldest int64) {
	for _, p := range s.pending {
		bytes += p.bytes
		if oldest == 0 && p.oldest != 0 {
			oldest = p.oldest
		}
	}
	return len(s.pending), bytes, oldest
}

func (s *walSender) save() {
	s.mu.Lock()
	acked, saved := s.acked, s.saved
	s.mu.Unlock()
	if acked == saved {
		return
	}
	if err := s.w.SaveCursor(s.cursor, acked); err != nil {
		// Once per failure, not every second (a full device): the old cursor
		// stays, and is tried again.
		if !s.saveFailing {
			s.logger.Error("Saving the WAL cursor failed; retrying", "endpoint", s.name, "err", err)
		}
		s.saveFailing = true
		return
	}
	if s.saveFailing {
		s.logger.Info("Saving the WAL cursor works again", "endpoint", s.name)
		s.saveFailing = false
	}
	s.mu.Lock()
	s.saved = acked
	s.mu.Unlock()
}

// position returns the acknowledged position.
func (s *walSender) position() wal.Position {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acked
}

// waitAcked blocks until the cursor reaches p or ctx is done.
func (s *walSender) waitAcked(ctx context.Context, p wal.Position) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.cond.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.acked.Compare(p) < 0 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.cond.Wait()
	}
	return nil
}

// walMetrics are the WAL's delivery figures on the telemetry endpoint.
type walMetrics struct {
	backlogRecords  *prometheus.GaugeVec
	backlogBytes    *prometheus.GaugeVec
	oldestUnacked   *prometheus.GaugeVec
	badRecords      prometheus.Counter
	skipped         prometheus.Counter
	syncDuration    prometheus.Histogram
	compactions     prometheus.Counter
	compactedOut    prometheus.Counter
	droppedSamples  prometheus.Counter
	droppedBytes    prometheus.Counter
	repairs         prometheus.Gauge
	noSpace         prometheus.Gauge
	noSpaceRefusals prometheus.Counter
	heldBack        prometheus.Counter
}

func newWALMetrics(reg prometheus.Registerer) *walMetrics {
	m := &walMetrics{
		backlogRecords: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_backlog_records",
			Help: "WAL records read for an endpoint and not yet delivered.",
		}, []string{"endpoint"}),
		backlogBytes: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_backlog_bytes",
			Help: "Bytes of the WAL records read for an endpoint and not yet delivered.",
		}, []string{"endpoint"}),
		oldestUnacked: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_oldest_unacked_timestamp_seconds",
			Help: "Timestamp of the oldest sample not yet delivered to an endpoint, or 0.",
		}, []string{"endpoint"}),
		badRecords: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_undecodable_records_total",
			Help: "WAL records skipped because they could not be decoded.",
		}),
		skipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_skipped_records_total",
			Help: "WAL records not sent because this replica stopped leading (--ha-mode=leader).",
		}),
		syncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kube_state_push_wal_append_sync_duration_seconds",
			Help:    "Duration of the fsync that makes a batch durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		compactions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_compactions_total",
			Help: "Compactions run because the WAL reached --wal-max-size.",
		}),
		compactedOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_compacted_samples_total",
			Help: "Repeated identical resends thinned out by compaction.",
		}),
		droppedSamples: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_dropped_samples_total",
			Help: "Samples dropped, oldest first, because the WAL stayed at --wal-max-size after compaction.",
		}),
		droppedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_dropped_bytes_total",
			Help: "WAL bytes dropped, oldest first, because the WAL stayed at --wal-max-size after compaction.",
		}),
		repairs: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_repairs",
			Help: "Segments cut at a torn or corrupt record when the WAL was opened.",
		}),
		noSpace: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_no_space",
			Help: "1 while the WAL's device is full and new samples are held back, else 0.",
		}),
		noSpaceRefusals: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_no_space_refusals_total",
			Help: "Tries to make a batch durable that the full WAL device refused; each is tried again.",
		}),
		heldBack: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_held_back_samples_total",
			Help: "Samples held back (not dropped) because the WAL's device was full.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.backlogRecords, m.backlogBytes, m.oldestUnacked, m.badRecords, m.skipped, m.syncDuration,
			m.compactions, m.compactedOut, m.droppedSamples, m.droppedBytes, m.repairs,
			m.noSpace, m.noSpaceRefusals, m.heldBack)
	}
	return m
}

// scanWAL reads the whole WAL once and returns every series in it, by label
// string, with its last timestamp and whether it was live: its last sample is
// not a staleness marker and it was sent in or after the last complete resend
// (which covers every live series), or there is no complete resend at all;
// a series handed over to another shard is not live. It also returns the last
// shard assignment recorded ("shard/total"; empty if none).
func scanWAL(w *wal.WAL) (map[string]*snapshot.PrevSeries, string, error) {
	r, err := w.NewReader(wal.Position{})
	if err != nil {
		return nil, "", err
	}
	defer r.Close()
	type seen struct {
		*snapshot.PrevSeries
		record int
		stale  bool
	}
	all := map[string]*seen{}
	record, begin, complete := 0, -1, -1
	shard := ""
	for r.Next() {
		record++
		rec := r.Record()
		switch {
		case len(rec) == 1 && rec[0] == recResendBegin:
			begin = record
		case len(rec) == 1 && rec[0] == recResendEnd:
			if begin >= 0 {
				complete, begin = begin, -1
			}
		case len(rec) > 0 && rec[0] == recShard:
			shard = string(rec[1:])
		default:
			ss, err := decodeSamples(rec)
			if err != nil {
				continue
			}
			// A handed-over series is not live here any more: like an ended
			// one, but without a marker of ours.
			handover := isHandover(rec)
			for _, x := range ss {
				k := x.Labels.String()
				e := all[k]
				if e == nil {
					e = &seen{PrevSeries: &snapshot.PrevSeries{Labels: x.Labels}}
					all[k] = e
				}
				e.T = max(e.T, x.T)
				e.record = record
				e.stale = handover || series.IsStaleNaN(x.V)
			}
		}
	}
	if err := r.Err(); err != nil {
		return nil, "", err
	}
	out := make(map[string]*snapshot.PrevSeries, len(all))
	for k, e := range all {
		e.Live = !e.stale && (complete < 0 || e.record >= complete)
		out[k] = e.PrevSeries
	}
	return out, shard, nil
}
