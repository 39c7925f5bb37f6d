package agent

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sharding.
//
// An object belongs to one shard: FNV-1a 64 of its UID, then jump consistent
// hash over the total (shardOf), as in kube-state-metrics, or with
// --server-side-sharding the shard whose range of that hash holds it
// (rangeShardOf; shardrange.go), which the apiserver can select itself. Each
// list/watch keeps only the objects of its shard (shardListWatch). A series
// has the same labels whichever shard sends it: there is no shard label.
//
// With --pod, the shard is the pod's StatefulSet ordinal and the total the
// StatefulSet's replicas, and both follow scaling. When the assignment
// changes, a series moves from the shard that loses its object (A) to the one
// that gains it (B). This is a handover between two processes with their own
// clocks and send latencies, like the HA leader handover (package ha). The
// receiver rejects a sample older than the last one it holds for the series,
// so every sample of A must be stamped before, and land before, B's first.
// The rule:
//
//  1. A drops an object that leaves its shard but still exists at once, and
//     without a staleness marker: the series goes on from B. A marker from A
//     could land after B's first sample (a rejection) or before it (a gap in
//     the series). A stamps one last sample of each of its series then, so
//     the series' previous sample is at the moment of the change, not up to a
//     resend interval earlier. A deleted object ends its series with a marker,
//     from the shard that held it, as always.
//  2. Objects are not kept in memory, so the watches restart with the new
//     filter (a relist). Objects a relist lacks and the shard owns were
//     deleted meanwhile and end with a marker; those it does not own were
//     handed over in step 1.
//  3. B holds the objects it gained for the handover delay
//     (--shard-handover-delay, 2s by default) after it saw the change: their
//     series are kept up to date but not sent. Then it sends them all, stamped
//     at that moment. A held object deleted meanwhile (or a series of one that
//     vanished) is ended then too, not at once: its marker must also come
//     after A's last sample. A and B see the StatefulSet change within a few
//     milliseconds of each other (one watch event), so B's first sample is
//     stamped about the delay after A's last; the delay covers the offset of
//     the two clocks plus A's flush interval and the time A's last request
//     takes to land. A new pod holds its whole first list for the delay.
//  4. With a WAL, A records the handed-over series (a handover record, never
//     sent), so that a restart does not take them for live and end them, and
//     each complete resend records the assignment. A restart that finds the
//     assignment changed while it was down (the StatefulSet scaled meanwhile,
//     or new flags) cannot tell a deleted object from one that moved, so it
//     ends no series of the previous run; those of objects deleted meanwhile
//     go stale after the query lookback (5 minutes).
//
// The rule holds while A's queue keeps up. If A's receiver is backed up for
// longer than the delay, A's late samples of a moved series land after B's
// and are rejected as out of order: history of the handover window is lost,
// never current state, which B sends. Scaling while the receiver is down is
// best avoided. Static shards (--shard, --total-shards) change only by
// restart; to change the total, restart all shards together, or use --pod.

// shardMetrics are the sharding self-metrics.
type shardMetrics struct {
	shard, total prometheus.Gauge
	reshards     prometheus.Counter
}

func newShardMetrics(reg prometheus.Registerer) *shardMetrics {
	m := &shardMetrics{
		shard: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_shard",
			Help: "The shard this agent sends (its ordinal).",
		}),
		total: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_total_shards",
			Help: "The number of shards the objects are split in.",
		}),
		reshards: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_reshards_total",
			Help: "Changes of the shard assignment while running (StatefulSet scaled).",
		}),
	}
	reg.MustRegister(m.shard, m.total, m.reshards)
	return m
}

func (m *shardMetrics) set(a assignment) {
	m.shard.Set(float64(a.shard))
	m.total.Set(float64(a.total))
}

// logShard logs the assignment.
func logShard(logger *slog.Logger, msg string, a assignment, delay time.Duration) {
	logger.Info(msg, "shard", a.shard, "total_shards", a.total, "handover_delay", delay, "server_side", a.byRange)
}

// wantShard asks runWatches to change to a.
func (a *agent) wantShard(next assignment) {
	a.shardMu.Lock()
	a.wanted = &next
	a.shardMu.Unlock()
	select {
	case a.reshard <- struct{}{}:
	default:
	}
}

// runWatches runs the list/watches with the current assignment until ctx is
// done. On a change of the assignment it stops them, hands over the objects
// that left the shard, and starts them again with the new filter; at the end
// of each handover it releases the held objects.
func (a *agent) runWatches(ctx, sendCtx context.Context) {
	release := time.NewTimer(time.Until(a.holdUntil))
	defer release.Stop()
	if a.holdUntil.IsZero() {
		release.Stop()
	}
	for {
		wctx, stop := context.WithCancel(ctx)
		var wg sync.WaitGroup
		for _, mk := range a.reflectors {
			r := mk(a.assign)
			wg.Go(func() { r.RunWithContext(wctx) })
		}
		if a.crs != nil {
			as := a.assign
			wg.Go(func() { a.crs.run(wctx, as) })
		}
		var next assignment
	wait:
		for {
			select {
			case <-ctx.Done():
				stop()
				wg.Wait()
				return
			case <-release.C:
				if n := a.snap.ReleaseHeld(); n > 0 {
					a.logger.Info("Handover over: sending the objects gained", "objects", n)
				}
			case <-a.reshard:
				a.shardMu.Lock()
				next = *a.wanted
				a.shardMu.Unlock()
				if next != a.assign {
					break wait
				}
			}
		}
		stop()
		wg.Wait()
		a.changeShard(sendCtx, next)
		release.Reset(time.Until(a.holdUntil))
	}
}

// changeShard hands over the objects a's shard loses (rule 1 and 4 of the
// sharding rule) and starts the handover of those it gains (rule 3).
func (a *agent) changeShard(sendCtx context.Context, next assignment) {
	prev := a.assign
	a.assign = next
	a.holdUntil = time.Now().Add(a.cfg.ShardHandoverDelay)
	last := a.snap.SetShard(next.owns, a.holdUntil.UnixMilli())
	if a.wal != nil {
		// The last samples are in the WAL before the handover record.
		if err := a.batcher.flush(sendCtx); err != nil {
			a.logger.Warn("Handing samples on before a reshard failed", "err", err)
		}
		a.wal.Handover(last)
		a.wal.SetShard(next.String())
	}
	a.shardMetrics.set(next)
	a.shardMetrics.reshards.Inc()
	a.logger.Info("Shard assignment changed: objects that left the shard are handed over, those gained are sent after the handover delay",
		"shard", next.shard, "total_shards", next.total, "before", prev.String(),
		"series_handed_over", len(last), "handover_delay", a.cfg.ShardHandoverDelay)
}
