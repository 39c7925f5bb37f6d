package agent

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

func TestNextRound(t *testing.T) {
	t0 := time.Unix(1000, 0)
	every := 30 * time.Second
	for _, c := range []struct {
		name      string
		prev, now time.Time
		full      bool
		want      time.Time
	}{
		{"after a spread round", t0, t0.Add(15 * time.Second), false, t0.Add(every)},
		{"after a full push", t0, t0.Add(2 * time.Second), true, t0.Add(2*time.Second + every/2)},
		{"overran", t0, t0.Add(31 * time.Second), false, t0.Add(31 * time.Second)},
	} {
		if got := nextRound(c.prev, c.now, every, c.full); !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got.Sub(t0), c.want.Sub(t0))
		}
	}
}

// The initial lists push every series at once; the spread rounds that follow
// must re-send each series within one resend interval of that push, and then
// every interval, wherever it is in the round.
func TestResendCadenceAfterFullPush(t *testing.T) {
	const every = 2 * time.Second
	rec := &lockedRecorder{}
	snap := snapshot.New(rec, nil)
	set := snap.NewSet("configmaps", nil)
	a := &agent{cfg: Config{ResendInterval: every}, snap: snap, kick: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.resendLoop(ctx, ctx) })
	// The initial list, just after the loop started.
	for i := range 40 {
		uid := fmt.Sprintf("u%02d", i)
		snap.Apply(set, collectors.Object{UID: uid, ResourceVersion: "1", Series: []series.Series{{
			Labels: series.FromPairs([]series.Label{{Name: series.MetricName, Value: "x"}, {Name: "uid", Value: uid}}), Value: 1}}})
	}
	time.Sleep(4*every + every/4)
	cancel()
	wg.Wait()

	rec.mu.Lock()
	defer rec.mu.Unlock()
	times := map[string][]int64{}
	for _, s := range rec.all {
		k := s.Labels.String()
		times[k] = append(times[k], s.T)
	}
	if len(times) != 40 {
		t.Fatalf("%d series, want 40", len(times))
	}
	margin := (every / 5).Milliseconds() // a loaded machine's timer latency
	for k, ts := range times {
		slices.Sort(ts)
		for i := 1; i < len(ts); i++ {
			gap := ts[i] - ts[i-1]
			if gap > every.Milliseconds()+margin {
				t.Errorf("%s: gap of %d ms after its sample %d, want at most %v + %d ms", k, gap, i-1, every, margin)
			}
			if gap < (every/2).Milliseconds()-margin {
				t.Errorf("%s: gap of %d ms after its sample %d, want at least half of %v", k, gap, i-1, every)
			}
		}
		// The push, the first round half an interval later, then one per interval.
		if n := len(ts); n < 4 || n > 6 {
			t.Errorf("%s: %d samples in %v, want 4..6", k, n, 4*every+every/4)
		}
	}
}
