package walpipe

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
	"github.com/kube-state-push/kube-state-push/wal"
)

// Options are the settings of a Pipeline.
type Options struct {
	// Dir is the WAL's directory, for the log.
	Dir string
	// MaxSize caps the WAL on disk (0: no cap): at the cap the backlog is
	// compacted, then the oldest dropped.
	MaxSize int64
	// CompactResolution is how far apart compaction keeps repeated identical
	// values of a series.
	CompactResolution time.Duration
	// SyncInterval is the longest an append stays unsynced after a failed
	// sync.
	SyncInterval time.Duration
}

// Endpoint is one remote-write endpoint the WAL is sent to: its name (for
// logs and metrics), the name of its cursor in the WAL, and its queue.
type Endpoint struct {
	Name, Cursor string
	Queue        Queue
}

// Pipeline is the WAL between the batcher and the remote-write queues, with
// a sender per endpoint, its space management (truncation, compaction, drops)
// and what it knew at start.
type Pipeline struct {
	w          *wal.WAL
	sink       *Sink
	senders    []*walSender // one per endpoint
	prev       map[string]*snapshot.PrevSeries
	prevShard  string       // the shard assignment prev is from ("" if none recorded)
	shard      atomic.Value // the current assignment, as "shard/total"
	metrics    *walMetrics
	logger     *slog.Logger
	maxSize    int64
	resolution time.Duration
	syncEvery  time.Duration

	mu            sync.Mutex
	beginPending  wal.Position // start of the resend in progress
	completeBegin wal.Position // start of the last complete resend
}

// New returns the pipeline of an open WAL: it reads the whole WAL once, for
// what it knew of the series (Restored), and loads each endpoint's cursor. On
// error it closes w.
func New(w *wal.WAL, opts Options, endpoints []Endpoint, reg prometheus.Registerer, logger *slog.Logger) (*Pipeline, error) {
	m := newWALMetrics(reg)
	m.repairs.Set(float64(len(w.Repairs())))
	for _, r := range w.Repairs() {
		logger.Warn("WAL repaired at open: a torn or corrupt tail was cut", "repair", fmt.Sprintf("%+v", r))
	}
	start := time.Now()
	prev, prevShard, err := scanWAL(w)
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("read wal: %w", err)
	}
	live := 0
	for _, p := range prev {
		if p.Live {
			live++
		}
	}
	var senders []*walSender
	for _, ep := range endpoints {
		s, err := newWALSender(ep.Name, ep.Cursor, w, ep.Queue, m, logger.With("endpoint", ep.Name))
		if err != nil {
			_ = w.Close()
			return nil, err
		}
		senders = append(senders, s)
	}
	logger.Info("WAL opened", "dir", opts.Dir, "bytes", w.Size(), "series_known", len(prev), "series_live", live,
		"endpoints", len(senders), "scan", time.Since(start).Round(time.Millisecond))
	ws := &Pipeline{
		w: w, senders: senders, prev: prev, prevShard: prevShard, metrics: m, logger: logger,
		maxSize: opts.MaxSize, resolution: opts.CompactResolution, syncEvery: opts.SyncInterval,
	}
	ws.sink = &Sink{w: w, logger: logger, metrics: m, senders: senders}
	return ws, nil
}

// Sink returns the writer that appends to the WAL.
func (ws *Pipeline) Sink() *Sink { return ws.sink }

// SetAdmit makes every sender pass the samples of each record through admit
// before it sends them: it returns those that may be sent, and a record left
// with none is skipped (an HA replica that is not leading, or backlog from
// before another replica's term). Call it before Run.
func (ws *Pipeline) SetAdmit(admit func([]series.Sample) []series.Sample) {
	for _, s := range ws.senders {
		s.admit = admit
	}
}

// TakeRestored returns what the WAL knew of the series from before this
// start, for snapshot.Restore, and the shard assignment that state is from
// ("shard/total"; empty if none was recorded). It lets go of them: a second
// call returns no series.
func (ws *Pipeline) TakeRestored() (map[string]*snapshot.PrevSeries, string) {
	prev := ws.prev
	ws.prev = nil
	return prev, ws.prevShard
}

// Run sends from the WAL and manages its space until ctx is done.
func (ws *Pipeline) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, s := range ws.senders {
		wg.Go(func() { s.run(ctx) })
	}
	wg.Go(func() { ws.maintain(ctx) })
	wg.Wait()
}

// Close closes the WAL.
func (ws *Pipeline) Close() {
	if err := ws.w.Close(); err != nil {
		ws.logger.Error("Closing the WAL failed", "err", err)
	}
}

// ResendBegin and ResendEnd bracket a full resend in the WAL: the samples
// between them cover every live series, which is how a restart learns them.
func (ws *Pipeline) ResendBegin() {
	ws.mu.Lock()
	ws.beginPending = ws.sink.position()
	ws.mu.Unlock()
	if err := ws.sink.marker(recResendBegin); err != nil {
		ws.logger.Error("Writing a WAL marker failed", "err", err)
	}
	// Every complete resend carries the assignment, so that truncation never
	// removes the last one.
	ws.writeShard()
}

// SetShard records a new shard assignment ("shard/total") in the WAL.
func (ws *Pipeline) SetShard(a string) {
	ws.shard.Store(a)
	ws.writeShard()
}

func (ws *Pipeline) writeShard() {
	a, _ := ws.shard.Load().(string)
	if a == "" {
		return
	}
	if err := ws.sink.record(append([]byte{recShard}, a...)); err != nil {
		ws.logger.Error("Writing a WAL marker failed", "err", err)
	}
}

// Handover records that the series of ss are sent by another shard from now on.
func (ws *Pipeline) Handover(ss []series.Sample) {
	if len(ss) == 0 {
		return
	}
	if err := ws.sink.record(encodeHandover(ss, nil)); err != nil {
		ws.logger.Error("Writing a WAL handover record failed", "err", err)
	}
}

// ResendEnd ends the resend ResendBegin began.
func (ws *Pipeline) ResendEnd() {
	if err := ws.sink.marker(recResendEnd); err != nil {
		ws.logger.Error("Writing a WAL marker failed", "err", err)
		return
	}
	ws.mu.Lock()
	ws.completeBegin = ws.beginPending
	ws.mu.Unlock()
}

// maintain syncs at least every --wal-sync-interval, removes what every
// endpoint has acknowledged (keeping the last complete resend, which tells a
// restart which series are live), and keeps the WAL under --wal-max-size.
func (ws *Pipeline) maintain(ctx context.Context) {
	syncTick := time.NewTicker(ws.syncEvery)
	defer syncTick.Stop()
	spaceTick := time.NewTicker(5 * time.Second)
	defer spaceTick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-syncTick.C:
			ws.sink.syncIfNeeded()
		case <-spaceTick.C:
			ws.truncate()
			if ws.maxSize > 0 && ws.w.Size() >= ws.maxSize {
				ws.compact()
				ws.dropOldest()
			}
		}
	}
}

func (ws *Pipeline) truncate() {
	ws.mu.Lock()
	keep := ws.completeBegin
	ws.mu.Unlock()
	for _, s := range ws.senders {
		if p := s.position(); p.Compare(keep) < 0 {
			keep = p
		}
	}
	if err := ws.w.TruncateBefore(keep); err != nil {
		ws.logger.Error("Removing delivered WAL segments failed", "err", err)
	}
}

// slowestReader returns the read position of the sender furthest behind.
func (ws *Pipeline) slowestReader() wal.Position {
	var p wal.Position
	for i, s := range ws.senders {
		if r := s.reading(); i == 0 || r.Compare(p) < 0 {
			p = r
		}
	}
	return p
}

// compactRange returns the closed segments compaction may rewrite: after the
// one the sender reads, and before the last complete resend.
func (ws *Pipeline) compactRange() (from, to uint64, ok bool) {
	ws.mu.Lock()
	limit := ws.completeBegin.Segment
	ws.mu.Unlock()
	reading := ws.slowestReader().Segment
	first := true
	for _, s := range ws.w.Segments() {
		if s.Active || s.Index >= limit {
			break
		}
		if s.Index <= reading {
			continue
		}
		if first {
			from, first = s.Index, false
		}
		to, ok = s.Index, true
	}
	return from, to, ok
}

// compact thins the backlog: per series it keeps every value transition and
// staleness marker, and of repeated identical values one per
// --wal-compact-resolution. Records come out in the current format, start
// timestamps kept (format 1 ones had none).
func (ws *Pipeline) compact() {
	from, to, ok := ws.compactRange()
	if !ok {
		return
	}
	type last struct {
		bits uint64
		kept int64
	}
	state := map[string]*last{}
	res := ws.resolution.Milliseconds()
	thinned := 0
	var buf []byte
	keep := func(rec []byte) [][]byte {
		if !isSamples(rec) {
			return [][]byte{rec}
		}
		ss, err := decodeSamples(rec)
		if err != nil {
			return [][]byte{rec}
		}
		out := ss[:0]
		for _, x := range ss {
			k := x.Labels.String()
			l := state[k]
			bits := math.Float64bits(x.V)
			switch {
			case l == nil:
				state[k] = &last{bits: bits, kept: x.T}
			case bits != l.bits || series.IsStaleNaN(x.V) || x.T-l.kept >= res:
				l.bits, l.kept = bits, x.T
			default:
				thinned++
				continue
			}
			out = append(out, x)
		}
		if len(out) == 0 {
			return nil
		}
		buf = encodeSamples(out, buf)
		return [][]byte{buf}
	}
	before := ws.w.Size()
	r, err := ws.w.Rewrite(from, to, keep)
	if err != nil {
		ws.logger.Warn("Compacting the WAL failed", "err", err)
		return
	}
	ws.metrics.compactions.Inc()
	ws.metrics.compactedOut.Add(float64(thinned))
	ws.logger.Warn("WAL reached --wal-max-size: compacted the backlog", "segments", len(r.Removed),
		"samples_thinned", thinned, "bytes_before", before, "bytes_after", ws.w.Size())
}

// dropOldest removes the oldest segments while the WAL is still over its
// cap, counting the samples lost.
func (ws *Pipeline) dropOldest() {
	segs := ws.w.Segments()
	size := ws.w.Size()
	reading := ws.slowestReader().Segment
	k := 0
	for k < len(segs)-1 && size >= ws.maxSize {
		size -= segs[k].Size
		k++
	}
	if k == 0 {
		return
	}
	// The sender finishes the segment it reads; what lies between it and the
	// cut is lost.
	samples, bytes := 0, int64(0)
	for _, s := range segs[:k] {
		if s.Index > reading {
			samples += ws.countSamples(s)
			bytes += s.Size
		}
	}
	if err := ws.w.TruncateBefore(segs[k].Start()); err != nil {
		ws.logger.Error("Dropping the oldest WAL segments failed", "err", err)
		return
	}
	ws.metrics.droppedSamples.Add(float64(samples))
	ws.metrics.droppedBytes.Add(float64(bytes))
	ws.logger.Error("WAL still over --wal-max-size after compaction: dropped the oldest backlog",
		"samples", samples, "bytes", bytes, "segments", k)
}

func (ws *Pipeline) countSamples(s wal.SegmentInfo) int {
	r, err := ws.w.NewReader(s.Start())
	if err != nil {
		return 0
	}
	defer r.Close()
	n := 0
	for r.Next() {
		if r.Position().Segment != s.Index {
			break
		}
		if ss, err := decodeSamples(r.Record()); err == nil {
			n += len(ss)
		}
	}
	return n
}

// Status is the WAL's line on /readyz: backlog, repairs, compactions, drops.
func (ws *Pipeline) Status() string {
	var records int
	var bytes, oldest int64
	for _, s := range ws.senders {
		r, b, o := s.backlog()
		records += r
		bytes += b
		if o > 0 && (oldest == 0 || o < oldest) {
			oldest = o
		}
	}
	old := "none"
	if oldest > 0 {
		old = time.UnixMilli(oldest).UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("wal: backlog_records=%d backlog_bytes=%d oldest_unacked=%s wal_bytes=%d repairs=%d compactions=%d dropped_samples=%d",
		records, bytes, old, ws.w.Size(), len(ws.w.Repairs()),
		int(counterOf(ws.metrics.compactions)), int(counterOf(ws.metrics.droppedSamples)))
}

func counterOf(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}
