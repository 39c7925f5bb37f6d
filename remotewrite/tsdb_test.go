package remotewrite

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
)

// tsdb keeps what a receiver stored per series (the value of label s), as a
// TSDB does: a sample after the series' last is appended; one at or before it
// is a duplicate when identical (accepted, not stored again) and otherwise out
// of order, which fails the test: sending halves again must never cause one.
type tsdb struct {
	t      *testing.T
	mu     sync.Mutex
	stored map[string][]prompb.Sample
	dups   int
}

func newTSDB(t *testing.T) *tsdb { return &tsdb{t: t, stored: map[string][]prompb.Sample{}} }

func (d *tsdb) append(name string, x prompb.Sample) {
	have := d.stored[name]
	if n := len(have); n > 0 && x.Timestamp <= have[n-1].Timestamp {
		for _, h := range have {
			if h.Timestamp == x.Timestamp && h.Value == x.Value {
				d.dups++
				return
			}
		}
		d.t.Errorf("series %s: sample at %d out of order after %d", name, x.Timestamp, have[n-1].Timestamp)
		return
	}
	d.stored[name] = append(have, x)
}

// timestamps returns the stored timestamps of series name.
func (d *tsdb) timestamps(name string) []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []int64
	for _, x := range d.stored[name] {
		out = append(out, x.Timestamp)
	}
	return out
}

// seriesName is the value of label s, which the test series carry.
func seriesName(ls []prompb.Label) string {
	for _, l := range ls {
		if l.Name == "s" {
			return l.Value
		}
	}
	return ""
}

func decodeV1(t *testing.T, body []byte) prompb.WriteRequest {
	t.Helper()
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatalf("snappy: %v", err)
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(pb); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return wr
}

// startSenderQueue runs a one-shard queue on snd, logging at debug level
// into the buffer it returns.
func startSenderQueue(t *testing.T, snd Sender, cfg QueueConfig) (*Queue, *prometheus.Registry, *syncBuffer) {
	t.Helper()
	reg := prometheus.NewRegistry()
	logs := &syncBuffer{}
	cfg.MinShards, cfg.MaxShards = 1, 1
	if cfg.MinBackoff == 0 {
		cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 10*time.Millisecond
	}
	q := NewQueue(cfg, snd, reg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	runQueue(t, q)
	return q, reg, logs
}
