package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags([]string{"-n", "1000, 10000", "-window", "45s"})
	if err != nil || len(o.scales) != 2 || o.scales[1] != 10000 || o.window != 45*time.Second {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-n", "10000,1000"}, {"-n", "50"}, {"-n", "x"}, {"-nodes", "0"}, {"-window", "5s"}, {"-changes", "0"}, {"-bogus"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestPlanMakesAboutNPods(t *testing.T) {
	for _, n := range []int{1000, 10000, 50000} {
		p := planFor(n, 50)
		if got := p.pods(); got > n || got < n*97/100 {
			t.Errorf("planFor(%d) makes %d pods", n, got)
		}
		// A larger plan extends a smaller one.
		if q := planFor(n*10, 50); q.deployments < p.deployments || q.statefulsets < p.statefulsets || q.jobs < p.jobs {
			t.Errorf("planFor(%d) = %+v shrinks planFor(%d) = %+v", n*10, q, n, p)
		}
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 20; i++ {
		ds = append(ds, time.Duration(i)*time.Second)
	}
	for q, want := range map[float64]time.Duration{0.5: 10 * time.Second, 0.99: 20 * time.Second, 1: 20 * time.Second, 0.05: time.Second} {
		if got := percentile(ds, q); got != want {
			t.Errorf("percentile(%v) = %s, want %s", q, got, want)
		}
	}
	if percentile(nil, 0.5) != 0 {
		t.Error("percentile of nothing is not 0")
	}
}

func TestMetricSum(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`# HELP x_bytes_total Bytes.
# TYPE x_bytes_total counter
x_bytes_total{endpoint="a"} 1.5e3
x_bytes_total{endpoint="b",url="http://h/{x}"} 500
x_bytes_total_other 7
y 2
`))
	}))
	defer srv.Close()
	ctx := context.Background()
	if got, err := metricSum(ctx, srv.URL, "x_bytes_total"); err != nil || got != 2000 {
		t.Errorf("metricSum = %v, %v; want 2000", got, err)
	}
	if got, err := metricSum(ctx, srv.URL, "y"); err != nil || got != 2 {
		t.Errorf("metricSum(y) = %v, %v", got, err)
	}
	if _, err := metricSum(ctx, srv.URL, "absent"); err == nil {
		t.Error("no error for an absent metric")
	}
}

// usage reads a real process: a busy child has CPU time and memory.
func TestProcUsage(t *testing.T) {
	cmd := exec.Command("sh", "-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 5")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &proc{name: "sh", cmd: cmd, done: make(chan struct{}), log: os.Stderr}
	go func() { _ = cmd.Wait(); close(p.done) }()
	defer func() { _ = cmd.Process.Kill(); <-p.done }()
	var u usage
	deadline := time.Now().Add(10 * time.Second)
	for u.cpu == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		var err error
		if u, err = p.usage(); err != nil {
			t.Fatal(err)
		}
	}
	if u.cpu == 0 || u.rss == 0 || u.peak < u.rss || u.file <= 0 || u.file > u.rss {
		t.Errorf("usage = %+v", u)
	}
}
