package remotewrite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// v2Mode is how a test receiver treats a request with the 2.0 Content-Type.
type v2Mode int

const (
	// v2Accept decodes it and answers with the Written headers, as Prometheus 3 does.
	v2Accept v2Mode = iota
	// v2Reject answers 415 Unsupported Media Type.
	v2Reject
	// v2Ignore decodes it as a 1.0 WriteRequest, whatever the Content-Type, and
	// answers 204 without Written headers, as Prometheus 2.x and VictoriaMetrics do.
	v2Ignore
)

// receiver is a test remote-write endpoint that decodes every request.
type receiver struct {
	t      *testing.T
	mu     sync.Mutex
	reqs   []prompb.WriteRequest // 1.0 requests, and 2.0 ones decoded as 1.0 by v2Ignore
	header []http.Header         // of reqs
	v2     []writev2.Request
	v2hdr  []http.Header // of v2
	// answer, when set, decides the status of each request (1-based count).
	answer func(n int) (int, string)
	n      int
	mode   v2Mode
	// written, when set, gives the Samples-Written of a 2.0 request that
	// carried sent samples.
	written func(sent int) int
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n++
	if r.answer != nil {
		if code, msg := r.answer(r.n); code != 0 {
			if code == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, msg, code)
			return
		}
	}
	isV2 := req.Header.Get("Content-Type") == "application/x-protobuf;proto=io.prometheus.write.v2.Request"
	if isV2 && r.mode == v2Reject {
		http.Error(w, "unsupported content type", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
		return
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		r.t.Errorf("body is not snappy block format: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if isV2 && r.mode == v2Accept {
		var wr writev2.Request
		if err := wr.Unmarshal(pb); err != nil {
			r.t.Errorf("body is not a 2.0 Request: %v", err)
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.v2 = append(r.v2, wr)
		r.v2hdr = append(r.v2hdr, req.Header.Clone())
		n := 0
		for _, ts := range wr.Timeseries {
			n += len(ts.Samples)
		}
		if r.written != nil {
			n = r.written(n)
		}
		w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(n))
		w.Header().Set("X-Prometheus-Remote-Write-Histograms-Written", "0")
		w.Header().Set("X-Prometheus-Remote-Write-Exemplars-Written", "0")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(pb); err != nil {
		r.t.Errorf("body is not a WriteRequest: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.reqs = append(r.reqs, wr)
	r.header = append(r.header, req.Header.Clone())
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) requests() ([]prompb.WriteRequest, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]prompb.WriteRequest(nil), r.reqs...), append([]http.Header(nil), r.header...)
}

func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

func (r *receiver) requestsV2() ([]writev2.Request, []http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]writev2.Request(nil), r.v2...), append([]http.Header(nil), r.v2hdr...)
}

func startQueue(t *testing.T, rcv *receiver, cfg QueueConfig) (*Queue, *prometheus.Registry) {
	t.Helper()
	return startQueueLogging(t, rcv, cfg, nil)
}

// startQueueLogging is startQueue with the queue's logger.
func startQueueLogging(t *testing.T, rcv http.Handler, cfg QueueConfig, logger *slog.Logger) (*Queue, *prometheus.Registry) {
	t.Helper()
	srv := httptest.NewServer(rcv)
	t.Cleanup(srv.Close)
	reg := prometheus.NewRegistry()
	cfg.MinBackoff, cfg.MaxBackoff = time.Millisecond, 10*time.Millisecond
	q := NewQueue(cfg, NewClient(srv.URL+"/api/v1/write", "kube-state-push/test", 5*time.Second, nil), reg, logger)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return q, reg
}

func labels(kv ...string) series.Labels {
	ls := make([]series.Label, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, series.Label{Name: kv[i], Value: kv[i+1]})
	}
	return series.FromPairs(ls)
}

func write(t *testing.T, q *Queue, ss []series.Sample) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := q.WriteBatch(ctx, ss); err != nil {
		t.Fatal(err)
	}
	if err := q.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRequestFormat(t *testing.T) {
	rcv := &receiver{t: t}
	q, _ := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1})
	a := labels("__name__", "kube_pod_info", "namespace", "ns", "pod", "p")
	write(t, q, []series.Sample{
		{Labels: a, T: 1000, V: 1},
		{Labels: a, T: 1001, V: series.StaleNaN},
	})
	reqs, headers := rcv.requests()
	if len(reqs) != 1 {
		t.Fatalf("got %d requests, want 1", len(reqs))
	}
	h := headers[0]
	for k, want := range map[string]string{
		"Content-Encoding":                  "snappy",
		"Content-Type":                      "application/x-protobuf",
		"X-Prometheus-Remote-Write-Version": "0.1.0",
		"User-Agent":                        "kube-state-push/test",
	} {
		if got := h.Get(k); got != want {
			t.Errorf("header %s = %q, want %q", k, got, want)
		}
	}
	ts := reqs[0].Timeseries
	if len(ts) != 1 || len(ts[0].Samples) != 2 {
		t.Fatalf("want one series with two samples, got %+v", ts)
	}
	var names []string
	for _, l := range ts[0].Labels {
		names = append(names, l.Name)
	}
	if fmt.Sprint(names) != "[__name__ namespace pod]" {
		t.Errorf("label order %v", names)
	}
	s := ts[0].Samples
	if s[0].Timestamp != 1000 || s[0].Value != 1 || s[1].Timestamp != 1001 {
		t.Errorf("samples %+v", s)
	}
	if bits := math.Float64bits(s[1].Value); bits != 0x7ff0000000000002 {
		t.Errorf("stale marker bits %#x, want 0x7ff0000000000002", bits)
	}
}

func TestMaxSamplesPerSendAndOrder(t *testing.T) {
	rcv := &receiver{t: t}
	q, _ := startQueue(t, rcv, QueueConfig{MinShards: 3, MaxShards: 3, MaxSamplesPerSend: 7})
	var in []series.Sample
	sets := []series.Labels{labels("__name__", "a"), labels("__name__", "b"), labels("__name__", "c"), labels("__name__", "d")}
	for i := range 50 {
		for _, ls := range sets {
			in = append(in, series.Sample{Labels: ls, T: int64(i), V: float64(i)})
		}
	}
	write(t, q, in)
	reqs, _ := rcv.requests()
	last := map[string]int64{}
	total := 0
	for _, r := range reqs {
		n := 0
		for _, ts := range r.Timeseries {
			name := ts.Labels[0].Value
			for _, s := range ts.Samples {
				if prev, ok := last[name]; ok && s.Timestamp <= prev {
					t.Errorf("series %s: timestamp %d after %d", name, s.Timestamp, prev)
				}
				last[name] = s.Timestamp
				n++
			}
		}
		if n > 7 {
			t.Errorf("request with %d samples, max 7", n)
		}
		total += n
	}
	if total != len(in) {
		t.Errorf("received %d samples, want %d", total, len(in))
	}
}

func TestRetriesAndDrops(t *testing.T) {
	for _, c := range []struct {
		name        string
		answer      func(n int) (int, string)
		wantSent    float64
		wantDropped string
		wantRetried float64
	}{
		{"5xx then success", func(n int) (int, string) {
			if n <= 2 {
				return 503, "overloaded"
			}
			return 0, ""
		}, 2, "", 2},
		{"429 then success", func(n int) (int, string) {
			if n == 1 {
				return 429, "slow down"
			}
			return 0, ""
		}, 2, "", 1},
		{"400 dropped", func(int) (int, string) { return 400, "out of order sample" }, 0, "http_400", 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcv := &receiver{t: t, answer: c.answer}
			q, reg := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1})
			ls := labels("__name__", "x")
			write(t, q, []series.Sample{{Labels: ls, T: 1, V: 1}, {Labels: ls, T: 2, V: 2}})
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != c.wantSent {
				t.Errorf("sent = %v, want %v", got, c.wantSent)
			}
			if got := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "retried"); got != c.wantRetried {
				t.Errorf("retried = %v, want %v", got, c.wantRetried)
			}
			if c.wantDropped != "" {
				if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", c.wantDropped); got != 2 {
					t.Errorf("dropped{%s} = %v, want 2", c.wantDropped, got)
				}
			}
		})
	}
}

// metricValue returns the value of a counter or gauge whose first label value
// is label (or the unlabelled one).
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if label != "" && (len(m.GetLabel()) == 0 || m.GetLabel()[0].GetValue() != label) {
				continue
			}
			return value(m)
		}
	}
	return 0
}

func value(m *dto.Metric) float64 {
	if m.GetCounter() != nil {
		return m.GetCounter().GetValue()
	}
	return m.GetGauge().GetValue()
}

func BenchmarkEncode(b *testing.B) {
	var ss []series.Sample
	for i := range 1000 {
		ls := labels("__name__", "kube_pod_container_status_ready", "container", "app", "namespace", "default",
			"pod", fmt.Sprintf("web-7d4b9c8f6d-%05d", i), "uid", fmt.Sprintf("6f1c2a9e-0b7d-4c1e-9a57-%012d", i))
		ss = append(ss, series.Sample{Labels: ls, T: 1_700_000_000_000 + int64(i), V: 1})
	}
	e := newEncoder(nil)
	b.ReportAllocs()
	var size int
	for b.Loop() {
		out, err := e.encode(ss)
		if err != nil {
			b.Fatal(err)
		}
		size = len(out)
	}
	b.ReportMetric(float64(len(ss))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	b.ReportMetric(float64(size), "bytes/req")
}

// slowSender stores after a delay, recording every sample it was given.
type slowSender struct {
	delay time.Duration
	mu    sync.Mutex
	last  map[string]int64
	n     int
	bad   int
}

func (s *slowSender) Store(_ context.Context, body []byte, _ ProtobufMessage) (WriteStats, error) {
	time.Sleep(s.delay)
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		return WriteStats{}, err
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(pb); err != nil {
		return WriteStats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range wr.Timeseries {
		k := ts.Labels[1].Value
		for _, x := range ts.Samples {
			if prev, ok := s.last[k]; ok && x.Timestamp <= prev {
				s.bad++
			}
			s.last[k] = x.Timestamp
			s.n++
		}
	}
	return WriteStats{}, nil
}

// With a slow receiver and a steady inflow the queue adds shards, and every
// series keeps its order through the resharding.
// Under load the queue adds shards and keeps every series' order, with and
// without a metadata sender (which runs beside the shards and must not hold
// up a reshard).
func TestReshardKeepsOrder(t *testing.T) {
	for _, c := range []struct {
		name     string
		metadata MetadataFunc
	}{{"no-metadata", nil}, {"metadata", testMetadata}} {
		t.Run(c.name, func(t *testing.T) { testReshardKeepsOrder(t, c.metadata) })
	}
}

func testReshardKeepsOrder(t *testing.T, metadata MetadataFunc) {
	snd := &slowSender{delay: 20 * time.Millisecond, last: map[string]int64{}}
	reg := prometheus.NewRegistry()
	q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 8, MaxSamplesPerSend: 100, ReshardInterval: 200 * time.Millisecond,
		Metadata: metadata}, snd, reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	hung := false
	defer func() {
		cancel()
		if !hung {
			<-done
		}
	}()

	sets := make([]series.Labels, 200)
	for i := range sets {
		sets[i] = labels("__name__", "m", "pod", fmt.Sprint("p", i))
	}
	total, maxShards := 0, 0.0
	for round := range int64(60) {
		var batch []series.Sample
		for _, ls := range sets {
			batch = append(batch, series.Sample{Labels: ls, T: round, V: float64(round)})
		}
		total += len(batch)
		written := make(chan error, 1)
		go func() { written <- q.WriteBatch(ctx, batch) }()
		select {
		case err := <-written:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			hung = true
			t.Fatalf("round %d: WriteBatch blocked for 10s (a reshard that never ends)", round)
		}
		maxShards = max(maxShards, metricValue(t, reg, "kube_state_push_remote_write_shards", ""))
		time.Sleep(30 * time.Millisecond)
	}
	flushCtx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	if err := q.Flush(flushCtx); err != nil {
		t.Fatal(err)
	}
	if maxShards < 2 {
		t.Errorf("shards stayed at %v under load", maxShards)
	}
	snd.mu.Lock()
	defer snd.mu.Unlock()
	if snd.n != total || snd.bad != 0 {
		t.Errorf("received %d of %d samples, %d out of order", snd.n, total, snd.bad)
	}
}

// With a backlog, 2.0 requests take up to 4 times MaxSamplesPerSend, 1.0
// ones never more; each series keeps its order.
func TestV2LargerRequestsUnderBacklog(t *testing.T) {
	for _, msg := range []ProtobufMessage{MessageV1, MessageV2} {
		t.Run(string(msg), func(t *testing.T) {
			rcv := &receiver{t: t}
			q, _ := startQueue(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, MaxSamplesPerSend: 7, ProtobufMessage: msg, MetadataSendInterval: -1})
			in := podSamples(1000, 70) // one WriteBatch: a backlog of 210
			write(t, q, in)
			v1, _ := rcv.requests()
			v2, _ := rcv.requestsV2()
			var sizes []int
			for _, r := range v1 {
				sizes = append(sizes, len(samplesV1([]prompb.WriteRequest{r})))
			}
			for _, r := range v2 {
				sizes = append(sizes, len(samplesV2(t, []writev2.Request{r})))
			}
			want := 7
			if msg == MessageV2 {
				want = 28
				sameSamples(t, render(in), samplesV2(t, v2))
			} else {
				sameSamples(t, render(in), samplesV1(v1))
			}
			if slices.Max(sizes) != want {
				t.Errorf("requests of %v samples, want at most and at least once %d", sizes, want)
			}
		})
	}
}

func TestSamplesPerSend(t *testing.T) {
	for _, c := range []struct {
		msg         ProtobufMessage
		per, queued int
		want        int
	}{
		{MessageV1, 2000, 9000, 2000},
		{MessageV2, 2000, 2000, 2000},
		{MessageV2, 2000, 2001, 8000},
		{MessageV2, 5000, 9000, 10000},
		{MessageV2, 20000, 90000, 20000},
	} {
		q := NewQueue(QueueConfig{MaxSamplesPerSend: c.per, ProtobufMessage: c.msg}, nil, nil, nil)
		if got := q.samplesPerSend(c.queued); got != c.want {
			t.Errorf("%s, max_samples_per_send %d, %d queued: %d, want %d", c.msg, c.per, c.queued, got, c.want)
		}
	}
}
