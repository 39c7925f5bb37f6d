package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// row is one line of the comparison: a measure, both sides, and the ratio
// kube-state-push / pipeline.
type row struct {
	measure  string
	ksp, ksm string
	ratio    string
}

func (r scaleResult) rows() []row {
	f := func(format string, v float64) string { return fmt.Sprintf(format, v) }
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3g", a/b)
	}
	mbf := func(b int64) float64 { return float64(b) / 1e6 }
	ksp, ksm := r.ksp, r.ksm
	lat := func(ds []time.Duration, q float64) float64 { return percentile(ds, q).Seconds() }
	rows := []row{
		{"series in the receiver", f("%.0f", ksp.series), f("%.0f", ksm.series), ratio(ksp.series, ksm.series)},
		{"RSS steady, MB (KSM + agent)", f("%.0f", mbf(ksp.steadyRSS)), f("%.0f", mbf(ksm.steadyRSS)), ratio(mbf(ksp.steadyRSS), mbf(ksm.steadyRSS))},
		{"RSS steady, MB (KSM alone)", f("%.0f", mbf(ksp.steadyRSS)), f("%.0f", mbf(r.ksmAloneRSS)), ratio(mbf(ksp.steadyRSS), mbf(r.ksmAloneRSS))},
		{"of which file-backed (the binary's pages), MB (KSM alone)", f("%.0f", mbf(ksp.steadyFileRSS)), f("%.0f", mbf(r.ksmAloneFileRSS)), ratio(mbf(ksp.steadyFileRSS), mbf(r.ksmAloneFileRSS))},
		{"RSS peak until synced, MB", f("%.0f", mbf(ksp.peakRSS)), f("%.0f", mbf(ksm.peakRSS)), ratio(mbf(ksp.peakRSS), mbf(ksm.peakRSS))},
		{"peak / steady RSS", ratio(mbf(ksp.peakRSS), mbf(ksp.steadyRSS)), ratio(mbf(ksm.peakRSS), mbf(ksm.steadyRSS)), ""},
		{"start to synced, s", f("%.1f", ksp.syncTime.Seconds()), f("%.1f", ksm.syncTime.Seconds()), ratio(ksp.syncTime.Seconds(), ksm.syncTime.Seconds())},
		{"CPU-s to synced", f("%.1f", ksp.syncCPU.Seconds()), f("%.1f", ksm.syncCPU.Seconds()), ratio(ksp.syncCPU.Seconds(), ksm.syncCPU.Seconds())},
		{"CPU-s per minute, steady", f("%.2f", ksp.steadyCPUMin), f("%.2f", ksm.steadyCPUMin), ratio(ksp.steadyCPUMin, ksm.steadyCPUMin)},
		{"CPU-s per minute, churn", f("%.2f", ksp.churnCPUMin), f("%.2f", ksm.churnCPUMin), ratio(ksp.churnCPUMin, ksm.churnCPUMin)},
		{"MB sent per minute, steady", f("%.2f", ksp.steadyBytesMin/1e6), f("%.2f", ksm.steadyBytesMin/1e6), ratio(ksp.steadyBytesMin, ksm.steadyBytesMin)},
		{"MB sent per minute, churn", f("%.2f", ksp.churnBytesMin/1e6), f("%.2f", ksm.churnBytesMin/1e6), ratio(ksp.churnBytesMin, ksm.churnBytesMin)},
		{"samples sent per minute, steady", f("%.0f", ksp.steadySamplesMin), f("%.0f", ksm.steadySamplesMin), ratio(ksp.steadySamplesMin, ksm.steadySamplesMin)},
		{"bytes per sample, steady", f("%.1f", perSample(ksp.steadyBytesMin, ksp.steadySamplesMin)), f("%.1f", perSample(ksm.steadyBytesMin, ksm.steadySamplesMin)), ratio(perSample(ksp.steadyBytesMin, ksp.steadySamplesMin), perSample(ksm.steadyBytesMin, ksm.steadySamplesMin))},
		{"bytes per sample, Remote-Write 1.0 / 2.0 (kube-state-push)", f("%.1f", perSample(r.kspV1BytesMin, r.kspV1SamplesMin)) + " / " + f("%.1f", perSample(ksp.steadyBytesMin, ksp.steadySamplesMin)), "",
			"2.0/1.0 = " + ratio(perSample(ksp.steadyBytesMin, ksp.steadySamplesMin), perSample(r.kspV1BytesMin, r.kspV1SamplesMin))},
		{fmt.Sprintf("change → queryable, median s (%d changes)", len(ksp.latencies)), f("%.2f", lat(ksp.latencies, 0.5)), f("%.2f", lat(ksm.latencies, 0.5)), ratio(lat(ksp.latencies, 0.5), lat(ksm.latencies, 0.5))},
		{"change → queryable, p99 s", f("%.2f", lat(ksp.latencies, 0.99)), f("%.2f", lat(ksm.latencies, 0.99)), ratio(lat(ksp.latencies, 0.99), lat(ksm.latencies, 0.99))},
		{fmt.Sprintf("delete → series gone, median s (%d deletes)", len(ksp.gone)), f("%.2f", lat(ksp.gone, 0.5)), f("%.2f", lat(ksm.gone, 0.5)), ratio(lat(ksp.gone, 0.5), lat(ksm.gone, 0.5))},
		{"delete → series gone, max s", f("%.2f", lat(ksp.gone, 1)), f("%.2f", lat(ksm.gone, 1)), ratio(lat(ksp.gone, 1), lat(ksm.gone, 1))},
	}
	return rows
}

func perSample(bytes, samples float64) float64 {
	if samples == 0 {
		return 0
	}
	return bytes / samples
}

// percentile returns the q-quantile of sorted ds (nearest rank), 0 if empty.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	i := int(q*float64(len(ds))+0.999999) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func (r scaleResult) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d pods (%d created, %d kwok nodes)\n", r.n, r.pods, r.nodes)
	fmt.Fprintf(&b, "%-58s %18s %14s %10s\n", "", "kube-state-push", "KSM + agent", "ratio")
	for _, x := range r.rows() {
		fmt.Fprintf(&b, "%-58s %18s %14s %10s\n", x.measure, x.ksp, x.ksm, x.ratio)
	}
	for _, f := range append(r.ksp.failed, r.ksm.failed...) {
		fmt.Fprintf(&b, "probe failed: %s\n", f)
	}
	return b.String()
}

type report struct {
	machine string
	started time.Time
	results []scaleResult
	opts    options
	failure error // of the scale after the last result, if any
}

func (rep report) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks: kube-state-push vs kube-state-metrics + Prometheus agent\n\n")
	b.WriteString("Written by `make bench` (`go run ./bench`); rerun it to refresh. Both pipelines run one after the\n")
	b.WriteString("other against the same local cluster (real kube-apiserver, etcd, controller-manager and scheduler, kwok\n")
	b.WriteString("nodes) and the same receiver (Prometheus 3.16 with its remote-write receiver). Figures drift between runs\n")
	b.WriteString("and machines; compare the ratios of one run. What each remote-storage receiver (Mimir, Cortex, Thanos,\n")
	b.WriteString("VictoriaMetrics, the OpenTelemetry Collector) costs per sample: [benchmarks-receivers.md](benchmarks-receivers.md),\n")
	b.WriteString("written by `make bench-receivers`.\n\n")
	fmt.Fprintf(&b, "- run: %s, %s\n", rep.started.UTC().Format("2006-01-02 15:04 MST"), rep.machine)
	fmt.Fprintf(&b, "- versions: Kubernetes %s, kube-state-metrics %s, Prometheus 3.16 (%s) as agent and receiver, %s\n",
		k8sVersion, ksmVersion, prometheusVersion, runtime.Version())
	fmt.Fprintf(&b, "- kube-state-push: default resources, Remote-Write 2.0, resend every 30 s; KSM: default resources,\n")
	fmt.Fprintf(&b, "  scraped every %s by `prometheus --agent` (honor_labels), which remote-writes 1.0\n", scrapeInterval)
	fmt.Fprintf(&b, "- workload per 1000 pods: ~95 deployments of 10 pods (each with a service, configmap and secret),\n")
	fmt.Fprintf(&b, "  2 statefulsets of 5, 2 jobs, one daemonset on every node; pods have 2 containers with requests and\n")
	fmt.Fprintf(&b, "  limits and 6 labels, spread over %d namespaces\n", benchNamespaces)
	fmt.Fprintf(&b, "- steady and churn windows: %s each after %s of settling; churn: one pod created or deleted every\n", rep.opts.window, settle)
	b.WriteString("  500 ms (deployments scaled by one), with kwok's status changes\n")
	b.WriteString("- RSS and CPU from /proc (VmRSS averaged over the steady window; VmHWM when synced; utime + stime),\n")
	b.WriteString("  summed over the pipeline's processes; bytes: the compressed request bodies each sender counts\n")
	b.WriteString("  (`kube_state_push_remote_write_bytes_sent_total`, `prometheus_remote_storage_bytes_total`)\n")
	b.WriteString("- latency: from the API write to the first instant query on the receiver that shows it, polled every\n")
	b.WriteString("  100 ms; changes are deployment scales, pod phase changes and container restart counts\n")
	for _, r := range rep.results {
		fmt.Fprintf(&b, "\n## N = %d pods (%d created, %d kwok nodes)\n\n", r.n, r.pods, r.nodes)
		b.WriteString("| measure | kube-state-push | KSM + agent | ratio |\n|---|---:|---:|---:|\n")
		for _, x := range r.rows() {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", x.measure, x.ksp, x.ksm, x.ratio)
		}
		if f := append(r.ksp.failed, r.ksm.failed...); len(f) > 0 {
			fmt.Fprintf(&b, "\nProbes that failed: %s\n", strings.Join(f, "; "))
		}
	}
	if rep.failure != nil {
		fmt.Fprintf(&b, "\nThe run stopped at the next scale: %v\n", rep.failure)
	}
	return b.String()
}

func machineInfo() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb int64
		if _, err := fmt.Sscanf(string(b), "MemTotal: %d kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.0f GiB", float64(kb)/(1<<20))
		}
	}
	kernel, _ := exec.Command("uname", "-r").Output()
	return fmt.Sprintf("%d CPUs (%s)%s, Linux %s", runtime.NumCPU(), model, mem, strings.TrimSpace(string(kernel)))
}
