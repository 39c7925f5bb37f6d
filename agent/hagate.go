package agent

import (
	"context"
	"slices"
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
	kept := g.admit(batch)
	g.dropped.Add(float64(len(batch) - len(kept)))
	if len(kept) == 0 {
		return nil
	}
	return g.next.WriteBatch(ctx, kept)
}

// admit returns the samples of batch that the current term may send: none
// while standby, and only those stamped at or after the term's start unless
// the term continues this replica's previous one. It filters in place when
// it drops only some.
func (g *leaderGate) admit(batch []series.Sample) []series.Sample {
	t := g.term.Load()
	if t == nil || !t.Active() {
		return nil
	}
	if t.Continues() {
		return batch
	}
	start := t.Start().UnixMilli()
	for i, s := range batch {
		if s.T < start {
			kept := slices.Clone(batch[:i])
			for _, s := range batch[i+1:] {
				if s.T >= start {
					kept = append(kept, s)
				}
			}
			return kept
		}
	}
	return batch
}

func (g *leaderGate) Flush(ctx context.Context) error { return g.next.Flush(ctx) }
