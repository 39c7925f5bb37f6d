package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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

// rows are the comparison of one size; a side not measured shows "-".
func (r sizeRecord) rows() []row {
	ksp, ksm := r.KSP, r.KSM
	if ksp == nil {
		ksp = &sideRecord{}
	}
	if ksm == nil {
		ksm = &sideRecord{}
	}
	num := func(format string, v float64) string { return fmt.Sprintf(format, v) }
	cells := func(measure, format string, a, b float64) row {
		return row{measure, num(format, a), num(format, b), ratio(a, b)}
	}
	perSampleOf := func(s *sideRecord) float64 { return perSample(s.SteadyMBMin*1e6, s.SteadySamplesMin) }
	arrived, gone := "queryable", "series gone"
	if r.Receiver == receiverSink {
		arrived, gone = "delivered", "staleness marker delivered"
	}
	rows := []row{
		cells("series in the receiver", "%.0f", ksp.Series, ksm.Series),
		cells("RSS steady, MB (KSM + agent)", "%.0f", ksp.SteadyRSSMB, ksm.SteadyRSSMB),
		cells("RSS steady, MB (KSM alone)", "%.0f", ksp.SteadyRSSMB, r.KSMAloneRSSMB),
		cells("of which file-backed (the binary's pages), MB (KSM alone)", "%.0f", ksp.SteadyFileRSSMB, r.KSMAloneFileRSSMB),
		cells("RSS peak until synced, MB", "%.0f", ksp.PeakRSSMB, ksm.PeakRSSMB),
		{"peak / steady RSS", ratio(ksp.PeakRSSMB, ksp.SteadyRSSMB), ratio(ksm.PeakRSSMB, ksm.SteadyRSSMB), ""},
		cells("start to synced, s", "%.1f", ksp.SyncS, ksm.SyncS),
		cells("CPU-s to synced", "%.1f", ksp.SyncCPUS, ksm.SyncCPUS),
		cells("CPU-s per minute, steady", "%.2f", ksp.SteadyCPUMin, ksm.SteadyCPUMin),
		cells("CPU-s per minute, churn", "%.2f", ksp.ChurnCPUMin, ksm.ChurnCPUMin),
		cells("MB sent per minute, steady", "%.2f", ksp.SteadyMBMin, ksm.SteadyMBMin),
		cells("MB sent per minute, churn", "%.2f", ksp.ChurnMBMin, ksm.ChurnMBMin),
		cells("samples sent per minute, steady", "%.0f", ksp.SteadySamplesMin, ksm.SteadySamplesMin),
		cells("bytes per sample, steady", "%.1f", perSampleOf(ksp), perSampleOf(ksm)),
		{"bytes per sample, Remote-Write 1.0 / 2.0 (kube-state-push)", num("%.1f", r.KSPV1BytesPerSample) + " / " + num("%.1f", perSampleOf(ksp)), "",
			"2.0/1.0 = " + ratio(perSampleOf(ksp), r.KSPV1BytesPerSample)},
		cells(fmt.Sprintf("change → %s, median s (%d changes)", arrived, ksp.Changes), "%.2f", ksp.ChangeMedianS, ksm.ChangeMedianS),
		cells(fmt.Sprintf("change → %s, p99 s", arrived), "%.2f", ksp.ChangeP99S, ksm.ChangeP99S),
		cells(fmt.Sprintf("delete → %s, median s (%d deletes)", gone, ksp.Deletes), "%.2f", ksp.GoneMedianS, ksm.GoneMedianS),
		cells(fmt.Sprintf("delete → %s, max s", gone), "%.2f", ksp.GoneMaxS, ksm.GoneMaxS),
	}
	if ksp.ReceiverCPUMin > 0 || ksm.ReceiverCPUMin > 0 {
		rows = append(rows,
			cells(fmt.Sprintf("receiver (%s) CPU-s per minute, steady", r.Receiver), "%.2f", ksp.ReceiverCPUMin, ksm.ReceiverCPUMin),
			cells(fmt.Sprintf("receiver (%s) RSS steady, MB", r.Receiver), "%.0f", ksp.ReceiverRSSMB, ksm.ReceiverRSSMB))
	}
	return append(rows, sinkRows(ksp.Sink, ksm.Sink)...)
}

// sinkRows are what the sink found in each side's requests, over the side's
// whole run.
func sinkRows(ksp, ksm *sinkStats) []row {
	if ksp == nil && ksm == nil {
		return nil
	}
	count := func(measure string, f func(*sinkStats) int64) row {
		c := func(s *sinkStats) string {
			if s == nil {
				return "-"
			}
			return fmt.Sprint(f(s))
		}
		return row{measure, c(ksp), c(ksm), ""}
	}
	return []row{
		count("sink: requests", func(s *sinkStats) int64 { return s.Requests }),
		count("sink: requests refused", func(s *sinkStats) int64 { return s.Refused }),
		count("sink: samples received", func(s *sinkStats) int64 { return s.Samples }),
		count("sink: samples out of order (timestamp not after the series' last)", func(s *sinkStats) int64 { return s.OutOfOrder }),
		count("sink: series with unsorted, repeated or no name labels", func(s *sinkStats) int64 { return s.Invalid }),
		count("sink: staleness markers", func(s *sinkStats) int64 { return s.Stale }),
		count("sink: distinct series", func(s *sinkStats) int64 { return s.Series }),
	}
}

// ratio is a / b in three digits, "-" when b is 0.
func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3g", a/b)
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

// table is the comparison of one size as text, for the terminal.
func (r sizeRecord) table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d pods (%d created, %d kwok nodes), receiver %s\n", r.N, r.Pods, r.Nodes, r.Receiver)
	fmt.Fprintf(&b, "%-58s %18s %14s %10s\n", "", "kube-state-push", "KSM + agent", "ratio")
	for _, x := range r.rows() {
		fmt.Fprintf(&b, "%-58s %18s %14s %10s\n", x.measure, x.ksp, x.ksm, x.ratio)
	}
	for _, f := range r.FailedProbes {
		fmt.Fprintf(&b, "probe failed: %s\n", f)
	}
	return b.String()
}

// markdown is docs/benchmarks.md: every size kept, each from its own run.
func (rs benchRecords) markdown(plot string) string {
	var b strings.Builder
	b.WriteString("# Benchmarks: kube-state-push vs kube-state-metrics + Prometheus agent\n\n")
	b.WriteString("Written by `make bench` (`go run ./bench`) from [benchmarks.json](benchmarks.json), which keeps every size\n")
	b.WriteString("measured, each from its own run: a run replaces the sizes it measures. Both pipelines run one after the\n")
	b.WriteString("other against the same local cluster (real kube-apiserver, etcd, controller-manager and scheduler, kwok\n")
	b.WriteString("nodes) and the same receiver. Figures drift between runs and machines; compare the ratios of one size.\n")
	b.WriteString("What each remote-storage receiver (Mimir, Cortex, Thanos, VictoriaMetrics, the OpenTelemetry Collector)\n")
	b.WriteString("costs per sample: [benchmarks-receivers.md](benchmarks-receivers.md), written by `make bench-receivers`.\n\n")
	b.WriteString("- kube-state-push: default resources, Remote-Write 2.0, resend every 30 s; KSM: default resources,\n")
	fmt.Fprintf(&b, "  scraped every %s by `prometheus --agent` (honor_labels), which remote-writes 1.0\n", scrapeInterval)
	b.WriteString("- workload per 1000 pods: ~95 deployments of 10 pods (each with a service, configmap and secret),\n")
	b.WriteString("  2 statefulsets of 5, 2 jobs, one daemonset on every node; pods have 2 containers with requests and\n")
	fmt.Fprintf(&b, "  limits and 6 labels, spread over %d namespaces\n", benchNamespaces)
	fmt.Fprintf(&b, "- steady and churn windows after %s of settling; churn: one pod created or deleted every\n", settle)
	b.WriteString("  500 ms (deployments scaled by one), with kwok's status changes\n")
	b.WriteString("- RSS and CPU from /proc (VmRSS averaged over the steady window; VmHWM when synced; utime + stime),\n")
	b.WriteString("  summed over the pipeline's processes; bytes: the compressed request bodies\n")
	b.WriteString("- receiver: below 20,000 pods the cluster's Prometheus 3.16 with its remote-write receiver; latency is\n")
	b.WriteString("  from the API write to the first instant query that shows it, polled every 100 ms, and bytes and samples\n")
	b.WriteString("  are what each sender counts (`kube_state_push_remote_write_bytes_sent_total`,\n")
	b.WriteString("  `prometheus_remote_storage_bytes_total`). From 20,000 pods the sink, a process of the bench that\n")
	b.WriteString("  decodes every request of both versions and checks it (per-series timestamp order, label order,\n")
	b.WriteString("  staleness markers) but stores no series (Prometheus held 2.8 M series in 5.7 GB there and stopped\n")
	b.WriteString("  answering); latency is from the API write to the arrival of the request that carried the change, and\n")
	b.WriteString("  bytes and samples are what the sink received\n")
	b.WriteString("- changes are deployment scales, pod phase changes and container restart counts\n")
	if plot != "" {
		fmt.Fprintf(&b, "\n![RSS and CPU against pods, both sides](%s)\n", plot)
	}
	for _, r := range rs.Sizes {
		r.markdownSection(&b)
	}
	return b.String()
}

// markdownSection writes one size: where and when it ran, and its table.
func (r sizeRecord) markdownSection(b *strings.Builder) {
	fmt.Fprintf(b, "\n## N = %d pods (%d created, %d kwok nodes)\n\n", r.N, r.Pods, r.Nodes)
	fmt.Fprintf(b, "- run: %s, %s\n", r.Run.UTC().Format("2006-01-02 15:04 MST"), r.Machine)
	fmt.Fprintf(b, "- versions: %s\n", r.Versions)
	rx := "Prometheus 3.16 (change → queryable)"
	if r.Receiver == receiverSink {
		rx = "the sink (change → delivered)"
	}
	fmt.Fprintf(b, "- receiver: %s; windows of %s\n", rx, r.Window)
	if r.CreatedS > 0 {
		fmt.Fprintf(b, "- workload created and running in %s\n", time.Duration(r.CreatedS*float64(time.Second)))
	}
	if r.Note != "" {
		fmt.Fprintf(b, "- %s\n", r.Note)
	}
	if r.Stopped != "" {
		fmt.Fprintf(b, "\nThe run stopped here: %s\n", r.Stopped)
	}
	rows := r.rows()
	if r.PublishedRows != nil {
		rows = rows[:0]
		for _, x := range r.PublishedRows {
			rows = append(rows, row{x[0], x[1], x[2], x[3]})
		}
	}
	if r.KSP != nil {
		b.WriteString("\n| measure | kube-state-push | KSM + agent | ratio |\n|---|---:|---:|---:|\n")
		for _, x := range rows {
			fmt.Fprintf(b, "| %s | %s | %s | %s |\n", x.measure, x.ksp, x.ksm, x.ratio)
		}
	}
	if len(r.FailedProbes) > 0 {
		fmt.Fprintf(b, "\nProbes that failed: %s\n", strings.Join(r.FailedProbes, "; "))
	}
}

// writeReport merges the scales measured into the records beside out and
// writes them, the markdown report and its plot.
func (b *bench) writeReport(results []scaleResult) error {
	o := b.opts
	rs, err := loadRecords(recordsPath(o.out))
	if err != nil {
		return err
	}
	machine, versions := machineInfo(), versionsLine(o.root)
	for _, r := range results {
		if !rs.merge(recordOf(r, o, machine, versions)) {
			b.log.Warn("A complete earlier record stays for this size", "n", r.n, "stopped", r.err)
		}
	}
	if err := rs.save(recordsPath(o.out)); err != nil {
		return err
	}
	plot := ""
	if err := writePlot(plotPath(o.out), rs); err != nil {
		b.log.Warn("No plot", "err", err)
	} else {
		plot = filepath.Base(plotPath(o.out))
	}
	doc := rs.markdown(plot)
	for _, m := range []section{scrapeMarks, crsMarks, shardingMarks, resendMarks} { // the other modes' sections stay
		if s := m.of(o.out); s != "" {
			doc = m.replace(doc, s)
		}
	}
	if err := os.WriteFile(o.out, []byte(doc), 0o644); err != nil {
		return err
	}
	b.log.Info("Report written", "file", o.out, "records", recordsPath(o.out), "plot", plot)
	return nil
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
