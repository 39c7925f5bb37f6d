package remotewrite

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kube-state-push/kube-state-push/series"
)

// faultyReceiver answers each request according to a script of faults, then
// accepts: it records every accepted sample per series, in arrival order.
type faultyReceiver struct {
	t      *testing.T
	mu     sync.Mutex
	faults []string // consumed one per request: "500", "429", "400", "timeout", "reset", "ok"
	got    map[string][]int64
	seen   int
}

func (f *faultyReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	fault := "ok"
	if len(f.faults) > 0 {
		fault, f.faults = f.faults[0], f.faults[1:]
	}
	f.seen++
	f.mu.Unlock()
	switch fault {
	case "500":
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, "slow down", http.StatusTooManyRequests)
		return
	case "400":
		http.Error(w, "out of order sample for series x", http.StatusBadRequest)
		return
	case "timeout":
		time.Sleep(700 * time.Millisecond) // longer than the client timeout
		w.WriteHeader(http.StatusNoContent)
		return
	case "reset":
		hj, ok := w.(http.Hijacker)
		if !ok {
			f.t.Error("cannot hijack")
			return
		}
		conn, _, _ := hj.Hijack()
		if tcp, ok := conn.(*net.TCPConn); ok {
			_ = tcp.SetLinger(0) // RST instead of FIN
		}
		_ = conn.Close()
		return
	}
	body, _ := io.ReadAll(r.Body)
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		f.t.Errorf("snappy: %v", err)
		return
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(pb); err != nil {
		f.t.Errorf("unmarshal: %v", err)
		return
	}
	f.mu.Lock()
	for _, ts := range wr.Timeseries {
		k := ts.Labels[len(ts.Labels)-1].Value
		for _, s := range ts.Samples {
			f.got[k] = append(f.got[k], s.Timestamp)
		}
	}
	f.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// A receiver that fails in every way in turn: 5xx, 429 with Retry-After,
// timeouts and connection resets are retried until accepted; a 400 sends its
// request again in halves, which the receiver takes; every sample arrives,
// every series in order.
func TestFaultyReceiver(t *testing.T) {
	rcv := &faultyReceiver{t: t, got: map[string][]int64{},
		faults: []string{"500", "500", "429", "timeout", "reset", "ok", "400", "500", "reset", "timeout"}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	reg := prometheus.NewRegistry()
	q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 1, MaxSamplesPerSend: 10, MinBackoff: time.Millisecond, MaxBackoff: 20 * time.Millisecond},
		NewClient(srv.URL, "test", 300*time.Millisecond, nil), reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	const rounds = 10
	for round := range int64(rounds) {
		var batch []series.Sample
		for i := range 5 {
			batch = append(batch, series.Sample{Labels: labels("__name__", "m", "s", fmt.Sprint(i)), T: round, V: 1})
		}
		if err := q.WriteBatch(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	fctx, fcancel := context.WithTimeout(ctx, 30*time.Second)
	defer fcancel()
	if err := q.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	rcv.mu.Lock()
	defer rcv.mu.Unlock()
	total := 0
	for k, ts := range rcv.got {
		for i := 1; i < len(ts); i++ {
			if ts[i] <= ts[i-1] {
				t.Errorf("series %s out of order: %v", k, ts)
			}
		}
		total += len(ts)
	}
	// 50 samples in requests of 10: the one that hit the 400 went again as
	// two halves of 5, which the receiver took.
	if dropped := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_400"); dropped != 0 {
		t.Errorf("dropped %v samples on 400, want 0", dropped)
	}
	if split := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "split"); split != 1 {
		t.Errorf("%v requests split, want 1", split)
	}
	if total != 50 {
		t.Errorf("received %d samples, want 50", total)
	}
	if retried := metricValue(t, reg, "kube_state_push_remote_write_requests_total", "retried"); retried != 8 {
		t.Errorf("%v retries, want 8 (500, 500, 429, timeout, reset, 500, reset, timeout)", retried)
	}
}

// blockingSender holds every request until released.
type blockingSender struct{ release chan struct{} }

func (b *blockingSender) Store(ctx context.Context, _ []byte, _ ProtobufMessage) (WriteStats, error) {
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	return WriteStats{}, nil
}

// Discard drops what waits in the queue, counted, and lets Flush finish.
func TestDiscard(t *testing.T) {
	snd := &blockingSender{release: make(chan struct{})}
	reg := prometheus.NewRegistry()
	q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 1, MaxSamplesPerSend: 1}, snd, reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	ls := labels("__name__", "m")
	if err := q.WriteBatch(ctx, []series.Sample{{Labels: ls, T: 1}, {Labels: ls, T: 2}, {Labels: ls, T: 3}}); err != nil {
		t.Fatal(err)
	}
	// Wait until the first sample is in flight and two wait.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		sh := q.shards[0]
		sh.mu.Lock()
		waiting := len(sh.buf)
		sh.mu.Unlock()
		if waiting == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d samples waiting, want 2", waiting)
		}
	}
	if n := q.Discard("not_leader"); n != 2 {
		t.Errorf("discarded %d samples, want the 2 waiting", n)
	}
	close(snd.release)
	fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
	defer fcancel()
	if err := q.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "not_leader"); v != 2 {
		t.Errorf("dropped{not_leader} = %v, want 2", v)
	}
}

// With retry_on_http_429: false a 429 drops its request, counted by status.
func TestDropOn429(t *testing.T) {
	rcv := &faultyReceiver{t: t, got: map[string][]int64{}, faults: []string{"429"}}
	srv := httptest.NewServer(rcv)
	defer srv.Close()
	reg := prometheus.NewRegistry()
	q := NewQueue(QueueConfig{MinShards: 1, MaxShards: 1, DropOn429: true}, NewClient(srv.URL, "test", time.Second, nil), reg, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	if err := q.WriteBatch(ctx, []series.Sample{{Labels: labels("__name__", "m", "s", "a"), T: 1, V: 1}}); err != nil {
		t.Fatal(err)
	}
	fctx, fcancel := context.WithTimeout(ctx, 10*time.Second)
	defer fcancel()
	if err := q.Flush(fctx); err != nil {
		t.Fatal(err)
	}
	if v := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", "http_429"); v != 1 {
		t.Errorf("dropped{http_429} = %v, want 1", v)
	}
}
