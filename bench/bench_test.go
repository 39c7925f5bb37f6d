package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
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

func TestParseFlagsReceivers(t *testing.T) {
	o, err := parseFlags([]string{"-receivers"})
	if err != nil || !o.receivers || len(o.scales) != 1 || o.scales[0] != 1000 || o.out != receiversReport ||
		!slices.Equal(o.receiverNames, allReceivers) {
		t.Fatalf("parseFlags(-receivers) = %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-receivers", "-n", "2000", "-out", "x.md", "-receiver-names", "thanos, mimir"})
	if err != nil || o.scales[0] != 2000 || o.out != "x.md" || !slices.Equal(o.receiverNames, []string{"thanos", "mimir"}) {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	if o, err := parseFlags(nil); err != nil || o.out != "docs/benchmarks.md" || o.receiverNames != nil {
		t.Errorf("parseFlags() = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-receivers", "-ksp-only"}, {"-receivers", "-receiver-names", "influx"}, {"-receivers", "-receiver-names", "mimir,mimir"}, {"extra"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestParseExposition(t *testing.T) {
	page := `# HELP a A.
# TYPE a counter
a 1
b{x="1",y="with \"quotes\", a \\ and\nline"} 2.5 1700000000000
c{ x = "}{" , } +Inf

d{} NaN
`
	ms, err := parseExposition(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 4 || ms[0].name != "a" || ms[0].value != 1 || ms[0].labels != nil {
		t.Fatalf("parseExposition = %+v", ms)
	}
	if ms[1].name != "b" || ms[1].value != 2.5 || ms[1].labels["x"] != "1" || ms[1].labels["y"] != "with \"quotes\", a \\ and\nline" {
		t.Errorf("b = %+v", ms[1])
	}
	if ms[2].labels["x"] != "}{" || !math.IsInf(ms[2].value, 1) || !math.IsNaN(ms[3].value) {
		t.Errorf("c, d = %+v, %+v", ms[2], ms[3])
	}
	for _, bad := range []string{"a", `a{x="1" 2`, `a{x=1} 2`, "a x", `a{x="1`} {
		if _, err := parseExposition(strings.NewReader(bad)); err == nil {
			t.Errorf("parseExposition(%q) accepted", bad)
		}
	}
	if s, ok := sumOf(ms, "b", func(l map[string]string) bool { return l["x"] == "1" }); !ok || s != 2.5 {
		t.Errorf("sumOf(b) = %v, %v", s, ok)
	}
	if _, ok := sumOf(ms, "b", func(l map[string]string) bool { return l["x"] == "2" }); ok {
		t.Error("sumOf matched no sample but found")
	}
}

func TestParseReceiverEnv(t *testing.T) {
	out := "RECEIVER=thanos\nRECEIVER_PUSH_URL=http://127.0.0.1:1/api/v1/receive\nRECEIVER_QUERY_URL=http://127.0.0.1:2\n" +
		"RECEIVER_METRICS_URL=http://127.0.0.1:3/metrics\nRECEIVER_PROTOCOL=1.0\n"
	e, err := parseReceiverEnv(out)
	if err != nil || e.name != "thanos" || e.pushURL != "http://127.0.0.1:1/api/v1/receive" || e.queryURL != "http://127.0.0.1:2" ||
		e.metricsURL != "http://127.0.0.1:3/metrics" || e.protocol != "1.0" {
		t.Fatalf("parseReceiverEnv = %+v, %v", e, err)
	}
	if _, err := parseReceiverEnv("RECEIVER=x\nRECEIVER_PUSH_URL=u\n"); err == nil ||
		!strings.Contains(err.Error(), "RECEIVER_METRICS_URL, RECEIVER_PROTOCOL, RECEIVER_QUERY_URL") {
		t.Errorf("incomplete env: %v", err)
	}
}

func TestReadPidFiles(t *testing.T) {
	dir := t.TempDir()
	for name, pid := range map[string]string{"thanos-receive": "123\n", "thanos-query": "45"} {
		if err := os.WriteFile(filepath.Join(dir, name+".pid"), []byte(pid), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ps, err := readPidFiles(dir)
	if err != nil || !slices.Equal(ps, []pidProc{{"thanos-query", 45}, {"thanos-receive", 123}}) {
		t.Fatalf("readPidFiles = %+v, %v", ps, err)
	}
	if _, err := readPidFiles(t.TempDir()); err == nil {
		t.Error("no error for no pid files")
	}
	if err := os.WriteFile(filepath.Join(dir, "bad.pid"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readPidFiles(dir); err == nil {
		t.Error("no error for a bad pid file")
	}
	// A pid read from a file is measured like a started process.
	if u, err := (pidProc{"self", os.Getpid()}).usage(); err != nil || u.rss == 0 {
		t.Errorf("usage of self = %+v, %v", u, err)
	}
}

func TestRefusalsAndMessage(t *testing.T) {
	ms, err := parseExposition(strings.NewReader(`cortex_discarded_samples_total{reason="sample-out-of-order",user="anonymous"} 3
cortex_discarded_samples_total{reason="sample-too-old",user="anonymous"} 0
kube_state_push_remote_write_protobuf_message{endpoint="0",protobuf_message="io.prometheus.write.v2.Request"} 0
kube_state_push_remote_write_protobuf_message{endpoint="0",protobuf_message="prometheus.WriteRequest"} 1
`))
	if err != nil {
		t.Fatal(err)
	}
	nz, exp := refusals(ms, []string{"cortex_discarded_samples_total", "other_total"})
	if len(nz) != 1 || nz[0].series != `cortex_discarded_samples_total{reason="sample-out-of-order",user="anonymous"}` || nz[0].value != 3 ||
		!slices.Equal(exp, []string{"cortex_discarded_samples_total"}) {
		t.Errorf("refusals = %+v, %v", nz, exp)
	}
	if m := messageInUse(ms); m != "prometheus.WriteRequest" {
		t.Errorf("messageInUse = %q", m)
	}
	if m := messageInUse(ms[:2]); m != "" {
		t.Errorf("messageInUse without the metric = %q", m)
	}
	for _, c := range []struct {
		message   string
		fallbacks float64
		want      string
	}{
		{"io.prometheus.write.v2.Request", 0, "2.0"},
		{"prometheus.WriteRequest", 0, "1.0"},
		{"prometheus.WriteRequest", 1, "1.0 (fell back from 2.0)"},
		{"", 0, "?"},
	} {
		if got := (receiverResult{message: c.message, fallbacks: c.fallbacks}).protocolUsed(); got != c.want {
			t.Errorf("protocolUsed(%q, %v) = %q, want %q", c.message, c.fallbacks, got, c.want)
		}
	}
}

func TestReceiverScriptEnv(t *testing.T) {
	got := receiverScriptEnv([]string{"HOME=/root", "KSP_RECEIVER_TENANTS=1", "KSP_KEEP_STATE=1", "KSP_CACHE=/c"})
	if !slices.Equal(got, []string{"HOME=/root", "KSP_CACHE=/c"}) {
		t.Errorf("receiverScriptEnv = %q", got)
	}
}

func sampleReceiverResults() []receiverResult {
	return []receiverResult{
		{name: "mimir", n: 1000, pods: 992, advertised: "2.0", message: "io.prometheus.write.v2.Request", series: 57957,
			syncTime: 12 * time.Second, elapsed: time.Minute, agentRSS: 70e6, logBytes: 1.5e6, samples: 2_000_000, bytes: 3_000_000, agentCPU: 4 * time.Second,
			procs: []procWindow{{name: "mimir", cpu: 10 * time.Second, rss: 300e6}}, binaries: []string{"mimir-v1"},
			refused:  []refusal{{series: `cortex_discarded_samples_total{reason="x"}`, value: 5}},
			exported: []string{"cortex_discarded_samples_total"}, agentDropped: 5, refusedInWindow: 2, retried: 3},
		{name: "thanos", n: 1000, pods: 992, advertised: "1.0", message: "prometheus.WriteRequest", fallbacks: 1, series: -1,
			elapsed: time.Minute, samples: 1_000_000, bytes: 4_000_000, agentCPU: 2 * time.Second,
			procs:    []procWindow{{name: "thanos-query", cpu: time.Second, rss: 50e6}, {name: "thanos-receive", cpu: 3 * time.Second, rss: 150e6}},
			binaries: []string{"thanos-v0", "thanos-v0"}},
		{name: "cortex", n: 1000, pods: 992, failure: "hack/receivers.sh up cortex: exit status 1:\n[receivers] ERROR: cortex | not built",
			logLines: []string{"[cortex.log] boom"}},
	}
}

func TestReceiverCells(t *testing.T) {
	rs := sampleReceiverResults()
	got := rs[0].cells()
	want := []string{"mimir", "2.0", "57957", "2000000", "3.00", "1.50", "2.00", "5.00", "300", "5 (2)", "5 / 0 / 3"}
	if !slices.Equal(got, want) {
		t.Errorf("cells = %q\nwant    %q", got, want)
	}
	got = rs[1].cells()
	want = []string{"thanos", "1.0 (fell back from 2.0)", "-", "1000000", "4.00", "4.00", "2.00", "4.00", "200", "0 (0)", "0 / 0 / 0"}
	if !slices.Equal(got, want) {
		t.Errorf("cells = %q\nwant    %q", got, want)
	}
	if c := rs[2].cells(); len(c) != len(receiverColumns) || c[1] != "failed (see below)" {
		t.Errorf("failed cells = %q", c)
	}
	if perMillion(time.Second, 0) != 0 || perSample(1, 0) != 0 {
		t.Error("per nothing is not 0")
	}
}

func TestReceiversMarkdown(t *testing.T) {
	o, err := parseFlags([]string{"-receivers", "-window", "45s"})
	if err != nil {
		t.Fatal(err)
	}
	rs := sampleReceiverResults()
	rs = append(rs, receiverResult{name: "mimir", n: 2000, pods: 1990, message: "io.prometheus.write.v2.Request", samples: 1})
	d := receiversDoc{machine: "2 CPUs (test)", started: time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC), opts: o, results: rs}
	md := d.markdown()
	for _, want := range []string{
		"# Benchmarks: what each receiver costs per sample\n",
		"- run: 2026-01-02 03:04 UTC, 2 CPUs (test)\n",
		"- command: `go run ./bench -receivers -n 1000 -window 45s`\n",
		"the receivers' executables: mimir-v1, thanos-v0\n",
		"after snappy",
		"\n## N = 1000 pods (992 created, 50 kwok nodes)\n\n| receiver | protocol used |",
		"|---|---:|",
		"| mimir | 2.0 | 57957 | 2000000 | 3.00 | 1.50 | 2.00 | 5.00 | 300 | 5 (2) | 5 / 0 / 3 |\n",
		"| cortex | failed (see below) |  |",
		"- thanos: thanos-query 1.00, 50 MB; thanos-receive 3.00, 150 MB; its logs grew 0.0 MB in the window; `prometheus_tsdb_out_of_order_samples_total` not exported (counted nothing)",
		"- mimir: mimir 5.00, 300 MB; its logs grew 1.5 MB in the window; `cortex_discarded_samples_total{reason=\"x\"}` 5; kube-state-push: start to synced 12.0 s, RSS 70 MB; window 60 s; `hack/receivers.sh` says it takes 2.0\n",
		"\n**cortex failed**: hack/receivers.sh up cortex: exit status 1:\n\n```\n[receivers] ERROR: cortex | not built\n[cortex.log] boom\n```\n",
		"\n## N = 2000 pods (1990 created, 50 kwok nodes)\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "stopped early") {
		t.Error("a complete run says it stopped early")
	}
	d.failure = errors.New("interrupted")
	if !strings.Contains(d.markdown(), "\nThe run stopped early: interrupted\n") {
		t.Error("no word of the early stop")
	}
	tab := receiversTable(rs)
	if !strings.Contains(tab, "N = 1000 pods (992 created)") || !strings.Contains(tab, "N = 2000 pods") ||
		!strings.Contains(tab, "1.0 (fell back from 2.0)") {
		t.Errorf("table:\n%s", tab)
	}
}

func TestFailureLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.log")
	var log []string
	for i := range 30 {
		log = append(log, fmt.Sprintf("level=warn line %d", i))
	}
	log[3] = "level=error msg=\"module failed\" module=ruler"
	log[27] = "level=error msg=\"error running application\""
	if err := os.WriteFile(path, []byte(strings.Join(log, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got := strings.Split(failureLines(path, 5, 4), "\n")
	want := []string{log[3], "...", log[26], log[27], log[28], log[29]}
	if !slices.Equal(got, want) {
		t.Errorf("failureLines = %q\nwant %q", got, want)
	}
	if got := failureLines(path, 5, 100); got != strings.Join(log, "\n") {
		t.Errorf("a short log is not whole: %q", got)
	}
	if failureLines(filepath.Join(t.TempDir(), "none"), 5, 5) != "" {
		t.Error("lines from no file")
	}
}

func TestAgentCPUSpreadAndWarnings(t *testing.T) {
	rs := sampleReceiverResults()
	// mimir: 2.0, 2 CPU-s/M; thanos: 1.0; cortex failed. One of each protocol: no spread.
	if _, _, _, n := agentCPUSpread(rs); n != 0 {
		t.Error("a spread from one receiver per protocol")
	}
	rs = append(rs, receiverResult{name: "otelcol", n: 1000, message: "io.prometheus.write.v2.Request", samples: 1e6, agentCPU: 3 * time.Second})
	lo, hi, proto, n := agentCPUSpread(rs)
	if n != 2 || proto != "2.0" || lo != 2 || hi != 3 || spreadText(lo, hi) != "2.00 to 3.00, 50% apart" {
		t.Errorf("agentCPUSpread = %v, %v, %q, %d", lo, hi, proto, n)
	}
	// A tie goes to 2.0.
	tie := append(rs, receiverResult{name: "victoria-metrics", n: 1000, message: "prometheus.WriteRequest", fallbacks: 1, samples: 1e6, agentCPU: 9 * time.Second})
	if lo, hi, proto, n := agentCPUSpread(tie); n != 2 || proto != "2.0" || lo != 2 || hi != 3 {
		t.Errorf("agentCPUSpread on a tie = %v, %v, %q, %d", lo, hi, proto, n)
	}
	tie = append(tie, receiverResult{name: "prometheus2", n: 1000, message: "prometheus.WriteRequest", samples: 1e6, agentCPU: 5 * time.Second})
	if lo, hi, proto, n := agentCPUSpread(tie); n != 3 || proto != "1.0" || lo != 2 || hi != 9 {
		t.Errorf("agentCPUSpread, 1.0 ahead = %v, %v, %q, %d", lo, hi, proto, n)
	}
	d := receiversDoc{opts: options{nodes: 50, window: time.Minute}, results: rs}
	if md := d.markdown(); !strings.Contains(md, "among the 2 that took 2.0 (2.00 to 3.00, 50% apart)") {
		t.Errorf("no spread in:\n%s", md)
	}

	path := filepath.Join(t.TempDir(), "agent.log")
	log := "time=1 level=INFO msg=a\ntime=2 level=WARN msg=\"Retrying\" err=\"429\"\ntime=3 level=ERROR msg=b\n" +
		`{"level":"WARN","msg":"c"}` + "\ntime=4 level=WARN msg=d\n"
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := warnings(path, 3)
	if !slices.Equal(got, []string{`time=2 level=WARN msg="Retrying" err="429"`, "time=3 level=ERROR msg=b", `{"level":"WARN","msg":"c"}`}) {
		t.Errorf("warnings = %q", got)
	}
	rs[0].agentWarnings = got[:1]
	if md := (receiversDoc{opts: d.opts, results: rs}).markdown(); !strings.Contains(md,
		"\nkube-state-push's first warnings with mimir:\n\n```\ntime=2 level=WARN msg=\"Retrying\" err=\"429\"\n```\n") {
		t.Errorf("no warnings in:\n%s", md)
	}
}

func TestSectionsAreReplacedAndKept(t *testing.T) {
	for _, m := range []section{scrapeMarks, crsMarks} {
		sec := func(v string) string { return m.begin + "\n" + v + "\n" + m.end + "\n" }
		doc := m.replace("# Report\n\ntable\n", sec("one"))
		if want := "# Report\n\ntable\n\n" + sec("one"); doc != want {
			t.Fatalf("appended:\n%q\nwant\n%q", doc, want)
		}
		doc = m.replace(doc+"after\n", sec("two"))
		if want := "# Report\n\ntable\n\n" + sec("two") + "after\n"; doc != want {
			t.Fatalf("replaced:\n%q\nwant\n%q", doc, want)
		}
		path := filepath.Join(t.TempDir(), "b.md")
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := m.of(path); got != sec("two") {
			t.Errorf("section = %q", got)
		}
	}
	// One mode's section leaves the other's alone.
	both := crsMarks.replace(scrapeMarks.replace("", scrapeMarks.begin+"\ns\n"+scrapeMarks.end+"\n"), crsMarks.begin+"\nc\n"+crsMarks.end+"\n")
	if got := scrapeMarks.replace(both, scrapeMarks.begin+"\nS\n"+scrapeMarks.end+"\n"); !strings.Contains(got, "\nc\n") || !strings.Contains(got, "\nS\n") || strings.Contains(got, "\ns\n") {
		t.Errorf("both sections: %q", got)
	}
	if _, err := parseFlags([]string{"-scrape", "-receivers"}); err == nil {
		t.Error("-scrape -receivers accepted")
	}
}

func TestParseFlagsCRS(t *testing.T) {
	o, err := parseFlags([]string{"-crs"})
	if err != nil || !o.crs || !slices.Equal(o.scales, []int{10000}) || o.nodes != 1 {
		t.Fatalf("parseFlags(-crs) = %+v, %v", o, err)
	}
	if o, err = parseFlags([]string{"-crs", "-n", "2000", "-nodes", "3"}); err != nil || !slices.Equal(o.scales, []int{2000}) || o.nodes != 3 {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	for _, bad := range [][]string{{"-crs", "-scrape"}, {"-crs", "-receivers"}, {"-crs", "-ksp-only"}, {"-crs", "-n", "50"}} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}
