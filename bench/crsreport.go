package main

import (
	"fmt"
	"strings"
	"time"
)

// The section -crs writes into the report; the full benchmark and -scrape
// keep it when they rewrite the file.
var crsMarks = section{
	begin: "<!-- crs: written by go run ./bench -crs -->",
	end:   "<!-- /crs -->",
}

func crsTable(n int, rs []crsResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d custom objects (50 series each), one after the other\n", n)
	for _, r := range crsRows(n, rs) {
		fmt.Fprintf(&b, "%-46s %18s %20s %8s\n", r.measure, r.ksm, r.ksp, r.ratio)
	}
	return b.String()
}

// crsRows are the rows of one scale: kube-state-metrics, kube-state-push and
// the ratio kube-state-push / kube-state-metrics (the ksm and ksp fields of
// row hold them in that order here).
func crsRows(n int, rs []crsResult) []row {
	ksm, ksp := rs[0], rs[1]
	mbf := func(v float64) float64 { return v / 1e6 }
	ratio := func(a, b float64) string {
		if b == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3g", a/b)
	}
	cell := func(format string, f func(r crsResult) float64) row {
		return row{ksm: fmt.Sprintf(format, f(ksm)), ksp: fmt.Sprintf(format, f(ksp)), ratio: ratio(f(ksp), f(ksm))}
	}
	named := func(measure string, r row) row { r.measure = measure; return r }
	secs := func(d func(r crsResult) time.Duration) func(r crsResult) float64 {
		return func(r crsResult) float64 { return d(r).Seconds() }
	}
	return []row{
		{measure: "measure", ksm: ksm.name, ksp: ksp.name, ratio: "ratio"},
		named("objects (series of "+crsFamily+")", cell("%.0f", func(r crsResult) float64 { return float64(r.objects) })),
		named("series on /metrics", cell("%.0f", func(r crsResult) float64 { return float64(r.series) })),
		named("start to first object served, s", cell("%.1f", secs(func(r crsResult) time.Duration { return r.firstObjectAfter }))),
		named("start to every object served, s", cell("%.1f", secs(func(r crsResult) time.Duration { return r.syncTime }))),
		named("first to every object served, s", cell("%.1f", secs(func(r crsResult) time.Duration { return r.syncTime - r.firstObjectAfter }))),
		named("CPU-s until every object served", cell("%.1f", secs(func(r crsResult) time.Duration { return r.syncCPU }))),
		named("allocated until then, MB", cell("%.0f", func(r crsResult) float64 { return mbf(r.syncAlloc) })),
		named("RSS peak until then, MB", cell("%.0f", func(r crsResult) float64 { return mbf(float64(r.syncPeak)) })),
		named("RSS peak, whole run, MB", cell("%.0f", func(r crsResult) float64 { return mbf(float64(r.runPeak)) })),
		named("RSS steady, MB", cell("%.0f", func(r crsResult) float64 { return mbf(float64(r.steadyRSS)) })),
		named("Go heap in use, steady, MB", cell("%.0f", func(r crsResult) float64 { return mbf(r.steadyHeapInuse) })),
		named("Go heap live after a forced GC, MB", cell("%.0f", func(r crsResult) float64 { return mbf(r.liveHeap) })),
		named("live heap per object, KB", cell("%.1f", func(r crsResult) float64 { return r.liveHeap / float64(n) / 1e3 })),
		named("RSS 30 s after that GC, MB", cell("%.0f", func(r crsResult) float64 { return mbf(float64(r.afterGCRSS)) })),
		named("CPU steady, ms per s", cell("%.1f", func(r crsResult) float64 { return r.steadyCPUPerSec * 1000 })),
	}
}

func crsMarkdown(o options, results [][]crsResult) string {
	var b strings.Builder
	b.WriteString(crsMarks.begin + "\n## Custom resources: kube-state-push against kube-state-metrics, same config, same objects\n\n")
	fmt.Fprintf(&b, "Written by `go run ./bench -crs -n %s` (%s, %s; kube-state-metrics %s, Kubernetes %s).\n",
		joinInts(o.scales), time.Now().UTC().Format("2006-01-02 15:04 MST"), machineInfo(), ksmVersion, k8sVersion)
	b.WriteString("N Databases (`customresource/testdata/bench`: a CRD without status subresource, an object with five\n")
	b.WriteString("conditions, a map of three instances, quantities and timestamps, and a config of 17 Gauge, StateSet and\n")
	b.WriteString("Info families giving 50 series per object, as in `go test -bench . ./customresource`) are created first;\n")
	b.WriteString("then each side, kube-state-metrics first, is started alone with `--custom-resource-state-only\n")
	b.WriteString("--custom-resource-state-config-file` of that config and its default resources, and stopped before the\n")
	b.WriteString("other starts. kube-state-push serves `--metrics-address` and pushes to the cluster's Prometheus, its\n")
	b.WriteString("resends an hour apart; kube-state-metrics is not scraped. \"Served\" is when `/metrics` holds an object's\n")
	b.WriteString("`" + crsFamily + "` series: a probe every second reads that family (written first) and hangs up.\n")
	b.WriteString("kube-state-metrics' times include its CRD discovery, which polls every 3 s, before it lists the objects;\n")
	b.WriteString("kube-state-push applies the objects of its list as they are decoded. Peaks are VmHWM; steady RSS is the\n")
	b.WriteString("mean of 10 samples over 20 s, from 30 s after every object was served; the Go heap is\n")
	b.WriteString("`go_memstats_heap_inuse_bytes` then, and the live heap `go_memstats_heap_alloc_bytes` right after a\n")
	b.WriteString("forced GC (a `/debug/pprof/heap?gc=1` of each), and the RSS 30 s after that GC: an idle Go process may\n")
	b.WriteString("not collect for up to 2 minutes. Each side's CPU is profiled over its first 30 s; the profiles are kept\n")
	b.WriteString("in `-profiles`. Ratios are kube-state-push / kube-state-metrics, from one run on a machine the cluster\n")
	b.WriteString("shares (2 cores): times are under its load.\n")
	for i, rs := range results {
		fmt.Fprintf(&b, "\n### N = %d custom objects\n\n", o.scales[i])
		for j, r := range crsRows(o.scales[i], rs) {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.measure, r.ksm, r.ksp, r.ratio)
			if j == 0 {
				b.WriteString("|---|---:|---:|---:|\n")
			}
		}
	}
	b.WriteString("\n")
	b.WriteString("kube-state-metrics keeps an object's series as the text it serves, one []byte per family, which the Go GC\n")
	b.WriteString("does not scan; kube-state-push keeps them as label sets of strings, which it does. kube-state-metrics is\n")
	b.WriteString("idle after its list: it does not collect until Go forces a GC (after 2 minutes without one), and the\n")
	b.WriteString("runtime returns what it freed to the system only slowly (the RSS 30 s after the forced GC), so its RSS\n")
	b.WriteString("holds the garbage of the list for minutes. The live heaps compare what each keeps. kube-state-push's\n")
	b.WriteString("CPU and time until every object is served include pushing every series once (the initial push) to the\n")
	b.WriteString("Prometheus on the same 2 cores; kube-state-metrics', not scraped, include no export. In its profile\n")
	b.WriteString("(`-profiles`) the Go GC is the largest part: its series are pointers the collector scans.\n")
	b.WriteString(crsMarks.end + "\n")
	return b.String()
}
