package walpipe

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	promlabels "github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/wal"
)

// v2Sink is a remote-write Sender that decodes 2.0 requests and keeps each
// sample as "labels t value st=start".
type v2Sink struct {
	mu  sync.Mutex
	got []string
}

func (s *v2Sink) Store(_ context.Context, body []byte, msg remotewrite.ProtobufMessage) (remotewrite.WriteStats, error) {
	if msg != remotewrite.MessageV2 {
		return remotewrite.WriteStats{}, fmt.Errorf("got a %s request", msg)
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		return remotewrite.WriteStats{}, err
	}
	var req writev2.Request
	if err := req.Unmarshal(pb); err != nil {
		return remotewrite.WriteStats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := promlabels.NewScratchBuilder(8)
	n := 0
	for _, ts := range req.Timeseries {
		ls, err := ts.ToLabels(&b, req.Symbols)
		if err != nil {
			return remotewrite.WriteStats{}, err
		}
		var pairs []series.Label
		ls.Range(func(l promlabels.Label) { pairs = append(pairs, series.Label{Name: l.Name, Value: l.Value}) })
		render := series.FromPairs(pairs).String()
		for _, x := range ts.Samples {
			v := fmt.Sprint(x.Value)
			if math.Float64bits(x.Value) == series.StaleNaNBits {
				v = "stale"
			}
			s.got = append(s.got, fmt.Sprintf("%s %d %s st=%d", render, x.Timestamp, v, x.StartTimestamp))
			n++
		}
	}
	return remotewrite.WriteStats{Samples: int64(n), Confirmed: true}, nil
}

func (s *v2Sink) samples() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// sendWAL sends w from the start through a walSender and a 2.0 queue, and
// returns what the receiver got once it has want samples.
func sendWAL(t *testing.T, w *wal.WAL, want int) []string {
	t.Helper()
	sink := &v2Sink{}
	q := remotewrite.NewQueue(remotewrite.QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: remotewrite.MessageV2,
		MetadataSendInterval: -1}, sink, nil, nil)
	snd, err := newWALSender("test", "test", w, q, newWALMetrics(nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = q.Run(ctx) })
	wg.Go(func() { snd.run(ctx) })
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.samples()) < want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	got := sink.samples()
	slices.Sort(got)
	return got
}

// A WAL written before start timestamps (format 1; testdata/wal-format1 was
// written by encodeSamples and encodeHandover of 890e84e: two samples
// records, a complete resend, a handover, and a staleness marker) is still
// read: a restart learns its series from it, and its backlog is sent, without
// start timestamps. Records appended after the upgrade carry theirs.
func TestWALFormat1StillRead(t *testing.T) {
	dir := t.TempDir()
	seg, err := os.ReadFile(filepath.Join("testdata", "wal-format1", "0000000000000000"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "0000000000000000"), seg, 0o644); err != nil {
		t.Fatal(err)
	}
	w, err := wal.Open(dir, wal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close() })
	if len(w.Repairs()) != 0 {
		t.Fatalf("the fixture needed repairs: %+v", w.Repairs())
	}

	// The fixture is format 1 indeed.
	r, err := w.NewReader(wal.Position{})
	if err != nil {
		t.Fatal(err)
	}
	var types []byte
	for r.Next() {
		types = append(types, r.Record()[0])
	}
	r.Close()
	if want := []byte{recSamplesV1, recResendBegin, recSamplesV1, recResendEnd, recHandoverV1, recSamplesV1}; !slices.Equal(types, want) {
		t.Fatalf("fixture record types %v, want %v", types, want)
	}

	restarts := `kube_pod_container_status_restarts_total{container="app",namespace="ns",pod="p",uid="u1"}`
	phase := `kube_pod_status_phase{namespace="ns",phase="Running",pod="p",uid="u1"}`
	info := `kube_pod_info{namespace="ns",pod="q",uid="u2"}`
	prev, _, err := scanWAL(w)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		series string
		live   bool
		t      int64
	}{{restarts, true, 3000}, {phase, false, 3000}, {info, false, 2500}} {
		if p := prev[c.series]; p == nil || p.Live != c.live || p.T != c.t {
			t.Errorf("%s: %+v, want live=%v t=%d", c.series, p, c.live, c.t)
		}
	}

	// After the upgrade: a new record, with the restart counter's start.
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}, {Name: "uid", Value: "u1"}}
	appendSamples(t, w, series.Sample{Labels: series.New("kube_pod_container_status_restarts_total", &base,
		[]series.Label{{Name: "container", Value: "app"}}), T: 4000, V: 5, ST: 500})

	got := sendWAL(t, w, 8)
	want := []string{
		// The handover record is not sent.
		restarts + ` 1000 3 st=0`, restarts + ` 2000 3 st=0`, restarts + ` 3000 4 st=0`, restarts + ` 4000 5 st=500`,
		phase + ` 1000 1 st=0`, phase + ` 2000 1 st=0`, phase + ` 3000 stale st=0`,
		info + ` 2000 1 st=0`,
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("sent:\n%s\nwant:\n%s", fmt.Sprint(got), fmt.Sprint(want))
	}
}
