package remotewrite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// refusingSender is a 1.0 receiver that refuses the series bad names. A
// request holding any of them is refused: with code 400, naming the first,
// after storing the valid series (Mimir, Cortex); with 409, storing nothing
// (Thanos).
type refusingSender struct {
	*tsdb
	code     int
	bad      func(name string) bool
	requests int
}

func (s *refusingSender) Store(_ context.Context, body []byte, _ ProtobufMessage) (WriteStats, error) {
	wr := decodeV1(s.t, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	firstBad := ""
	for _, ts := range wr.Timeseries {
		if name := seriesName(ts.Labels); s.bad(name) && firstBad == "" {
			firstBad = name
		}
	}
	if firstBad != "" && s.code == http.StatusConflict {
		return WriteStats{}, &StatusError{Code: s.code, Message: fmt.Sprintf("store locally for endpoint: conflict: series s=%q", firstBad)}
	}
	for _, ts := range wr.Timeseries {
		if name := seriesName(ts.Labels); !s.bad(name) {
			for _, x := range ts.Samples {
				s.append(name, x)
			}
		}
	}
	if firstBad != "" {
		return WriteStats{}, &StatusError{Code: s.code, Message: fmt.Sprintf("received a series with an invalid label value: series s=%q", firstBad)}
	}
	return WriteStats{}, nil
}

// rounds returns rounds samples of each of n series s=0..n-1, round after
// round, at timestamps 1000, 1001, ...
func rounds(n, rounds int) []series.Sample {
	var ss []series.Sample
	for r := range rounds {
		for i := range n {
			ss = append(ss, series.Sample{Labels: labels("__name__", "m", "s", fmt.Sprint(i)), T: int64(1000 + r), V: float64(r)})
		}
	}
	return ss
}

// A request refused for one series of 32 (two samples each) is bisected
// until that series' samples are isolated: only they are dropped, counted;
// every good sample is stored, in order, both from a receiver that stored
// the valid series of the refused request (400) and from one that stored
// nothing (409).
func TestBisectIsolatesRefusedSeries(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusConflict} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			snd := &refusingSender{tsdb: newTSDB(t), code: code, bad: func(name string) bool { return name == "3" }}
			q, reg, logs := startSenderQueue(t, snd, QueueConfig{MaxSamplesPerSend: 64})
			write(t, q, rounds(32, 2))
			reason := fmt.Sprintf("http_%d", code)
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", reason); got != 2 {
				t.Errorf("dropped{%s} = %v, want 2 (the two samples of s=3)", reason, got)
			}
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 62 {
				t.Errorf("sent = %v, want 62", got)
			}
			for i := range 32 {
				name := fmt.Sprint(i)
				want := "[1000 1001]"
				if name == "3" {
					want = "[]"
				}
				if got := fmt.Sprint(snd.timestamps(name)); got != want {
					t.Errorf("series s=%s stored %s, want %s", name, got, want)
				}
			}
			// 64 samples, s=3 at positions 3 and 35: the first request, two
			// halves both refused, then two refused pieces of 16, 8, 4, 2 and
			// 1 samples, each sent as two halves.
			snd.mu.Lock()
			requests := snd.requests
			snd.mu.Unlock()
			if want := 1 + 2 + 4*5; requests != want {
				t.Errorf("%d requests, want %d", requests, want)
			}
			if requests > 1+bisectBudget(64) {
				t.Errorf("%d requests, over the budget of 1+%d", requests, bisectBudget(64))
			}
			if !strings.Contains(logs.String(), `series s=\"3\"`) {
				t.Errorf("no log line carries the receiver's message:\n%s", logs)
			}
		})
	}
}

// Past the budget of extra requests the refused rest is dropped, counted:
// every sample is sent or counted as dropped, never lost silently, and no
// more requests are sent than the budget allows.
func TestBisectBudget(t *testing.T) {
	for _, code := range []int{http.StatusBadRequest, http.StatusConflict} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			// Every fourth of 64 series is refused: isolating 16 would take
			// far more than the budget.
			bad := func(name string) bool {
				i, err := strconv.Atoi(name)
				return err == nil && i%4 == 0
			}
			snd := &refusingSender{tsdb: newTSDB(t), code: code, bad: bad}
			q, reg, logs := startSenderQueue(t, snd, QueueConfig{MaxSamplesPerSend: 64})
			write(t, q, rounds(64, 1))
			sent := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", "")
			dropped := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", fmt.Sprintf("http_%d", code))
			if sent+dropped != 64 {
				t.Errorf("sent %v + dropped %v != 64", sent, dropped)
			}
			if dropped < 16 || dropped == 64 {
				t.Errorf("dropped %v, want at least the 16 refused and not all", dropped)
			}
			snd.mu.Lock()
			requests, stored := snd.requests, 0
			for _, xs := range snd.stored {
				stored += len(xs)
			}
			snd.mu.Unlock()
			t.Logf("%d requests: %v samples sent, %v dropped, %d stored", requests, sent, dropped, stored)
			if requests > 1+bisectBudget(64) {
				t.Errorf("%d requests, over the budget of 1+%d", requests, bisectBudget(64))
			}
			// Mimir stored every valid series of the first request; Thanos
			// only what the pieces that went through carried.
			want := int(sent)
			if code == http.StatusBadRequest {
				want = 48
			}
			if stored != want {
				t.Errorf("receiver stored %d samples, want %d", stored, want)
			}
			if !strings.Contains(logs.String(), "budget_spent=true") {
				t.Errorf("no log line says the budget was spent:\n%s", logs)
			}
		})
	}
}

// A refusal that is about every request (credentials, URL) or a rate limit
// is not bisected: one request, all its samples dropped, counted.
func TestRefusalNotBisected(t *testing.T) {
	for _, c := range []struct {
		code int
		cfg  QueueConfig
	}{
		{http.StatusUnauthorized, QueueConfig{}},
		{http.StatusForbidden, QueueConfig{}},
		{http.StatusNotFound, QueueConfig{}},
		{http.StatusTooManyRequests, QueueConfig{DropOn429: true}},
	} {
		t.Run(fmt.Sprint(c.code), func(t *testing.T) {
			var err error = &StatusError{Code: c.code, Message: "no"}
			if c.code == http.StatusTooManyRequests {
				err = &RecoverableError{Err: err}
			}
			snd := &fakeSender{err: err}
			q, reg, _ := startSenderQueue(t, snd, c.cfg)
			write(t, q, rounds(8, 2))
			reason := fmt.Sprintf("http_%d", c.code)
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", reason); got != 16 {
				t.Errorf("dropped{%s} = %v, want 16", reason, got)
			}
			if n := snd.calls.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// sizeLimitedReceiver answers 413 to a request of more than limit samples or
// holding a sample of series huge, and stores the others.
type sizeLimitedReceiver struct {
	*tsdb
	limit    int
	accepted []int // samples of each accepted request
}

func (r *sizeLimitedReceiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.t.Errorf("read body: %v", err)
		return
	}
	wr := decodeV1(r.t, body)
	n, huge := 0, false
	for _, ts := range wr.Timeseries {
		n += len(ts.Samples)
		huge = huge || seriesName(ts.Labels) == "huge"
	}
	if n > r.limit || huge {
		http.Error(w, fmt.Sprintf("request body too large: %d samples, limit %d\n", n, r.limit), http.StatusRequestEntityTooLarge)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.accepted = append(r.accepted, n)
	for _, ts := range wr.Timeseries {
		for _, x := range ts.Samples {
			r.append(seriesName(ts.Labels), x)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// A request answered 413 is sent again in halves until the pieces fit; a
// single sample answered 413 is dropped, counted. Every other sample arrives,
// in order.
func TestSplitOn413(t *testing.T) {
	rcv := &sizeLimitedReceiver{tsdb: newTSDB(t), limit: 4}
	logs := &syncBuffer{}
	q, reg := startQueueLogging(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, MaxSamplesPerSend: 64},
		slog.New(slog.NewTextHandler(logs, nil)))
	in := rounds(10, 3)
	in = append(in[:15:15], append([]series.Sample{{Labels: labels("__name__", "m", "s", "huge"), T: 1000, V: 1}}, in[15:]...)...)
	write(t, q, in)
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_413"); got != 1 {
		t.Errorf("dropped{http_413} = %v, want 1 (the huge sample)", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 30 {
		t.Errorf("sent = %v, want 30", got)
	}
	for i := range 10 {
		if got := fmt.Sprint(rcv.timestamps(fmt.Sprint(i))); got != "[1000 1001 1002]" {
			t.Errorf("series s=%d stored %s, want [1000 1001 1002]", i, got)
		}
	}
	rcv.mu.Lock()
	for _, n := range rcv.accepted {
		if n > 4 {
			t.Errorf("accepted a request of %d samples, limit 4", n)
		}
	}
	rcv.mu.Unlock()
	if got := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "split"); got == 0 {
		t.Error("no request counted as split")
	}
	if !strings.Contains(logs.String(), "request body too large: 31 samples, limit 4") {
		t.Errorf("no log line carries the receiver's message:\n%s", logs)
	}
}

// A 429's body is in the log line, whether the request is retried (the
// default) or dropped (retry_on_http_429: false).
func Test429BodyLogged(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprintf("drop=%v", drop), func(t *testing.T) {
			var mu sync.Mutex
			n := 0
			rcv := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				mu.Lock()
				n++
				first := n <= 2
				mu.Unlock()
				if first {
					http.Error(w, "the request has been rejected because the tenant exceeded the ingestion rate limit", http.StatusTooManyRequests)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			logs := &syncBuffer{}
			q, reg := startQueueLogging(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, DropOn429: drop},
				slog.New(slog.NewTextHandler(logs, nil)))
			write(t, q, rounds(1, 1))
			sent := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", "")
			dropped := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_429")
			retried := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "retried")
			want := [3]float64{1, 0, 2} // retried twice, then sent
			if drop {
				want = [3]float64{0, 1, 0}
			}
			if got := [3]float64{sent, dropped, retried}; got != want {
				t.Errorf("sent, dropped, retried = %v, want %v", got, want)
			}
			if !strings.Contains(logs.String(), "exceeded the ingestion rate limit") {
				t.Errorf("no log line carries the 429's body:\n%s", logs)
			}
		})
	}
}

// metadataLimitSender answers 413 to a metadata request of more than one
// family or of kube_pod_start_time, and counts the families it takes.
type metadataLimitSender struct {
	t     *testing.T
	mu    sync.Mutex
	taken []string
}

func (s *metadataLimitSender) Store(_ context.Context, body []byte, _ ProtobufMessage) (WriteStats, error) {
	wr := decodeV1(s.t, body)
	if len(wr.Metadata) > 1 || wr.Metadata[0].MetricFamilyName == "kube_pod_start_time" {
		return WriteStats{}, &StatusError{Code: http.StatusRequestEntityTooLarge, Message: "too large"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.taken = append(s.taken, wr.Metadata[0].MetricFamilyName)
	return WriteStats{}, nil
}

// A 1.0 metadata request answered 413 is sent again in halves; a single
// family answered 413 is dropped, counted.
func TestMetadataSplitOn413(t *testing.T) {
	snd := &metadataLimitSender{t: t}
	reg := prometheus.NewRegistry()
	q := NewQueue(QueueConfig{Metadata: testMetadata}, snd, reg, nil)
	md := q.metadataOf([]string{"kube_pod_info", "kube_pod_start_time", "kube_pod_container_status_restarts_total"})
	q.sendMetadata(context.Background(), newEncoder(nil), md)
	if got := fmt.Sprint(snd.taken); got != "[kube_pod_info kube_pod_container_status_restarts_total]" {
		t.Errorf("receiver took %s", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_metadata_sent_total", ""); got != 2 {
		t.Errorf("metadata_sent = %v, want 2", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_metadata_dropped_total", ""); got != 1 {
		t.Errorf("metadata_dropped = %v, want 1", got)
	}
}

// mimirV2Sender is a 2.0 receiver that, like Mimir, stores the valid series of
// a request that holds a refused one, answers 400 naming it, and reports every
// sample of the request as written.
type mimirV2Sender struct {
	*tsdb
	bad      func(name string) bool
	requests int
}

func (s *mimirV2Sender) Store(_ context.Context, body []byte, msg ProtobufMessage) (WriteStats, error) {
	if msg != MessageV2 {
		s.t.Errorf("sent %s, want 2.0", msg)
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		s.t.Fatal(err)
	}
	var req writev2.Request
	if err := req.Unmarshal(pb); err != nil {
		s.t.Fatal(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests++
	var n int64
	firstBad := ""
	for _, ts := range req.Timeseries {
		name := ""
		for i := 0; i+1 < len(ts.LabelsRefs); i += 2 {
			if req.Symbols[ts.LabelsRefs[i]] == "s" {
				name = req.Symbols[ts.LabelsRefs[i+1]]
			}
		}
		n += int64(len(ts.Samples))
		if s.bad(name) {
			if firstBad == "" {
				firstBad = name
			}
			continue
		}
		for _, x := range ts.Samples {
			s.append(name, prompb.Sample{Timestamp: x.Timestamp, Value: x.Value})
		}
	}
	stats := WriteStats{Samples: n, Confirmed: true}
	if firstBad != "" {
		return stats, &StatusError{Code: http.StatusBadRequest, Message: fmt.Sprintf("received a series whose number of labels exceeds the limit: series s=%q", firstBad)}
	}
	return stats, nil
}

// A 2.0 receiver that refuses a request and reports all of it as written
// (Mimir) is not believed: the request is bisected as with 1.0, and exactly
// the refused series' samples are counted as dropped.
func TestV2RefusalReportingAllWritten(t *testing.T) {
	snd := &mimirV2Sender{tsdb: newTSDB(t), bad: func(name string) bool { return name == "5" }}
	q, reg, _ := startSenderQueue(t, snd, QueueConfig{MaxSamplesPerSend: 64, ProtobufMessage: MessageV2})
	write(t, q, rounds(32, 2))
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_400"); got != 2 {
		t.Errorf("dropped{http_400} = %v, want 2 (the two samples of s=5)", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 62 {
		t.Errorf("sent = %v, want 62", got)
	}
	for i := range 32 {
		want := "[1000 1001]"
		if i == 5 {
			want = "[]"
		}
		if got := fmt.Sprint(snd.timestamps(fmt.Sprint(i))); got != want {
			t.Errorf("series s=%d stored %s, want %s", i, got, want)
		}
	}
}
