package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// side is one pipeline under test: how to start it, when it has synced, and
// how many bytes it has sent.
type side struct {
	name  string // for logs and file names
	label string // value of the bench external label on its series
	start func(ctx context.Context) (group, error)
	// synced reports whether the initial state has been delivered; want is the
	// series count the other side reached at this scale, or 0.
	synced      func(ctx context.Context, want float64) (bool, error)
	bytesSent   func(ctx context.Context) (float64, error)
	samplesSent func(ctx context.Context) (float64, error)
	pprof       string        // base URL of net/http/pprof, or ""
	metrics     func() string // URL of its /metrics once started (kube-state-push), or nil

	aloneRSS     int64 // the first process alone (kube-state-metrics)
	aloneFileRSS int64 // its file-backed part
}

func (b *bench) logPath(name string) string {
	return filepath.Join(b.opts.stateDir, "logs", name+".log")
}

// kspSide runs kube-state-push with KSM's default resources, pushing to url
// with the given protobuf message, with flags added to its command line.
func (b *bench) kspSide(tag, label, message, url string, flags ...string) *side {
	var telemetry string
	s := &side{name: label + "-" + tag, label: label}
	s.start = func(ctx context.Context) (group, error) {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		telemetry = fmt.Sprintf("http://127.0.0.1:%d", port)
		s.pprof = telemetry + "/debug/pprof"
		cfg := filepath.Join(b.opts.stateDir, s.name+".yaml")
		doc := fmt.Sprintf("external_labels:\n  bench: %s\nremote_write:\n  - url: %s\n    protobuf_message: %s\n",
			label, url, message)
		if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
			return nil, err
		}
		args := append([]string{"--kubeconfig", b.kubecfg, "--config", cfg,
			"--telemetry-address", fmt.Sprintf("127.0.0.1:%d", port), "--enable-pprof"}, flags...)
		p, err := startProc("kube-state-push", b.logPath(s.name), b.agentBin, args...)
		if err != nil {
			return nil, err
		}
		return group{p}, nil
	}
	s.synced = func(ctx context.Context, _ float64) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, telemetry+"/readyz", nil)
		if err != nil {
			return false, err
		}
		resp, err := httpClient.Do(req)
		if err != nil {
			return false, nil // not listening yet
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	}
	s.metrics = func() string { return telemetry + "/metrics" }
	s.bytesSent = func(ctx context.Context) (float64, error) {
		return metricSum(ctx, telemetry+"/metrics", "kube_state_push_remote_write_bytes_sent_total")
	}
	s.samplesSent = func(ctx context.Context) (float64, error) {
		return metricSum(ctx, telemetry+"/metrics", "kube_state_push_remote_write_samples_sent_total")
	}
	return s
}

// ksmSide runs kube-state-metrics with its default resources, scraped every
// 30 s by Prometheus in agent mode, which remote-writes (1.0, its default) to
// url.
func (b *bench) ksmSide(tag, url string) *side {
	var agentURL string
	s := &side{name: "ksm-" + tag, label: "ksm"}
	s.start = func(ctx context.Context) (group, error) {
		var ports [3]int
		for i := range ports {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			ports[i] = p
		}
		ksm, err := startProc("kube-state-metrics", b.logPath(s.name), filepath.Join(b.cacheBin, "kube-state-metrics-"+ksmVersion),
			"--kubeconfig", b.kubecfg, "--host", "127.0.0.1", fmt.Sprintf("--port=%d", ports[0]),
			"--telemetry-host", "127.0.0.1", fmt.Sprintf("--telemetry-port=%d", ports[1]))
		if err != nil {
			return nil, err
		}
		dir := filepath.Join(b.opts.stateDir, s.name+"-agent")
		cfg := filepath.Join(b.opts.stateDir, s.name+"-agent.yml")
		doc := fmt.Sprintf(`global:
  scrape_interval: %s
  scrape_timeout: 25s
  external_labels:
    bench: ksm
scrape_configs:
  - job_name: kube-state-metrics
    honor_labels: true
    static_configs:
      - targets: ["127.0.0.1:%d"]
remote_write:
  - url: %s
`, scrapeInterval, ports[0], url)
		if err := os.WriteFile(cfg, []byte(doc), 0o644); err != nil {
			ksm.stop()
			return nil, err
		}
		agentURL = fmt.Sprintf("http://127.0.0.1:%d", ports[2])
		agent, err := startProc("prometheus-agent", b.logPath(s.name+"-agent"), filepath.Join(b.cacheBin, "prometheus-"+prometheusVersion),
			"--agent", "--config.file", cfg, "--storage.agent.path", dir, "--web.listen-address", fmt.Sprintf("127.0.0.1:%d", ports[2]))
		if err != nil {
			ksm.stop()
			return nil, err
		}
		return group{ksm, agent}, nil
	}
	s.synced = func(ctx context.Context, want float64) (bool, error) {
		n, err := b.rx.kubeSeries(ctx, s)
		if err != nil {
			return false, err
		}
		return want > 0 && n >= 0.99*want, nil
	}
	s.bytesSent = func(ctx context.Context) (float64, error) {
		return metricSum(ctx, agentURL+"/metrics", "prometheus_remote_storage_bytes_total")
	}
	s.samplesSent = func(ctx context.Context) (float64, error) {
		return metricSum(ctx, agentURL+"/metrics", "prometheus_remote_storage_samples_total")
	}
	return s
}

// sideResult is what one side measured at one scale.
type sideResult struct {
	series           float64
	syncTime         time.Duration
	syncCPU          time.Duration
	peakRSS          int64 // sum of the processes' VmHWM when synced
	steadyRSS        int64 // mean over the steady window
	steadyFileRSS    int64 // its file-backed part (the binaries' pages)
	steadyCPUMin     float64
	churnCPUMin      float64
	steadyBytesMin   float64
	churnBytesMin    float64
	steadySamplesMin float64
	churnSamplesMin  float64
	latencies        []time.Duration // change → queryable (Prometheus) or delivered (sink)
	gone             []time.Duration // delete → series gone (Prometheus) or its staleness marker delivered (sink)
	failed           []string        // probes that never became visible
	rxCPUMin         float64         // the receiver's CPU-s per minute, steady
	rxRSS            int64           // the receiver's RSS, mean over the steady window
	sink             *sinkStats      // what the sink found in the side's requests, or nil
}

// startSide starts s and waits until it has synced.
func (b *bench) startSide(ctx context.Context, s *side, want float64) (group, usage, time.Duration, error) {
	t0 := time.Now()
	g, err := s.start(ctx)
	if err != nil {
		return nil, usage{}, 0, err
	}
	b.running = g
	b.log.Info("Started; waiting for the initial sync", "side", s.name)
	err = poll(ctx, time.Second, 20*time.Minute, func() (bool, error) {
		if err := g.exited(); err != nil {
			return false, err
		}
		return s.synced(ctx, want)
	})
	synced := time.Since(t0)
	if err != nil {
		return g, usage{}, 0, fmt.Errorf("initial sync: %w", err)
	}
	u, _, err := g.usage()
	b.log.Info("Synced", "side", s.name, "after", synced.Round(time.Millisecond), "cpu", u.cpu, "peakRSS", mb(u.peak))
	return g, u, synced, err
}

func (b *bench) stopSide() {
	b.running.stop()
	b.running = nil
}

// measureSide runs s through the whole sequence: initial sync, steady,
// churn, latency probes.
func (b *bench) measureSide(ctx context.Context, s *side, want float64) (sideResult, error) {
	var r sideResult
	b.rx.adopt(s)
	defer b.rx.forget(s)
	probes, err := b.prepareProbes(ctx, s.name)
	if err != nil {
		return r, fmt.Errorf("probes: %w", err)
	}
	defer b.removeProbes(s.name)
	if err := expectInitial(ctx, b.rx, s, probes); err != nil {
		return r, fmt.Errorf("probes: %w", err)
	}
	g, u, synced, err := b.startSide(ctx, s, want)
	defer b.stopSide()
	if err != nil {
		return r, err
	}
	r.syncTime, r.syncCPU, r.peakRSS = synced, u.cpu, u.peak
	if err := probesVisible(ctx, b.rx, s, probes); err != nil {
		return r, err
	}
	sleep(ctx, settle)

	st, err := b.window(ctx, g, s, nil, "", b.rx.procs()...)
	if err != nil {
		return r, fmt.Errorf("steady: %w", err)
	}
	r.steadyCPUMin, r.steadyBytesMin, r.steadyRSS, r.steadySamplesMin = st.cpuMin, st.bytesMin, st.rss, st.samplesMin
	r.steadyFileRSS = st.fileRSS
	s.aloneRSS, s.aloneFileRSS = st.firstRSS, st.firstFileRSS
	for _, o := range st.others {
		r.rxCPUMin += o.cpu.Seconds() / st.elapsed.Minutes()
		r.rxRSS += o.rss
	}
	b.log.Info("Steady", "side", s.name, "cpuPerMin", fmt.Sprintf("%.2fs", st.cpuMin), "bytesPerMin", mb(int64(st.bytesMin)), "samplesPerMin", int(st.samplesMin), "rss", mb(st.rss))

	ch, err := b.window(ctx, g, s, b.churn, "cpu")
	if err != nil {
		return r, fmt.Errorf("churn: %w", err)
	}
	r.churnCPUMin, r.churnBytesMin, r.churnSamplesMin = ch.cpuMin, ch.bytesMin, ch.samplesMin
	b.log.Info("Churn", "side", s.name, "cpuPerMin", fmt.Sprintf("%.2fs", ch.cpuMin), "bytesPerMin", mb(int64(ch.bytesMin)))

	r.latencies, r.gone, r.failed = runProbes(ctx, b.rx, s, probes)
	if r.series, err = b.rx.kubeSeries(ctx, s); err != nil {
		return r, err
	}
	if r.sink, err = b.rx.checks(ctx, s); err != nil {
		return r, err
	}
	if s.pprof != "" {
		b.saveProfile(ctx, s.pprof+"/heap", s.name+"-heap.pprof")
	}
	return r, nil
}

// measureBytesOnly starts s, lets it settle and measures its bytes per
// minute in a steady window.
func (b *bench) measureBytesOnly(ctx context.Context, s *side) (bytesMin, samplesMin float64, err error) {
	b.rx.adopt(s)
	defer b.rx.forget(s)
	g, _, _, err := b.startSide(ctx, s, 0)
	defer b.stopSide()
	if err != nil {
		return 0, 0, err
	}
	sleep(ctx, settle)
	st, err := b.window(ctx, g, s, nil, "")
	if err != nil {
		return 0, 0, err
	}
	b.log.Info("Steady", "side", s.name, "bytesPerMin", mb(int64(st.bytesMin)), "samplesPerMin", int(st.samplesMin))
	return st.bytesMin, st.samplesMin, nil
}

type windowResult struct {
	cpuMin, bytesMin, samplesMin float64
	rss, firstRSS                int64 // means
	fileRSS, firstFileRSS        int64 // means of their file-backed parts

	elapsed        time.Duration
	cpu            time.Duration // of g
	bytes, samples float64       // sent
	others         []procWindow  // the others measured alongside
}

// procWindow is what one process used in a window.
type procWindow struct {
	name string
	cpu  time.Duration
	rss  int64 // mean
}

// window measures g for the window length, with load running (if not nil)
// and a CPU profile taken (if profile is "cpu" and the side serves pprof).
// The others (a receiver's processes) are measured over the same window.
func (b *bench) window(ctx context.Context, g group, s *side, load func(context.Context), profile string, others ...pidProc) (windowResult, error) {
	var r windowResult
	u0, _, err := g.usage()
	if err != nil {
		return r, err
	}
	o0, err := othersUsage(others)
	if err != nil {
		return r, err
	}
	oRSS := make([]int64, len(others))
	b0, n0, err := s.sent(ctx)
	if err != nil {
		return r, err
	}
	wctx, cancel := context.WithTimeout(ctx, b.opts.window)
	defer cancel()
	done := b.startWindow(ctx, wctx, s, load, profile)
	start := time.Now()
	var rssSum, firstSum, fileSum, firstFileSum int64
	var samples int64
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for wctx.Err() == nil {
		select {
		case <-wctx.Done():
		case <-tick.C:
			u, first, err := g.usage()
			if err != nil {
				return r, err
			}
			rssSum, firstSum, samples = rssSum+u.rss, firstSum+first.rss, samples+1
			fileSum, firstFileSum = fileSum+u.file, firstFileSum+first.file
			ou, err := othersUsage(others)
			if err != nil {
				return r, err
			}
			for i := range ou {
				oRSS[i] += ou[i].rss
			}
		}
	}
	<-done
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	if err := g.exited(); err != nil {
		return r, err
	}
	took := time.Since(start)
	elapsed := took.Minutes()
	u1, _, err := g.usage()
	if err != nil {
		return r, err
	}
	b1, n1, err := s.sent(ctx)
	if err != nil {
		return r, err
	}
	r.samplesMin = (n1 - n0) / elapsed
	r.cpuMin = (u1.cpu - u0.cpu).Seconds() / elapsed
	r.bytesMin = (b1 - b0) / elapsed
	r.elapsed, r.cpu, r.bytes, r.samples = took, u1.cpu-u0.cpu, b1-b0, n1-n0
	if samples > 0 {
		r.rss, r.firstRSS = rssSum/samples, firstSum/samples
		r.fileRSS, r.firstFileRSS = fileSum/samples, firstFileSum/samples
	}
	o1, err := othersUsage(others)
	if err != nil {
		return r, err
	}
	for i, p := range others {
		w := procWindow{name: p.name, cpu: o1[i].cpu - o0[i].cpu}
		if samples > 0 {
			w.rss = oRSS[i] / samples
		}
		r.others = append(r.others, w)
	}
	return r, nil
}

// startWindow starts load (if not nil) until wctx is done, and the CPU
// profile if profile is "cpu" and the side serves pprof; the channel is
// closed when load has returned.
func (b *bench) startWindow(ctx, wctx context.Context, s *side, load func(context.Context), profile string) <-chan struct{} {
	done := make(chan struct{})
	if load != nil {
		go func() { defer close(done); load(wctx) }()
	} else {
		close(done)
	}
	if profile == "cpu" && s.pprof != "" {
		secs := int((b.opts.window - 5*time.Second).Seconds())
		go b.saveProfile(ctx, fmt.Sprintf("%s/profile?seconds=%d", s.pprof, secs), s.name+"-cpu.pprof")
	}
	return done
}

// othersUsage reads the usage of each of others.
func othersUsage(others []pidProc) ([]usage, error) {
	us := make([]usage, len(others))
	for i, p := range others {
		u, err := p.usage()
		if err != nil {
			return nil, fmt.Errorf("%s (pid %d): %w", p.name, p.pid, err)
		}
		us[i] = u
	}
	return us, nil
}

// sent returns the side's counters of bytes and samples sent.
func (s *side) sent(ctx context.Context) (bytesSent, samplesSent float64, err error) {
	if bytesSent, err = s.bytesSent(ctx); err != nil {
		return 0, 0, err
	}
	if samplesSent, err = s.samplesSent(ctx); err != nil {
		return 0, 0, err
	}
	return bytesSent, samplesSent, nil
}

func (b *bench) saveProfile(ctx context.Context, url, file string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return
	}
	client := &http.Client{Timeout: b.opts.window + time.Minute}
	resp, err := client.Do(req)
	if err != nil {
		b.log.Warn("Profile not taken", "url", url, "err", err)
		return
	}
	defer resp.Body.Close()
	dir := b.opts.profiles
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	f, err := os.Create(filepath.Join(dir, file))
	if err != nil {
		return
	}
	defer f.Close()
	if _, err := f.ReadFrom(resp.Body); err == nil {
		b.log.Info("Profile saved", "file", f.Name())
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

func mb(b int64) string { return fmt.Sprintf("%.1fMB", float64(b)/1e6) }
