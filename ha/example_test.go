package ha_test

import (
	"context"
	"log/slog"
	"sync/atomic"

	"k8s.io/client-go/kubernetes"

	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/series"
)

// batchWriter has the shape of agent.BatchWriter.
type batchWriter interface {
	WriteBatch(ctx context.Context, batch []series.Sample) error
	Flush(ctx context.Context) error
}

// gate sits between the batcher and the writer (rules 1, 4 and 5 of the
// package documentation): it passes samples only during a term, and only
// those stamped at or after the term's start.
type gate struct {
	next    batchWriter
	term    atomic.Pointer[ha.Term]
	dropped atomic.Int64
}

func (g *gate) WriteBatch(ctx context.Context, batch []series.Sample) error {
	t := g.term.Load()
	if t == nil || !t.Active() {
		g.dropped.Add(int64(len(batch)))
		return nil
	}
	start := t.Start().UnixMilli()
	kept := batch[:0]
	for _, s := range batch {
		if s.T >= start {
			kept = append(kept, s)
		}
	}
	g.dropped.Add(int64(len(batch) - len(kept)))
	if len(kept) == 0 {
		return nil
	}
	return g.next.WriteBatch(ctx, kept)
}

func (g *gate) Flush(ctx context.Context) error { return g.next.Flush(ctx) }

// How the pipeline might follow the terms: the callback only records the term
// and wakes the pipeline, which resends at once (rule 3).
func Example_leaderGate() {
	var (
		client  kubernetes.Interface // the agent's clientset
		next    batchWriter          // the WAL or the queue
		resend  = func() {}          // Snapshot.Resend plus markers of series ended while standby
		started = make(chan struct{}, 1)
	)
	g := &gate{next: next}
	e, err := ha.New(client, ha.Config{
		LeaseName: "kube-state-push", LeaseNamespace: "monitoring", Identity: "kube-state-push-0",
		OnStartedLeading: func(t *ha.Term) {
			g.term.Store(t)
			select {
			case started <- struct{}{}:
			default:
			}
		},
	}, slog.Default())
	if err != nil {
		return // a *ConfigError in the agent: exit status 2
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-started:
				resend()
			}
		}
	}()
	_ = e.Run(ctx) // in the agent's run group, cancelled after the sender has stopped (rule 6)
}
