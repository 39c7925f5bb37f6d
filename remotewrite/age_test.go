package remotewrite

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/series"
)

// outageSender answers 503 while down, and otherwise stores; it records which
// series it was offered and which it stored.
type outageSender struct {
	*tsdb
	down     bool
	failures int
	offered  map[string]int
}

func (s *outageSender) Store(_ context.Context, body []byte, _ ProtobufMessage) (WriteStats, error) {
	wr := decodeV1(s.t, body)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range wr.Timeseries {
		s.offered[seriesName(ts.Labels)] += len(ts.Samples)
	}
	if s.down {
		s.failures++
		return WriteStats{}, &RecoverableError{Err: &StatusError{Code: http.StatusServiceUnavailable, Message: "unavailable"}}
	}
	for _, ts := range wr.Timeseries {
		for _, x := range ts.Samples {
			s.append(seriesName(ts.Labels), x)
		}
	}
	return WriteStats{}, nil
}

// With sample_age_limit, samples that age past it while the receiver fails
// are dropped before the next retry, and samples already too old when their
// request is built are never sent; both are counted as too_old. Fresh samples
// go through.
func TestSampleAgeLimit(t *testing.T) {
	const limit = time.Second
	snd := &outageSender{tsdb: newTSDB(t), down: true, offered: map[string]int{}}
	q, reg, logs := startSenderQueue(t, snd, QueueConfig{SampleAgeLimit: limit, MinBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// Five fresh samples: sent, refused with 503 and retried until they are
	// older than the limit.
	start := time.Now()
	var aging []series.Sample
	for i := range 5 {
		aging = append(aging, series.Sample{Labels: labels("__name__", "m", "s", fmt.Sprint("aging", i)), T: start.UnixMilli(), V: 1})
	}
	if err := q.WriteBatch(ctx, aging); err != nil {
		t.Fatal(err)
	}
	eventually(t, func() bool {
		snd.mu.Lock()
		defer snd.mu.Unlock()
		return snd.failures > 0
	})
	time.Sleep(time.Until(start.Add(limit + 100*time.Millisecond)))
	snd.mu.Lock()
	snd.down = false
	snd.mu.Unlock()
	if err := q.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	// Three samples an hour old beside five fresh ones.
	now := time.Now()
	var mixed []series.Sample
	for i := range 3 {
		mixed = append(mixed, series.Sample{Labels: labels("__name__", "m", "s", fmt.Sprint("stale", i)), T: now.Add(-time.Hour).UnixMilli(), V: 1})
	}
	for i := range 5 {
		mixed = append(mixed, series.Sample{Labels: labels("__name__", "m", "s", fmt.Sprint("fresh", i)), T: now.UnixMilli(), V: 1})
	}
	write(t, q, mixed)

	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "too_old"); got != 8 {
		t.Errorf("dropped{too_old} = %v, want 8 (5 aged during the outage, 3 stale)", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 5 {
		t.Errorf("sent = %v, want 5", got)
	}
	snd.mu.Lock()
	defer snd.mu.Unlock()
	for name, xs := range snd.stored {
		if !strings.HasPrefix(name, "fresh") || len(xs) != 1 {
			t.Errorf("receiver stored %d samples of %s, want only one of each fresh series", len(xs), name)
		}
	}
	if len(snd.stored) != 5 {
		t.Errorf("receiver stored %d series, want the 5 fresh ones", len(snd.stored))
	}
	for i := range 5 {
		if snd.offered[fmt.Sprint("aging", i)] == 0 {
			t.Errorf("aging%d was never sent before it aged", i)
		}
	}
	for i := range 3 {
		if n := snd.offered[fmt.Sprint("stale", i)]; n != 0 {
			t.Errorf("stale%d was sent %d times, want never", i, n)
		}
	}
	if !strings.Contains(logs.String(), "older than sample_age_limit") {
		t.Errorf("no log line for the dropped samples:\n%s", logs)
	}
}

// Without sample_age_limit every sample is sent, however old.
func TestNoSampleAgeLimitKeepsAll(t *testing.T) {
	snd := &outageSender{tsdb: newTSDB(t), offered: map[string]int{}}
	q, reg, _ := startSenderQueue(t, snd, QueueConfig{})
	old := time.Now().Add(-24 * time.Hour).UnixMilli()
	write(t, q, []series.Sample{{Labels: labels("__name__", "m", "s", "a"), T: old, V: 1}})
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 1 {
		t.Errorf("sent = %v, want 1", got)
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "too_old"); got != 0 {
		t.Errorf("dropped{too_old} = %v, want 0", got)
	}
}

// failed_request_logging logs each failed 2.0 request whole at debug level,
// as Prometheus does; not 1.0 requests, and nothing without the option.
func TestFailedRequestLogging(t *testing.T) {
	const line = "Failed to send remote write v2 request"
	for _, c := range []struct {
		name string
		msg  ProtobufMessage
		on   bool
		want bool
	}{
		{"2.0 on", MessageV2, true, true},
		{"2.0 off", MessageV2, false, false},
		{"1.0 on", MessageV1, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			rcv := &receiver{t: t, answer: func(n int) (int, string) {
				if n == 1 {
					return http.StatusInternalServerError, "ingester unavailable"
				}
				return 0, ""
			}}
			logs := &syncBuffer{}
			q, reg := startQueueLogging(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, ProtobufMessage: c.msg,
				Metadata: testMetadata, FailedRequestLogging: c.on},
				slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			write(t, q, podSamples(1000, 1))
			if got := metricValue(t, reg, "kube_state_push_remote_write_samples_sent_total", ""); got != 3 {
				t.Errorf("sent = %v, want 3", got)
			}
			out := logs.String()
			var logged string
			for _, l := range strings.Split(out, "\n") {
				if strings.Contains(l, line) {
					logged = l
				}
			}
			if (logged != "") != c.want {
				t.Fatalf("logged %q, want the line: %v\n%s", logged, c.want, out)
			}
			if c.want && (!strings.Contains(logged, "kube_pod_info") || !strings.Contains(logged, "ingester unavailable")) {
				t.Errorf("the line lacks the request's series or the receiver's answer: %s", logged)
			}
		})
	}
}
