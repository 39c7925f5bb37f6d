package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The -receivers mode: kube-state-push pushes the workload to each receiver
// of hack/receivers.sh in turn, and the window measures what the agent and
// the receiver's processes spend per sample.

// refusalCounters names, per receiver, the counters of its own /metrics that
// count samples it refused. A counter with labels is exported only once it
// has counted something: an absent one counted nothing.
var refusalCounters = map[string][]string{
	"mimir":  {"cortex_discarded_samples_total"},
	"cortex": {"cortex_discarded_samples_total"},
	"thanos": {"prometheus_tsdb_out_of_order_samples_total", "prometheus_tsdb_out_of_bound_samples_total",
		"prometheus_tsdb_too_old_samples_total"},
	"victoria-metrics": {"vm_rows_ignored_total"},
	// The Collector's receiver, and its exporter into the Prometheus behind it.
	"otelcol":     {"otelcol_receiver_refused_metric_points_total", "otelcol_exporter_send_failed_metric_points_total"},
	"prometheus2": {"prometheus_tsdb_out_of_order_samples_total", "prometheus_tsdb_out_of_bound_samples_total", "prometheus_tsdb_too_old_samples_total"},
}

// receiverEnv is what `hack/receivers.sh up` prints.
type receiverEnv struct {
	name, pushURL, queryURL, metricsURL string
	protocol                            string // the best Remote-Write version it takes, says the script
}

func parseReceiverEnv(text string) (receiverEnv, error) {
	var e receiverEnv
	for _, line := range strings.Split(text, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok {
			continue
		}
		switch k {
		case "RECEIVER":
			e.name = v
		case "RECEIVER_PUSH_URL":
			e.pushURL = v
		case "RECEIVER_QUERY_URL":
			e.queryURL = v
		case "RECEIVER_METRICS_URL":
			e.metricsURL = v
		case "RECEIVER_PROTOCOL":
			e.protocol = v
		}
	}
	var missing []string
	for k, v := range map[string]string{"RECEIVER_PUSH_URL": e.pushURL, "RECEIVER_QUERY_URL": e.queryURL,
		"RECEIVER_METRICS_URL": e.metricsURL, "RECEIVER_PROTOCOL": e.protocol} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return e, fmt.Errorf("receiver env lacks %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// receiverResult is what one receiver measured at one scale.
type receiverResult struct {
	name     string
	n, pods  int
	failure  string   // why it was not measured, or ""
	logLines []string // the end of the logs, when it failed

	advertised      string  // RECEIVER_PROTOCOL
	message         string  // protobuf message the agent sent at the end of the window
	fallbacks       float64 // the agent's requests sent again as 1.0
	series          float64 // kube_* series queryable in the receiver; -1: the query failed
	syncTime        time.Duration
	elapsed         time.Duration
	samples         float64 // sent (accepted) in the window
	bytes           float64 // their compressed request bodies
	agentCPU        time.Duration
	agentRSS        int64        // mean over the window
	procs           []procWindow // the receiver's processes
	binaries        []string     // their executables' names (with the version)
	refused         []refusal    // the receiver's nonzero refusal counters, since it started
	refusedInWindow float64      // what they grew by in the window
	exported        []string     // the refusal counters it exported (the others counted nothing)
	agentDropped    float64      // samples the agent dropped, since it started
	unconfirmed     float64      // 2.0 samples answered 2xx that the receiver did not count as written
	retried         float64      // the agent's requests that failed and were sent again (5xx, 429), since it started
	logBytes        int64        // what the receiver's logs grew by in the window
	agentWarnings   []string     // the agent's first warnings and errors (why it retried)
}

// warnings returns the first n lines of a log at level WARN or ERROR, each
// cut to 400 bytes.
func warnings(path string, n int) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		low := strings.ToLower(l)
		if !strings.Contains(low, "level=warn") && !strings.Contains(low, "level=error") &&
			!strings.Contains(low, `"level":"warn"`) && !strings.Contains(low, `"level":"error"`) {
			continue
		}
		if len(l) > 400 {
			l = l[:400] + "..."
		}
		if out = append(out, l); len(out) == n {
			break
		}
	}
	return out
}

// logBytes is the size of the *.log files in dir.
func logBytes(dir string) int64 {
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	var n int64
	for _, l := range logs {
		if fi, err := os.Stat(l); err == nil {
			n += fi.Size()
		}
	}
	return n
}

type refusal struct {
	series string // name{labels}
	value  float64
}

// refusals returns the nonzero samples of the named counters, and which of
// the names the page has.
func refusals(ms []metricSample, names []string) (nonzero []refusal, exported []string) {
	for _, name := range names {
		found := false
		for _, m := range ms {
			if m.name != name {
				continue
			}
			found = true
			if m.value != 0 {
				nonzero = append(nonzero, refusal{series: name + formatLabels(m.labels), value: m.value})
			}
		}
		if found {
			exported = append(exported, name)
		}
	}
	return nonzero, exported
}

func formatLabels(ls map[string]string) string {
	if len(ls) == 0 {
		return ""
	}
	keys := make([]string, 0, len(ls))
	for k := range ls {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s=%q", k, ls[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// messageInUse returns the protobuf message kube-state-push's
// kube_state_push_remote_write_protobuf_message says it sends (value 1), or "".
func messageInUse(ms []metricSample) string {
	for _, m := range ms {
		if m.name == "kube_state_push_remote_write_protobuf_message" && m.value == 1 {
			return m.labels["protobuf_message"]
		}
	}
	return ""
}

// protocolUsed names the Remote-Write version the agent used.
func (r receiverResult) protocolUsed() string {
	switch r.message {
	case "io.prometheus.write.v2.Request":
		return "2.0"
	case "prometheus.WriteRequest":
		if r.fallbacks > 0 {
			return "1.0 (fell back from 2.0)"
		}
		return "1.0"
	}
	return "?"
}

func (r receiverResult) refusedTotal() float64 {
	var t float64
	for _, x := range r.refused {
		t += x.value
	}
	return t
}

func (r receiverResult) rxCPU() time.Duration {
	var t time.Duration
	for _, p := range r.procs {
		t += p.cpu
	}
	return t
}

func (r receiverResult) rxRSS() int64 {
	var t int64
	for _, p := range r.procs {
		t += p.rss
	}
	return t
}

// perMillion is CPU seconds per million samples.
func perMillion(cpu time.Duration, samples float64) float64 {
	if samples == 0 {
		return 0
	}
	return cpu.Seconds() / samples * 1e6
}

// runReceivers measures each receiver at each scale and writes the report.
func (b *bench) runReceivers(ctx context.Context) error {
	var results []receiverResult
	var runErr error
scales:
	for _, n := range b.opts.scales {
		p, err := b.prepareScale(ctx, n)
		if err != nil {
			runErr = fmt.Errorf("scale N=%d: %w", n, err)
			break
		}
		// The last pods start and kwok updates their status: let that pass
		// before the first receiver, so that it sees what the others see.
		sleep(ctx, settle)
		for _, name := range b.opts.receiverNames {
			r := b.measureReceiver(ctx, p, n, name)
			if ctx.Err() != nil {
				runErr = fmt.Errorf("interrupted at %s, N=%d: %w", name, n, ctx.Err())
				break scales
			}
			if r.failure != "" {
				b.log.Error("Receiver failed", "receiver", name, "n", n, "err", r.failure)
				for _, l := range r.logLines {
					fmt.Fprintln(os.Stderr, "  "+l)
				}
			}
			results = append(results, r)
		}
	}
	if len(results) > 0 {
		fmt.Println(receiversTable(results))
	}
	if b.opts.out != "" && len(results) > 0 {
		rep := receiversDoc{machine: machineInfo(), started: b.started, opts: b.opts, results: results, failure: runErr}
		if err := os.WriteFile(b.opts.out, []byte(rep.markdown()), 0o644); err != nil {
			return err
		}
		b.log.Info("Report written", "file", b.opts.out)
	}
	if runErr == nil {
		failed := 0
		for _, r := range results {
			if r.failure != "" {
				failed++
			}
		}
		if failed > 0 {
			runErr = fmt.Errorf("%d of %d receivers failed (see the report)", failed, len(results))
		}
	}
	return runErr
}

// measureReceiver starts the receiver, runs kube-state-push against it until
// synced, lets it settle and measures a window with churn; it stops both. A
// failure is recorded in the result.
func (b *bench) measureReceiver(ctx context.Context, p plan, n int, name string) receiverResult {
	r := receiverResult{name: name, n: n, pods: p.pods(), series: -1}
	var agentLog string
	fail := func(err error) receiverResult {
		r.failure = err.Error()
		if b.rxDir != "" {
			logs, _ := filepath.Glob(filepath.Join(b.rxDir, "logs", "*.log"))
			for _, l := range logs {
				r.logLines = append(r.logLines, prefixLines(filepath.Base(l), failureLines(l, 5, 10))...)
			}
		}
		if agentLog != "" {
			r.logLines = append(r.logLines, prefixLines("kube-state-push", tail(agentLog, 10))...)
		}
		return r
	}

	b.log.Info("Starting the receiver", "receiver", name)
	env, procs, err := b.receiverUp(ctx, name, fmt.Sprint(n))
	defer b.receiverDown()
	if err != nil {
		return fail(fmt.Errorf("hack/receivers.sh up %s: %w", name, err))
	}
	r.advertised = env.protocol
	for _, pp := range procs {
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pp.pid))
		if err != nil {
			return fail(fmt.Errorf("%s (pid %d): %w", pp.name, pp.pid, err))
		}
		r.binaries = append(r.binaries, filepath.Base(exe))
	}
	b.log.Info("Receiver up", "receiver", name, "push", env.pushURL, "protocol", env.protocol, "processes", len(procs))

	s := b.kspSide(fmt.Sprint(n), name, "io.prometheus.write.v2.Request", env.pushURL)
	agentLog = b.logPath(s.name)
	g, _, synced, err := b.startSide(ctx, s, 0)
	defer b.stopSide()
	if err != nil {
		return fail(err)
	}
	r.syncTime = synced
	sleep(ctx, settle)
	if ctx.Err() != nil {
		return fail(ctx.Err())
	}

	rm0, err := scrape(ctx, env.metricsURL)
	if err != nil {
		return fail(fmt.Errorf("receiver metrics: %w", err))
	}
	refused0, _ := refusals(rm0, refusalCounters[name])
	logs0 := logBytes(filepath.Join(b.rxDir, "logs"))
	st, err := b.window(ctx, g, s, b.churn, "", procs...)
	if err != nil {
		return fail(fmt.Errorf("window: %w", err))
	}
	r.logBytes = logBytes(filepath.Join(b.rxDir, "logs")) - logs0
	r.elapsed, r.samples, r.bytes, r.agentCPU, r.agentRSS, r.procs = st.elapsed, st.samples, st.bytes, st.cpu, st.rss, st.others

	am, err := scrape(ctx, s.metrics())
	if err != nil {
		return fail(fmt.Errorf("kube-state-push metrics: %w", err))
	}
	r.message = messageInUse(am)
	r.fallbacks, _ = sumOf(am, "kube_state_push_remote_write_requests_total", func(l map[string]string) bool { return l["result"] == "fallback" })
	r.agentDropped, _ = sumOf(am, "kube_state_push_remote_write_samples_dropped_total", nil)
	r.unconfirmed, _ = sumOf(am, "kube_state_push_remote_write_samples_unconfirmed_total", nil)
	r.retried, _ = sumOf(am, "kube_state_push_remote_write_requests_total", func(l map[string]string) bool { return l["result"] == "retried" })
	r.agentWarnings = warnings(agentLog, 3)

	rm, err := scrape(ctx, env.metricsURL)
	if err != nil {
		return fail(fmt.Errorf("receiver metrics: %w", err))
	}
	r.refused, r.exported = refusals(rm, refusalCounters[name])
	r.refusedInWindow = r.refusedTotal() - receiverResult{refused: refused0}.refusedTotal()

	if r.series, err = scalar(ctx, env.queryURL, fmt.Sprintf(`count({bench=%q,__name__=~"kube_.+"})`, name)); err != nil {
		b.log.Warn("Series not counted in the receiver", "receiver", name, "err", err)
		r.series = -1
	}
	b.log.Info("Measured", "receiver", name, "protocol", r.protocolUsed(), "samples", int(r.samples),
		"bytesPerSample", fmt.Sprintf("%.2f", perSample(r.bytes, r.samples)),
		"agentCPUPerM", fmt.Sprintf("%.2fs", perMillion(r.agentCPU, r.samples)),
		"receiverCPUPerM", fmt.Sprintf("%.2fs", perMillion(r.rxCPU(), r.samples)),
		"receiverRSS", mb(r.rxRSS()), "refused", r.refusedTotal(), "series", r.series)
	return r
}

// failureLines returns the first errors lines of a log that say they are
// errors (the cause, often long before the end), then its last tail lines.
func failureLines(path string, errors, tailLines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	var out []string
	end := max(len(lines)-tailLines, 0)
	for _, l := range lines[:end] {
		if len(out) < errors && isErrorLine(l) {
			out = append(out, l)
		}
	}
	if len(out) > 0 && end > 0 {
		out = append(out, "...")
	}
	return strings.Join(append(out, lines[end:]...), "\n")
}

func isErrorLine(l string) bool {
	l = strings.ToLower(l)
	return strings.Contains(l, "level=error") || strings.Contains(l, `"level":"error"`) || strings.Contains(l, "level=fatal") ||
		strings.HasPrefix(l, "error") || strings.Contains(l, " error:")
}

func prefixLines(prefix, text string) []string {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = "[" + prefix + "] " + l
	}
	return lines
}

// receiverUp runs `hack/receivers.sh up name dir` and returns what it printed
// and the processes of its pid files. b.rxDir is set before the script runs,
// so that cleanup stops what a half-done start left.
func (b *bench) receiverUp(ctx context.Context, name, tag string) (receiverEnv, []pidProc, error) {
	dir := filepath.Join(b.opts.stateDir, "receivers", name+"-"+tag)
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return receiverEnv{}, nil, err
	}
	b.rxDir = dir
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, filepath.Join(b.opts.root, "hack", "receivers.sh"), "up", name, dir)
	cmd.Env = receiverScriptEnv(os.Environ())
	// Mimir writes its query activity file (metrics-activity.log) in its
	// working directory: the state dir's, not the repository.
	cmd.Dir = b.opts.stateDir
	cmd.Stderr = io.MultiWriter(os.Stderr, &stderr)
	// On Ctrl-C the script stops what it started itself (its EXIT trap).
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 30 * time.Second
	out, err := cmd.Output()
	if err != nil {
		lines := strings.Split(strings.TrimRight(stderr.String(), "\n"), "\n")
		if len(lines) > 20 {
			lines = lines[len(lines)-20:]
		}
		return receiverEnv{}, nil, fmt.Errorf("%w:\n%s", err, strings.Join(lines, "\n"))
	}
	env, err := parseReceiverEnv(string(out))
	if err != nil {
		return env, nil, err
	}
	procs, err := readPidFiles(filepath.Join(dir, "pids"))
	return env, procs, err
}

// receiverScriptEnv is the environment for hack/receivers.sh: the receivers
// with their default settings (no tenants, no HA tracker), whatever the
// caller's environment says.
func receiverScriptEnv(environ []string) []string {
	var out []string
	for _, kv := range environ {
		if strings.HasPrefix(kv, "KSP_RECEIVER_") || strings.HasPrefix(kv, "KSP_KEEP_STATE=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// receiverDown stops what hack/receivers.sh started in b.rxDir, if anything.
func (b *bench) receiverDown() {
	if b.rxDir == "" {
		return
	}
	down := exec.Command(filepath.Join(b.opts.root, "hack", "receivers.sh"), "down", b.rxDir)
	down.Env = receiverScriptEnv(os.Environ())
	down.Dir = b.opts.stateDir
	if b.opts.keep {
		down.Env = append(down.Env, "KSP_KEEP_STATE=1")
	}
	down.Stderr = os.Stderr
	if err := down.Run(); err != nil {
		b.log.Error("Receiver down failed", "dir", b.rxDir, "err", err)
	}
	b.rxDir = ""
}
