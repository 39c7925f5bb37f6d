package remotewrite

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	promlabels "github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// prometheus3Binary is where hack/build-components.sh caches Prometheus 3.16.
func prometheus3Binary(t *testing.T) string {
	t.Helper()
	cache := os.Getenv("KSP_CACHE")
	if cache == "" {
		base := os.Getenv("XDG_CACHE_HOME")
		if base == "" {
			home, err := os.UserHomeDir()
			if err != nil {
				t.Fatalf("component cache: %v", err)
			}
			base = filepath.Join(home, ".cache")
		}
		cache = filepath.Join(base, "kube-state-push")
	}
	bin := filepath.Join(cache, "bin", "prometheus-v0.316.0")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("Prometheus 3.16 (run hack/build-components.sh prometheus): %v", err)
	}
	return bin
}

// prometheus2Binary is Prometheus 2.42 (module v0.42.0), a Remote-Write
// 1.0-only receiver, built into the same cache by hack/build-components.sh.
func prometheus2Binary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(filepath.Dir(prometheus3Binary(t)), "prometheus2-v0.42.0")
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("Prometheus 2.42 (run hack/build-components.sh prometheus2): %v", err)
	}
	if !bytes.Contains(out, []byte("prometheus, version")) {
		t.Fatalf("%s is not Prometheus: %s", bin, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer safe for a process's output and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// promProc is a Prometheus run for one test.
type promProc struct {
	url  string
	data string // storage directory
	out  *syncBuffer
}

// startPrometheus runs bin on a free loopback port with a temporary storage
// directory and flags, waits until it is ready, and stops it, by its pid, when
// the test ends.
func startPrometheus(t *testing.T, bin string, flags ...string) *promProc {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1m\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append([]string{
		"--config.file=" + cfg,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
	}, flags...)
	p := &promProc{url: "http://" + addr, data: filepath.Join(dir, "data"), out: &syncBuffer{}}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		_ = syscall.Kill(pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = syscall.Kill(pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.out)
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(p.url + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", bin, p.out)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready within 60s:\n%s", bin, p.out)
		}
	}
}

// get GETs path and decodes the "data" of Prometheus's API answer into data.
func (p *promProc) get(t *testing.T, path string, params url.Values, data any) {
	t.Helper()
	resp, err := http.Get(p.url + path + "?" + params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Status != "success" {
		t.Fatalf("GET %s %v: %v %s", path, params, err, body)
	}
	if err := json.Unmarshal(r.Data, data); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, r.Data)
	}
}

// rawSamples returns every stored sample of the series q selects within the
// hour before at, by series (the labels drop), via a range-vector query.
func (p *promProc) rawSamples(t *testing.T, q string, at time.Time, drop ...string) []got {
	t.Helper()
	var data struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	p.get(t, "/api/v1/query", url.Values{
		"query": {q + "[1h]"},
		"time":  {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)},
	}, &data)
	var out []got
	for _, r := range data.Result {
		for _, name := range drop {
			delete(r.Metric, name)
		}
		name := promlabels.FromMap(r.Metric).String()
		for _, v := range r.Values {
			ts, _ := v[0].(float64)
			s, _ := v[1].(string)
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				t.Fatalf("value %q: %v", s, err)
			}
			out = append(out, got{name, int64(ts*1000 + 0.5), f})
		}
	}
	return out
}

// seriesLabels returns the label sets of the series q selects now.
func (p *promProc) seriesLabels(t *testing.T, q string) []map[string]string {
	t.Helper()
	var data []map[string]string
	p.get(t, "/api/v1/series", url.Values{"match[]": {q}}, &data)
	return data
}

// selfMetric returns the value of an unlabelled metric on the receiver's own /metrics.
func (p *promProc) selfMetric(t *testing.T, name string) float64 {
	t.Helper()
	resp, err := http.Get(p.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range bytes.SplitSeq(body, []byte("\n")) {
		var v float64
		if n, _ := fmt.Sscanf(string(line), name+" %g", &v); n == 1 {
			return v
		}
	}
	t.Fatalf("%s not on the receiver's /metrics", name)
	return 0
}

// walMetadata reads the receiver's write-ahead log and returns the metadata
// records it holds (with --enable-feature=metadata-wal-records), by metric name.
func (p *promProc) walMetadata(t *testing.T) map[string]record.RefMetadata {
	t.Helper()
	r, err := wlog.NewSegmentsReader(filepath.Join(p.data, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	dec := record.NewDecoder(nil, nil)
	names := map[chunks.HeadSeriesRef]string{}
	out := map[string]record.RefMetadata{}
	rd := wlog.NewReader(r)
	for rd.Next() {
		rec := rd.Record()
		switch dec.Type(rec) {
		case record.Series:
			ss, err := dec.Series(rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range ss {
				names[s.Ref] = s.Labels.Get("__name__")
			}
		case record.Metadata:
			ms, err := dec.Metadata(rec, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range ms {
				out[names[m.Ref]] = m
			}
		}
	}
	if err := rd.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// runQueue starts q and stops it when the test ends.
func runQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = q.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}
