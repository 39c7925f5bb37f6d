package agent

import (
	"context"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/series"
)

// leaderGate sits in front of the WAL or the queues in --ha-mode=leader: a
// standby keeps its snapshot warm but hands nothing on, and a leader hands on
// only samples of its own term (or all, when the term continues its own
// previous one).
type leaderGate struct {
	next    BatchWriter
	term    atomic.Pointer[ha.Term]
	dropped prometheus.Counter
}

var _ BatchWriter = (*leaderGate)(nil)

func newLeaderGate(next BatchWriter, reg prometheus.Registerer) *leaderGate {
	g := &leaderGate{next: next, dropped: prometheus.NewCounter(prometheus.CounterOpts{
		Name: "kube_state_push_ha_standby_samples_total",
		Help: "Samples not sent because this replica was not the leader when they were produced.",
	})}
	reg.MustRegister(g.dropped)
	return g
}

func (g *leaderGate) WriteBatch(ctx context.Context, batch []series.Sample) error {
	t := g.term.Load()
	if t == nil || !t.Active() {
		g.dropped.Add(float64(len(batch)))
		return nil
	}
	if !t.Continues() {
		start := t.Start().UnixMilli()
		kept := batch[:0:0]
		for _, s := range batch {
			if s.T >= start {
				kept = append(kept, s)
			}
		}
		g.dropped.Add(float64(len(batch) - len(kept)))
		batch = kept
	}
	if len(batch) == 0 {
		return nil
	}
	return g.next.WriteBatch(ctx, batch)
}

func (g *leaderGate) Flush(ctx context.Context) error { return g.next.Flush(ctx) }

// leading reports whether this replica leads now.
func (g *leaderGate) leading() bool {
	t := g.term.Load()
	return t != nil && t.Active()
}
