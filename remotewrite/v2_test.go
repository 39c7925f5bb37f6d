package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promlabels "github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// testMetadata knows two families, as the collectors' family table would.
func testMetadata(name string) (typ, help, unit string, ok bool) {
	switch name {
	case "kube_pod_info":
		return "gauge", "Information about pod.", "", true
	case "kube_pod_container_status_restarts_total":
		return "counter", "The number of container restarts per container.", "", true
	case "kube_pod_start_time":
		return "gauge", "Start time in unix timestamp for a pod.", "seconds", true
	}
	return "", "", "", false
}

// got is one received sample, rendered for comparison.
type got struct {
	series string
	t      int64
	v      float64
}

func (g got) String() string { return fmt.Sprintf("%s@%d=%v", g.series, g.t, g.v) }

func samplesV1(reqs []prompb.WriteRequest) []got {
	var out []got
	for _, r := range reqs {
		for _, ts := range r.Timeseries {
			b := promlabels.NewScratchBuilder(len(ts.Labels))
			for _, l := range ts.Labels {
				b.Add(l.Name, l.Value)
			}
			name := b.Labels().String()
			for _, s := range ts.Samples {
				out = append(out, got{name, s.Timestamp, s.Value})
			}
		}
	}
	return out
}

func samplesV2(t *testing.T, reqs []writev2.Request) []got {
	t.Helper()
	var out []got
	b := promlabels.NewScratchBuilder(8)
	for _, r := range reqs {
		for _, ts := range r.Timeseries {
			ls, err := ts.ToLabels(&b, r.Symbols)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ts.Samples {
				out = append(out, got{ls.String(), s.Timestamp, s.Value})
			}
		}
	}
	return out
}

// podSamples returns n samples of three series of one pod, two families known
// to testMetadata and one not.
func podSamples(from int64, n int) []series.Sample {
	info := labels("__name__", "kube_pod_info", "namespace", "ns", "pod", "p", "node", "n1")
	restarts := labels("__name__", "kube_pod_container_status_restarts_total", "namespace", "ns", "pod", "p", "container", "c")
	other := labels("__name__", "kube_pod_unknown_family", "namespace", "ns", "pod", "p")
	var ss []series.Sample
	for i := range int64(n) {
		ss = append(ss,
			series.Sample{Labels: info, T: from + i, V: 1},
			series.Sample{Labels: restarts, T: from + i, V: float64(i)},
			series.Sample{Labels: other, T: from + i, V: 2})
	}
	return ss
}

func render(ss []series.Sample) []got {
	var out []got
	for _, s := range ss {
		b := promlabels.NewScratchBuilder(s.Labels.Len())
		for l := range s.Labels.All() {
			b.Add(l.Name, l.Value)
		}
		out = append(out, got{b.Labels().String(), s.T, s.V})
	}
	return out
}

// sameSamples compares what was sent with what arrived, per series in order.
func sameSamples(t *testing.T, want, have []got) {
	t.Helper()
	bySeries := func(gs []got) map[string][]got {
		m := map[string][]got{}
		for _, g := range gs {
			m[g.series] = append(m[g.series], g)
		}
		return m
	}
	w, h := bySeries(want), bySeries(have)
	if len(w) != len(h) {
		t.Errorf("got %d series, want %d", len(h), len(w))
	}
	for k, ws := range w {
		hs := h[k]
		if len(hs) != len(ws) {
			t.Errorf("%s: got %d samples, want %d", k, len(hs), len(ws))
			continue
		}
		for i := range ws {
			if ws[i].t != hs[i].t || math.Float64bits(ws[i].v) != math.Float64bits(hs[i].v) {
				t.Errorf("%s: sample %d is %v, want %v", k, i, hs[i], ws[i])
			}
		}
	}
}

func TestV2RequestFormat(t *testing.T) {
	rcv := &receiver{t: t}
	q, reg := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2, Metadata: testMetadata})
	in := podSamples(1000, 2)
	in = append(in, series.Sample{Labels: in[0].Labels, T: 2000, V: series.StaleNaN})
	write(t, q, in)

	reqs, headers := rcv.requestsV2()
	if v1, _ := rcv.requests(); len(v1) != 0 || len(reqs) != 1 {
		t.Fatalf("got %d 2.0 and %d 1.0 requests, want one 2.0", len(reqs), len(v1))
	}
	for k, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf;proto=io.prometheus.write.v2.Request",
		"X-Prometheus-Remote-Write-Version": "2.0.0",
		"User-Agent":                        "kube-state-push/test",
	} {
		if got := headers[0].Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	r := reqs[0]
	if len(r.Symbols) == 0 || r.Symbols[0] != "" {
		t.Fatalf("symbols must start with \"\": %q", r.Symbols)
	}
	if c := slices.Clone(r.Symbols); len(slices.Compact(slices.Sorted(slices.Values(c)))) != len(r.Symbols) {
		t.Errorf("symbols are not deduplicated: %q", r.Symbols)
	}
	if len(r.Timeseries) != 3 {
		t.Fatalf("got %d series, want 3", len(r.Timeseries))
	}
	b := promlabels.NewScratchBuilder(8)
	for _, ts := range r.Timeseries {
		for _, ref := range ts.LabelsRefs {
			if int(ref) >= len(r.Symbols) {
				t.Fatalf("ref %d outside symbols", ref)
			}
		}
		var names []string
		for i := 0; i < len(ts.LabelsRefs); i += 2 {
			names = append(names, r.Symbols[ts.LabelsRefs[i]])
		}
		if !slices.IsSorted(names) {
			t.Errorf("label names not sorted: %v", names)
		}
		ls, err := ts.ToLabels(&b, r.Symbols)
		if err != nil {
			t.Fatal(err)
		}
		md, err := ts.ToMetadata(r.Symbols)
		if err != nil {
			t.Fatal(err)
		}
		typ, help, unit, ok := testMetadata(ls.Get("__name__"))
		if !ok {
			typ = "unknown"
		}
		if string(md.Type) != typ || md.Help != help || md.Unit != unit {
			t.Errorf("%s: metadata %+v, want %s %q %q", ls, md, typ, help, unit)
		}
		if !ok && (ts.Metadata.HelpRef != 0 || ts.Metadata.UnitRef != 0 || ts.Metadata.Type != writev2.Metadata_METRIC_TYPE_UNSPECIFIED) {
			t.Errorf("%s: unknown family has metadata %+v", ls, ts.Metadata)
		}
	}
	sameSamples(t, render(in), samplesV2(t, reqs))
	last := r.Timeseries[0].Samples[len(r.Timeseries[0].Samples)-1]
	if bits := math.Float64bits(last.Value); bits != series.StaleNaNBits {
		t.Errorf("stale marker bits %#x", bits)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_protobuf_message", string(MessageV2)); got != 1 {
		t.Errorf("protobuf_message{2.0} = %v, want 1", got)
	}
}

func TestV2WrittenMismatch(t *testing.T) {
	rcv := &receiver{t: t, written: func(sent int) int { return sent - 2 }}
	q, reg := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2, Metadata: testMetadata})
	write(t, q, podSamples(1000, 3))
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_unconfirmed_total", ""); got != 2 {
		t.Errorf("unconfirmed = %v, want 2", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 9 {
		t.Errorf("sent = %v, want 9", got)
	}
	if q.ProtobufMessage() != MessageV2 {
		t.Errorf("a 2xx with Written headers must not fall back")
	}
}

// TestV2Fallback covers both ways a receiver shows it does not take 2.0: the
// samples of the refused request arrive as 1.0, in order, and later batches go
// as 1.0 at once.
func TestV2Fallback(t *testing.T) {
	for _, c := range []struct {
		name string
		mode v2Mode
		// v2Requests is how many 2.0 requests reach the receiver's 1.0
		// decoder: v2Ignore decodes the refused one as an empty 1.0 request.
		v2Requests int
	}{
		{"415", v2Reject, 0},
		{"2xx without Written headers", v2Ignore, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcv := &receiver{t: t, mode: c.mode}
			q, reg := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2, Metadata: testMetadata, MetadataSendInterval: -1})
			first := podSamples(1000, 2)
			write(t, q, first)
			if q.ProtobufMessage() != MessageV1 {
				t.Fatalf("still sending %s", q.ProtobufMessage())
			}
			second := podSamples(2000, 2)
			write(t, q, second)

			reqs, headers := rcv.requests()
			if len(reqs) != c.v2Requests+2 {
				t.Fatalf("got %d 1.0 requests, want %d", len(reqs), c.v2Requests+2)
			}
			if c.v2Requests == 1 && len(reqs[0].Timeseries) != 0 {
				t.Errorf("a 1.x receiver decodes a 2.0 body as an empty request, got %d series", len(reqs[0].Timeseries))
			}
			for _, h := range headers[c.v2Requests:] {
				if h.Get("Content-Type") != "application/x-protobuf" || h.Get("X-Prometheus-Remote-Write-Version") != "0.1.0" {
					t.Errorf("resend is not 1.0: %v", h)
				}
			}
			sameSamples(t, render(append(first, second...)), samplesV1(reqs))
			if rcv.count() != 3 {
				t.Errorf("receiver saw %d requests, want 3 (2.0, its 1.0 resend, next batch as 1.0)", rcv.count())
			}
			if got := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "fallback"); got != 1 {
				t.Errorf("requests{fallback} = %v, want 1", got)
			}
			if got := metricValue(t, reg, "kube_state_push_remote_write_protobuf_message", string(MessageV1)); got != 1 {
				t.Errorf("protobuf_message{1.0} = %v, want 1", got)
			}
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 12 {
				t.Errorf("sent = %v, want 12", got)
			}
		})
	}
}

// TestV2FallbackKeepsOrder sends many batches through several shards to a
// receiver that ignores 2.0: every sample arrives, each series in order.
func TestV2FallbackKeepsOrder(t *testing.T) {
	rcv := &receiver{t: t, mode: v2Ignore}
	q, _ := startQueue(t, rcv, QueueConfig{MinShards: 3, MaxShards: 3, MaxSamplesPerSend: 5, ProtobufMessage: MessageV2, MetadataSendInterval: -1})
	var all []series.Sample
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for i := range 20 {
		b := podSamples(int64(1000+10*i), 3)
		all = append(all, b...)
		if err := q.WriteBatch(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if err := q.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	reqs, _ := rcv.requests()
	sameSamples(t, render(all), samplesV1(reqs))
}

func TestV1MetadataSent(t *testing.T) {
	rcv := &receiver{t: t}
	q, reg := startQueue(t, rcv, QueueConfig{MinShards: 2, MaxShards: 2, Metadata: testMetadata, MetadataSendInterval: 100 * time.Millisecond})
	write(t, q, podSamples(1000, 1))
	// The families go out at once, then again every interval.
	var sends int
	eventually(t, func() bool {
		reqs, headers := rcv.requests()
		sends = 0
		for i, r := range reqs {
			if len(r.Metadata) == 0 {
				continue
			}
			if len(r.Timeseries) != 0 {
				t.Fatalf("metadata and series in one request")
			}
			if headers[i].Get("Content-Type") != "application/x-protobuf" {
				t.Errorf("metadata request Content-Type %q", headers[i].Get("Content-Type"))
			}
			for _, m := range r.Metadata {
				typ, help, unit, ok := testMetadata(m.MetricFamilyName)
				if !ok || m.Help != help || m.Unit != unit || m.Type != metricTypeV1(typ) {
					t.Errorf("metadata %+v", m)
				}
				if m.MetricFamilyName == "kube_pod_info" {
					sends++
				}
			}
		}
		return sends >= 3
	})
	if got := metricValue(t, reg, "kube_state_push_remote_write_metadata_sent_total", ""); got < 6 {
		t.Errorf("metadata_sent = %v, want >= 6", got)
	}
}

func TestV2SendsNoSeparateMetadataUntilFallback(t *testing.T) {
	rcv := &receiver{t: t}
	q, _ := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2, Metadata: testMetadata, MetadataSendInterval: 20 * time.Millisecond})
	write(t, q, podSamples(1000, 1))
	time.Sleep(100 * time.Millisecond) // several intervals: nothing may come
	if reqs, _ := rcv.requests(); len(reqs) != 0 {
		t.Fatalf("2.0 queue sent %d 1.0 requests", len(reqs))
	}

	rcv2 := &receiver{t: t, mode: v2Reject}
	q2, _ := startQueue(t, rcv2, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2, Metadata: testMetadata, MetadataSendInterval: time.Hour})
	write(t, q2, podSamples(1000, 1))
	eventually(t, func() bool {
		reqs, _ := rcv2.requests()
		for _, r := range reqs {
			if len(r.Metadata) == 2 {
				return true
			}
		}
		return false
	})
}

func TestV1UnsupportedIsDropped(t *testing.T) {
	rcv := &receiver{t: t, answer: func(int) (int, string) { return 415, "no" }}
	q, reg := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1})
	write(t, q, podSamples(1000, 1))
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_415"); got != 3 {
		t.Errorf("dropped{http_415} = %v, want 3", got)
	}
	if rcv.count() != 1 {
		t.Errorf("receiver saw %d requests, want 1", rcv.count())
	}
}

// fakeSender answers every request with stats and err, and counts them.
type fakeSender struct {
	stats WriteStats
	err   error
	calls atomic.Int64
}

func (f *fakeSender) Store(context.Context, []byte, ProtobufMessage) (WriteStats, error) {
	f.calls.Add(1)
	return f.stats, f.err
}

func TestV2PartialWriteRefused(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := &fakeSender{stats: WriteStats{Samples: 2, Confirmed: true}, err: &StatusError{Code: 400, Message: "out of order sample"}}
	q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: MessageV2}, s, reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	write(t, q, podSamples(1000, 2))
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_400"); got != 4 {
		t.Errorf("dropped{http_400} = %v, want 4", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 2 {
		t.Errorf("sent = %v, want 2", got)
	}
	// The receiver wrote what it could and said so: sending halves again
	// would only be refused again.
	if n := s.calls.Load(); n != 1 {
		t.Errorf("%d requests, want 1 (a 2.0 refusal with Samples-Written is not bisected)", n)
	}
}

func TestClientClassifiesAnswers(t *testing.T) {
	for _, c := range []struct {
		name        string
		msg         ProtobufMessage
		code        int
		written     string
		unsupported bool
		status      int
	}{
		{"1.0 2xx without headers", MessageV1, 204, "", false, 0},
		{"2.0 2xx without headers", MessageV2, 204, "", true, 0},
		{"2.0 2xx with headers", MessageV2, 204, "3", false, 0},
		{"2.0 415", MessageV2, 415, "", true, 415},
		{"1.0 415", MessageV1, 415, "", true, 415},
		{"2.0 400 partial", MessageV2, 400, "1", false, 400},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if c.written != "" {
					w.Header().Set(headerSamplesWritten, c.written)
				}
				w.WriteHeader(c.code)
			}))
			defer srv.Close()
			stats, err := NewClient(srv.URL, "t", time.Second, nil).Store(context.Background(), []byte("x"), c.msg)
			var uerr *UnsupportedMessageError
			if errors.As(err, &uerr) != c.unsupported {
				t.Errorf("err = %v, unsupported want %v", err, c.unsupported)
			}
			var serr *StatusError
			if (c.status != 0) != errors.As(err, &serr) || (serr != nil && serr.Code != c.status) {
				t.Errorf("err = %v, want status %d", err, c.status)
			}
			if (c.written != "") != stats.Confirmed {
				t.Errorf("stats %+v", stats)
			}
		})
	}
}

// eventually polls cond until it holds, failing the test after 10 s.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
