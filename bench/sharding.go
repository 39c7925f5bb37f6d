package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"time"
)

// The -sharding mode: kube-state-push with its default resources, no agent
// at all (what the apiserver spends on its own and on the churn), one
// unsharded agent, then three shards filtering client-side (--shard 0..2
// --total-shards 3, jump hash as kube-state-metrics), then three shards with
// --server-side-sharding (the cluster's apiserver runs ShardedListAndWatch),
// on the same objects. The shards of a mode run at once. Per process: the
// initial lists (until /readyz, the CPU, the peak RSS and the bytes read from
// the apiserver, kube_state_push_apiserver_received_bytes_total), then,
// after a settle, a churn window (the CPU, the mean RSS and the bytes read);
// and the apiserver's own CPU over the same two phases.

// shardingMode is one way of running the agents.
type shardingMode struct {
	name   string
	shards int
	flags  []string
}

var shardingModes = []shardingMode{
	{"no agent", 0, nil}, // the apiserver's own share, churn included
	{"unsharded", 1, nil},
	{"client-side", 3, nil},
	{"server-side", 3, []string{"--server-side-sharding"}},
}

// shardRun is what one agent of a mode used.
type shardRun struct {
	readyAfter    time.Duration
	listCPU       time.Duration
	peakRSS       int64
	listBytes     float64
	churnCPUMin   float64
	churnRSS      int64 // mean
	churnBytesMin float64
}

// modeResult is one mode's agents and the apiserver.
type modeResult struct {
	mode           shardingMode
	shards         []shardRun
	apiListCPU     time.Duration // from the start until every agent is ready
	apiChurnCPUMin float64
	applied        string // how many resources' selectors the apiserver applied, of how many
}

func (b *bench) runSharding(ctx context.Context) error {
	var results [][]modeResult
	var pods []int
	for _, n := range b.opts.scales {
		p, err := b.prepareScale(ctx, n)
		if err != nil {
			return err
		}
		api, err := b.apiserverProc()
		if err != nil {
			return err
		}
		var rs []modeResult
		for _, m := range shardingModes {
			r, err := b.measureShardingMode(ctx, n, m, api)
			if err != nil {
				return fmt.Errorf("scale N=%d, %s: %w", n, m.name, err)
			}
			rs = append(rs, r)
		}
		results, pods = append(results, rs), append(pods, p.pods())
		fmt.Println(shardingTable(n, p.pods(), rs))
	}
	if b.opts.out == "" {
		return nil
	}
	return shardingMarks.write(b.opts.out, shardingMarkdown(b.opts, pods, results))
}

// apiserverProc is the cluster's kube-apiserver, from its pid file.
func (b *bench) apiserverProc() (pidProc, error) {
	procs, err := readPidFiles(filepath.Join(b.opts.stateDir, "cluster", "pids"))
	if err != nil {
		return pidProc{}, err
	}
	for _, p := range procs {
		if p.name == "kube-apiserver" {
			return p, nil
		}
	}
	return pidProc{}, fmt.Errorf("no kube-apiserver pid file")
}

// startShards starts the agents of m and returns them with their telemetry
// base URLs.
func (b *bench) startShards(n int, m shardingMode) (group, []string, error) {
	var g group
	var urls []string
	for i := range m.shards {
		port, err := freePort()
		if err != nil {
			return g, nil, err
		}
		args := []string{"--kubeconfig", b.kubecfg, "--remote-write-url", b.promURL + "/api/v1/write",
			"--telemetry-address", fmt.Sprintf("127.0.0.1:%d", port)}
		if m.shards > 1 {
			args = append(args, "--shard", fmt.Sprint(i), "--total-shards", fmt.Sprint(m.shards))
		}
		p, err := startProc("kube-state-push", b.logPath(fmt.Sprintf("sharding-%d-%s-%d", n, m.name, i)), b.agentBin, append(args, m.flags...)...)
		if err != nil {
			return g, nil, err
		}
		g = append(g, p)
		urls = append(urls, fmt.Sprintf("http://127.0.0.1:%d", port))
	}
	return g, urls, nil
}

func (b *bench) measureShardingMode(ctx context.Context, n int, m shardingMode, api pidProc) (modeResult, error) {
	r := modeResult{mode: m, shards: make([]shardRun, m.shards)}
	a0, err := api.usage()
	if err != nil {
		return r, err
	}
	t0 := time.Now()
	g, urls, err := b.startShards(n, m)
	b.running = g
	defer b.stopSide()
	if err != nil {
		return r, err
	}
	b.log.Info("Started; waiting for the initial lists", "mode", m.name, "agents", m.shards)
	if err := b.waitShardsReady(ctx, g, urls, t0, r.shards); err != nil {
		return r, err
	}
	a1, err := api.usage()
	if err != nil {
		return r, err
	}
	r.apiListCPU = a1.cpu - a0.cpu
	for i, p := range g {
		u, err := p.usage()
		if err != nil {
			return r, err
		}
		r.shards[i].listCPU, r.shards[i].peakRSS = u.cpu, u.peak
		if r.shards[i].listBytes, err = metricSum(ctx, urls[i]+"/metrics", "kube_state_push_apiserver_received_bytes_total"); err != nil {
			return r, err
		}
	}
	b.log.Info("Lists done", "mode", m.name, "apiserverCPU", r.apiListCPU)
	sleep(ctx, settle)
	if err := b.shardingChurn(ctx, g, urls, api, &r); err != nil {
		return r, fmt.Errorf("churn: %w", err)
	}
	if len(m.flags) > 0 {
		if r.applied, err = appliedSelectors(ctx, urls); err != nil {
			return r, err
		}
	}
	return r, nil
}

// waitShardsReady waits until every agent's /readyz answers 200, noting for
// each when, from t0.
func (b *bench) waitShardsReady(ctx context.Context, g group, urls []string, t0 time.Time, runs []shardRun) error {
	return poll(ctx, 250*time.Millisecond, 20*time.Minute, func() (bool, error) {
		if err := g.exited(); err != nil {
			return false, err
		}
		all := true
		for i, u := range urls {
			if runs[i].readyAfter > 0 {
				continue
			}
			if ready(ctx, u+"/readyz") {
				runs[i].readyAfter = time.Since(t0)
			} else {
				all = false
			}
		}
		return all, nil
	})
}

// ready reports whether url answers 200.
func ready(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// shardingChurn measures the agents and the apiserver over a window of
// churn.
func (b *bench) shardingChurn(ctx context.Context, g group, urls []string, api pidProc, r *modeResult) error {
	const received = "kube_state_push_apiserver_received_bytes_total"
	u0 := make([]usage, len(g))
	bytes0 := make([]float64, len(g))
	for i, p := range g {
		var err error
		if u0[i], err = p.usage(); err != nil {
			return err
		}
		if bytes0[i], err = metricSum(ctx, urls[i]+"/metrics", received); err != nil {
			return err
		}
	}
	a0, err := api.usage()
	if err != nil {
		return err
	}
	wctx, cancel := context.WithTimeout(ctx, b.opts.window)
	defer cancel()
	done := make(chan struct{})
	go func() { defer close(done); b.churn(wctx) }()
	start := time.Now()
	rss := make([]int64, len(g))
	samples := int64(0)
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for wctx.Err() == nil {
		select {
		case <-wctx.Done():
		case <-tick.C:
			for i, p := range g {
				u, err := p.usage()
				if err != nil {
					return err
				}
				rss[i] += u.rss
			}
			samples++
		}
	}
	<-done
	if err := ctx.Err(); err != nil {
		return err
	}
	minutes := time.Since(start).Minutes()
	a1, err := api.usage()
	if err != nil {
		return err
	}
	r.apiChurnCPUMin = (a1.cpu - a0.cpu).Seconds() / minutes
	for i, p := range g {
		u, err := p.usage()
		if err != nil {
			return err
		}
		bytes1, err := metricSum(ctx, urls[i]+"/metrics", received)
		if err != nil {
			return err
		}
		s := &r.shards[i]
		s.churnCPUMin = (u.cpu - u0[i].cpu).Seconds() / minutes
		s.churnBytesMin = (bytes1 - bytes0[i]) / minutes
		if samples > 0 {
			s.churnRSS = rss[i] / samples
		}
	}
	b.log.Info("Churn done", "mode", r.mode.name, "apiserverCPUPerMin", fmt.Sprintf("%.2fs", r.apiChurnCPUMin))
	return nil
}

// appliedSelectors says over all the agents how many resources' gauges
// kube_state_push_server_side_sharding are 1, of how many.
func appliedSelectors(ctx context.Context, urls []string) (string, error) {
	applied, total := 0, 0
	for _, u := range urls {
		ms, err := scrape(ctx, u+"/metrics")
		if err != nil {
			return "", err
		}
		for _, m := range ms {
			if m.name == "kube_state_push_server_side_sharding" {
				total++
				if m.value == 1 {
					applied++
				}
			}
		}
	}
	return fmt.Sprintf("%d of %d", applied, total), nil
}

func shardingRows(rs []modeResult) [][]string {
	mbs := func(v float64) string { return fmt.Sprintf("%.1f", v/1e6) }
	rows := [][]string{{"agents", "shard", "ready after, s", "initial lists: CPU, s", "peak RSS, MB", "read from the apiserver, MB",
		"churn: CPU, s/min", "RSS, MB", "read, MB/min"}}
	for _, r := range rs {
		for i, s := range r.shards {
			shard := "all"
			if r.mode.shards > 1 {
				shard = fmt.Sprintf("%d of %d", i, r.mode.shards)
			}
			rows = append(rows, []string{r.mode.name, shard, fmt.Sprintf("%.1f", s.readyAfter.Seconds()),
				fmt.Sprintf("%.1f", s.listCPU.Seconds()), mbs(float64(s.peakRSS)), mbs(s.listBytes),
				fmt.Sprintf("%.2f", s.churnCPUMin), mbs(float64(s.churnRSS)), mbs(s.churnBytesMin)})
		}
	}
	return rows
}

func apiserverRows(rs []modeResult) [][]string {
	rows := [][]string{{"agents", "apiserver CPU over the initial lists, s", "apiserver CPU in churn, s/min", "selectors applied"}}
	for _, r := range rs {
		applied := "-"
		if r.applied != "" {
			applied = r.applied
		}
		rows = append(rows, []string{r.mode.name, fmt.Sprintf("%.1f", r.apiListCPU.Seconds()), fmt.Sprintf("%.2f", r.apiChurnCPUMin), applied})
	}
	return rows
}

func shardingTable(n, pods int, rs []modeResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d pods (%d created): sharding, default resources\n", n, pods)
	for _, rows := range [][][]string{shardingRows(rs), apiserverRows(rs)} {
		for _, row := range rows {
			b.WriteString(strings.Join(row, " | ") + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}

// shardingMarks are the markers of the section -sharding writes into the
// report.
var shardingMarks = section{
	begin: "<!-- sharding: written by go run ./bench -sharding -->",
	end:   "<!-- /sharding -->",
}

func shardingMarkdown(o options, pods []int, results [][]modeResult) string {
	var b strings.Builder
	b.WriteString(shardingMarks.begin + "\n## Server-side sharding\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench -sharding -n %s` (%s, %s). kube-state-push with its default resources:\n",
		joinInts(o.scales), time.Now().UTC().Format("2006-01-02 15:04 MST"), machineInfo())
	b.WriteString("no agent, one unsharded agent, then three shards that filter client-side (`--shard 0..2 --total-shards 3`, jump\n")
	b.WriteString("hash), then three with `--server-side-sharding` (the apiserver runs `ShardedListAndWatch=true`), one mode\n")
	b.WriteString("after the other on the same objects; the shards of a mode run at once. Per agent: the initial lists until\n")
	b.WriteString("`/readyz` (CPU, peak RSS, bytes read from the apiserver: `kube_state_push_apiserver_received_bytes_total`,\n")
	fmt.Fprintf(&b, "uncompressed protobuf), then, after %s, a churn window of %s (a deployment scaled up or down every\n", settle, o.window)
	b.WriteString("500 ms). The apiserver's CPU is measured over the same two phases; \"no agent\" is what it spends without\n")
	b.WriteString("any, the churn included. Everything runs on the same 2 cores: times are under that load.\n")
	for i, rs := range results {
		fmt.Fprintf(&b, "\n### N = %d pods (%d created)\n", o.scales[i], pods[i])
		for _, rows := range [][][]string{shardingRows(rs), apiserverRows(rs)} {
			b.WriteString("\n")
			for j, row := range rows {
				b.WriteString("| " + strings.Join(row, " | ") + " |\n")
				if j == 0 {
					b.WriteString("|---" + strings.Repeat("|---:", len(row)-1) + "|\n")
				}
			}
		}
	}
	b.WriteString(shardingMarks.end + "\n")
	return b.String()
}
