package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// The -scrape mode: one /metrics scrape of kube-state-push's --metrics-address
// against one of kube-state-metrics', on the same cluster and objects. Both
// run at once with their default resources and --enable-gzip-encoding
// (kube-state-push pushing, but with its resends an hour apart); each is
// scraped scrapeCount times in turn, plain and gzipped. CPU is the process's
// utime + stime over the scrapes, less what it spends idle (its rate over an
// idle window before); allocations are the same difference of
// go_memstats_alloc_bytes_total.

const (
	scrapeCount = 10
	scrapeIdle  = 30 * time.Second // a resend interval of kube-state-push
)

// scrapeTarget is one side of the scrape benchmark.
type scrapeTarget struct {
	name      string
	proc      *proc
	metrics   string // /metrics URL
	telemetry string // URL of its own metrics (go_memstats_*)
}

// scrapeResult is what the scrapes of one target measured.
type scrapeResult struct {
	name                string
	bytes, gzipBytes    int64
	lines               int
	wall, gzipWall      time.Duration // median
	cpu, gzipCPU        time.Duration // per scrape, idle taken out
	allocs, gzipAllocs  float64       // bytes allocated per scrape, idle taken out
	rssBefore, rssAfter int64
	idleCPUPerSec       float64
}

// noCompression does not ask for gzip by itself, so that the plain scrapes
// are plain and the gzip ones count compressed bytes.
var noCompression = &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{DisableCompression: true}}

func (b *bench) runScrape(ctx context.Context) error {
	var results [][]scrapeResult
	var pods []int
	for _, n := range b.opts.scales {
		p, err := b.prepareScale(ctx, n)
		if err != nil {
			return err
		}
		rs, err := b.measureScrapes(ctx, n)
		if err != nil {
			return fmt.Errorf("scale N=%d: %w", n, err)
		}
		results = append(results, rs)
		pods = append(pods, p.pods())
		fmt.Println(scrapeTable(n, p.pods(), rs))
	}
	if b.opts.out == "" {
		return nil
	}
	return scrapeMarks.write(b.opts.out, scrapeMarkdown(b.opts, pods, results))
}

func (b *bench) measureScrapes(ctx context.Context, n int) ([]scrapeResult, error) {
	ports := make([]int, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		ports[i] = p
	}
	tag := fmt.Sprint(n)
	ksm, err := startProc("kube-state-metrics", b.logPath("scrape-ksm-"+tag), filepath.Join(b.cacheBin, "kube-state-metrics-"+ksmVersion),
		"--kubeconfig", b.kubecfg, "--host", "127.0.0.1", fmt.Sprintf("--port=%d", ports[0]),
		"--telemetry-host", "127.0.0.1", fmt.Sprintf("--telemetry-port=%d", ports[1]), "--enable-gzip-encoding")
	if err != nil {
		return nil, err
	}
	b.running = append(b.running, ksm)
	ksp, err := startProc("kube-state-push", b.logPath("scrape-ksp-"+tag), b.agentBin, "--kubeconfig", b.kubecfg,
		"--remote-write-url", b.promURL+"/api/v1/write", "--telemetry-address", fmt.Sprintf("127.0.0.1:%d", ports[2]),
		"--metrics-address", fmt.Sprintf("127.0.0.1:%d", ports[3]), "--enable-gzip-encoding",
		// No resend during the measurement: it would be most of the idle
		// CPU and allocations taken out, and its noise.
		"--resend-interval", "1h")
	if err != nil {
		return nil, err
	}
	b.running = append(b.running, ksp)
	defer b.stopSide()
	targets := []scrapeTarget{
		{"kube-state-push", ksp, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[3]), fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[2])},
		{"kube-state-metrics", ksm, fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]), fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[1])},
	}
	// Both have listed everything when they write the same number of lines
	// twice in a row.
	b.log.Info("Waiting for both to list every object")
	last := -1
	if err := poll(ctx, 3*time.Second, 20*time.Minute, func() (bool, error) {
		var counts []int
		for _, t := range targets {
			if err := t.proc.exited(); err != nil {
				return false, err
			}
			_, lines, _, err := scrapeOnce(ctx, t.metrics, false)
			if err != nil {
				return false, nil // not listening yet
			}
			counts = append(counts, lines)
		}
		stable := counts[0] == counts[1] && counts[0] == last && last > 0
		last = counts[0]
		if counts[0] != counts[1] {
			last = -1
		}
		return stable, nil
	}); err != nil {
		return nil, fmt.Errorf("initial lists: %w", err)
	}
	runtime.GC()
	var out []scrapeResult
	for _, t := range targets {
		r, err := b.measureTarget(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t.name, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (b *bench) measureTarget(ctx context.Context, t scrapeTarget) (scrapeResult, error) {
	r := scrapeResult{name: t.name}
	alloc := func() (float64, error) { return metricSum(ctx, t.telemetry, "go_memstats_alloc_bytes_total") }
	b.log.Info("Idle window", "target", t.name, "for", scrapeIdle)
	u0, err := t.proc.usage()
	if err != nil {
		return r, err
	}
	a0, err := alloc()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	select {
	case <-ctx.Done():
		return r, ctx.Err()
	case <-time.After(scrapeIdle):
	}
	u1, err := t.proc.usage()
	if err != nil {
		return r, err
	}
	a1, err := alloc()
	if err != nil {
		return r, err
	}
	idle := time.Since(t0).Seconds()
	r.idleCPUPerSec = (u1.cpu - u0.cpu).Seconds() / idle
	idleAllocPerSec := (a1 - a0) / idle
	r.rssBefore = u1.rss
	for _, gz := range []bool{false, true} {
		b.log.Info("Scraping", "target", t.name, "gzip", gz, "times", scrapeCount)
		before, err := t.proc.usage()
		if err != nil {
			return r, err
		}
		ab, err := alloc()
		if err != nil {
			return r, err
		}
		start := time.Now()
		var walls []time.Duration
		var bytes int64
		var lines int
		for range scrapeCount {
			n, l, d, err := scrapeOnce(ctx, t.metrics, gz)
			if err != nil {
				return r, err
			}
			walls, bytes, lines = append(walls, d), n, l
		}
		elapsed := time.Since(start).Seconds()
		after, err := t.proc.usage()
		if err != nil {
			return r, err
		}
		aa, err := alloc()
		if err != nil {
			return r, err
		}
		cpu := time.Duration(((after.cpu - before.cpu).Seconds() - r.idleCPUPerSec*elapsed) / scrapeCount * float64(time.Second))
		allocs := ((aa - ab) - idleAllocPerSec*elapsed) / scrapeCount
		sortDurations(walls)
		if gz {
			r.gzipBytes, r.gzipWall, r.gzipCPU, r.gzipAllocs = bytes, walls[len(walls)/2], cpu, allocs
		} else {
			r.bytes, r.lines, r.wall, r.cpu, r.allocs = bytes, lines, walls[len(walls)/2], cpu, allocs
		}
		r.rssAfter = after.rss
	}
	return r, nil
}

// scrapeOnce fetches url whole, as Prometheus would (asking for gzip or not),
// and returns the bytes on the wire, the lines of the body and the time taken.
func scrapeOnce(ctx context.Context, url string, gz bool) (int64, int, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, 0, 0, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	if gz {
		req.Header.Set("Accept-Encoding", "gzip")
	}
	t0 := time.Now()
	resp, err := noCompression.Do(req)
	if err != nil {
		return 0, 0, 0, err
	}
	defer resp.Body.Close()
	body := resp.Body // as it comes: compressed when gz
	lines := 0
	buf := make([]byte, 64<<10)
	var n int64
	for {
		k, err := body.Read(buf)
		for _, c := range buf[:k] {
			if c == '\n' {
				lines++
			}
		}
		n += int64(k)
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
	}
	d := time.Since(t0)
	if resp.StatusCode != http.StatusOK {
		return 0, 0, 0, fmt.Errorf("scrape %s: %s", url, resp.Status)
	}
	if gz {
		if resp.Header.Get("Content-Encoding") != "gzip" {
			return 0, 0, 0, fmt.Errorf("scrape %s: asked for gzip, got %q", url, resp.Header.Get("Content-Encoding"))
		}
		return n, -1, d, nil
	}
	return n, lines, d, nil
}

func sortDurations(ds []time.Duration) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j] < ds[j-1]; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

func scrapeTable(n, pods int, rs []scrapeResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d pods (%d created): one /metrics scrape, default resources\n", n, pods)
	for _, r := range scrapeRows(rs) {
		fmt.Fprintf(&b, "%-44s %18s %20s\n", r[0], r[1], r[2])
	}
	return b.String()
}

func scrapeRows(rs []scrapeResult) [][3]string {
	mb := func(v float64) string { return fmt.Sprintf("%.1f", v/1e6) }
	row := func(name string, f func(r scrapeResult) string) [3]string {
		return [3]string{name, f(rs[0]), f(rs[1])}
	}
	return [][3]string{
		{"measure", rs[0].name, rs[1].name},
		row("lines", func(r scrapeResult) string { return fmt.Sprint(r.lines) }),
		row("body, MB", func(r scrapeResult) string { return mb(float64(r.bytes)) }),
		row("gzipped body, MB", func(r scrapeResult) string { return mb(float64(r.gzipBytes)) }),
		row("scrape time (median of 10), ms", func(r scrapeResult) string { return fmt.Sprintf("%.0f", r.wall.Seconds()*1000) }),
		row("gzipped scrape time, ms", func(r scrapeResult) string { return fmt.Sprintf("%.0f", r.gzipWall.Seconds()*1000) }),
		row("CPU per scrape, ms", func(r scrapeResult) string { return fmt.Sprintf("%.0f", r.cpu.Seconds()*1000) }),
		row("CPU per gzipped scrape, ms", func(r scrapeResult) string { return fmt.Sprintf("%.0f", r.gzipCPU.Seconds()*1000) }),
		row("allocated per scrape, MB", func(r scrapeResult) string { return mb(r.allocs) }),
		row("allocated per gzipped scrape, MB", func(r scrapeResult) string { return mb(r.gzipAllocs) }),
		row("RSS before / after the scrapes, MB", func(r scrapeResult) string {
			return fmt.Sprintf("%s / %s", mb(float64(r.rssBefore)), mb(float64(r.rssAfter)))
		}),
		row("idle CPU, ms per s (taken out)", func(r scrapeResult) string { return fmt.Sprintf("%.1f", r.idleCPUPerSec*1000) }),
	}
}

// The section -scrape writes into the report; the full benchmark and -crs
// keep it when they rewrite the file.
var scrapeMarks = section{
	begin: "<!-- scrape: written by go run ./bench -scrape -->",
	end:   "<!-- /scrape -->",
}

func scrapeMarkdown(o options, pods []int, results [][]scrapeResult) string {
	var b strings.Builder
	b.WriteString(scrapeMarks.begin + "\n## One /metrics scrape: `--metrics-address` against kube-state-metrics\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench -scrape -n %s` (%s, %s). Both run at once on the same cluster with their\n",
		joinInts(o.scales), time.Now().UTC().Format("2006-01-02 15:04 MST"), machineInfo())
	b.WriteString("default resources and `--enable-gzip-encoding` (kube-state-push pushing to the cluster's Prometheus, its\n")
	b.WriteString("resends an hour apart so that they stay out of the window), and are scraped 10 times each in turn, as a\n")
	b.WriteString("Prometheus would (text 0.0.4, plain, then with `Accept-Encoding: gzip`). CPU is utime + stime over the\n")
	b.WriteString("scrapes, less the process's idle rate measured over 30 s before; allocations likewise from\n")
	b.WriteString("`go_memstats_alloc_bytes_total`. KSM serves text it keeps rendered (about 8 KB per pod); kube-state-push\n")
	b.WriteString("renders it from its snapshot on each scrape and keeps nothing in between. The cluster runs on the same\n")
	b.WriteString("2 cores: times are under its load.\n")
	for i, rs := range results {
		fmt.Fprintf(&b, "\n### N = %d pods (%d created)\n\n", o.scales[i], pods[i])
		for j, r := range scrapeRows(rs) {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", r[0], r[1], r[2])
			if j == 0 {
				b.WriteString("|---|---:|---:|\n")
			}
		}
	}
	b.WriteString(scrapeMarks.end + "\n")
	return b.String()
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}

// section is a part of the report that one mode writes between its markers
// and the others keep.
type section struct{ begin, end string }

// write puts text, the section with its markers, into the report at path, in
// place of an earlier one, or at its end.
func (m section) write(path, text string) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	return os.WriteFile(path, []byte(m.replace(string(old), text)), 0o644)
}

// replace puts text in place of the section in doc, or at its end.
func (m section) replace(doc, text string) string {
	if i := strings.Index(doc, m.begin); i >= 0 {
		if j := strings.Index(doc[i:], m.end); j >= 0 {
			return doc[:i] + text + strings.TrimPrefix(doc[i+j+len(m.end):], "\n")
		}
	}
	if doc != "" && !strings.HasSuffix(doc, "\n\n") {
		doc = strings.TrimRight(doc, "\n") + "\n\n"
	}
	return doc + text
}

// of returns the section of the report at path, or "".
func (m section) of(path string) string {
	doc, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	s := string(doc)
	i := strings.Index(s, m.begin)
	if i < 0 {
		return ""
	}
	j := strings.Index(s[i:], m.end)
	if j < 0 {
		return ""
	}
	return s[i : i+j+len(m.end)+1]
}
