package main

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"
)

// receiverColumns head the per-receiver table, one row per receiver.
var receiverColumns = []string{
	"receiver", "protocol used", "series in the receiver", "samples sent", "MB sent", "bytes per sample",
	"agent CPU-s per M samples", "receiver CPU-s per M samples", "receiver RSS, MB",
	"refused by the receiver (in the window)", "agent: dropped / unconfirmed / retried requests",
}

// cells is a receiver's row of the table; a failed receiver has its failure
// in the second cell.
func (r receiverResult) cells() []string {
	if r.failure != "" {
		row := []string{r.name, "failed (see below)"}
		for len(row) < len(receiverColumns) {
			row = append(row, "")
		}
		return row
	}
	series := "-"
	if r.series >= 0 {
		series = fmt.Sprintf("%.0f", r.series)
	}
	return []string{
		r.name,
		r.protocolUsed(),
		series,
		fmt.Sprintf("%.0f", r.samples),
		fmt.Sprintf("%.2f", r.bytes/1e6),
		fmt.Sprintf("%.2f", perSample(r.bytes, r.samples)),
		fmt.Sprintf("%.2f", perMillion(r.agentCPU, r.samples)),
		fmt.Sprintf("%.2f", perMillion(r.rxCPU(), r.samples)),
		fmt.Sprintf("%.0f", float64(r.rxRSS())/1e6),
		fmt.Sprintf("%.0f (%.0f)", r.refusedTotal(), r.refusedInWindow),
		fmt.Sprintf("%.0f / %.0f / %.0f", r.agentDropped, r.unconfirmed, r.retried),
	}
}

// byScale groups results by N, in the order measured.
func byScale(rs []receiverResult) [][]receiverResult {
	var out [][]receiverResult
	for _, r := range rs {
		if len(out) == 0 || out[len(out)-1][0].n != r.n {
			out = append(out, nil)
		}
		out[len(out)-1] = append(out[len(out)-1], r)
	}
	return out
}

// receiversTable is the console table.
func receiversTable(rs []receiverResult) string {
	var b strings.Builder
	for _, group := range byScale(rs) {
		fmt.Fprintf(&b, "\nN = %d pods (%d created)\n", group[0].n, group[0].pods)
		rows := [][]string{receiverColumns}
		for _, r := range group {
			rows = append(rows, r.cells())
		}
		widths := make([]int, len(receiverColumns))
		for _, row := range rows {
			for i, c := range row {
				widths[i] = max(widths[i], len(c))
			}
		}
		for _, row := range rows {
			for i, c := range row {
				if i == 0 {
					fmt.Fprintf(&b, "%-*s", widths[i], c)
				} else {
					fmt.Fprintf(&b, "  %*s", widths[i], c)
				}
			}
			b.WriteString("\n")
		}
	}
	return strings.TrimRight(b.String(), " ")
}

// receiversCommand is the command line that makes the report.
func receiversCommand(o options) string {
	parts := []string{"go run ./bench -receivers"}
	ns := make([]string, len(o.scales))
	for i, n := range o.scales {
		ns[i] = fmt.Sprint(n)
	}
	parts = append(parts, "-n "+strings.Join(ns, ","))
	if o.nodes != 50 {
		parts = append(parts, fmt.Sprintf("-nodes %d", o.nodes))
	}
	if o.window != time.Minute {
		parts = append(parts, "-window "+o.window.String())
	}
	if !slices.Equal(o.receiverNames, allReceivers) {
		parts = append(parts, "-receiver-names "+strings.Join(o.receiverNames, ","))
	}
	if o.out != receiversReport {
		parts = append(parts, "-out "+o.out)
	}
	return strings.Join(parts, " ")
}

type receiversDoc struct {
	machine string
	started time.Time
	opts    options
	results []receiverResult
	failure error // the run stopped early, if not nil
}

func (d receiversDoc) markdown() string {
	var b strings.Builder
	b.WriteString("# Benchmarks: what each receiver costs per sample\n\n")
	fmt.Fprintf(&b, "Written by `make bench-receivers` (`%s`); rerun it to refresh. kube-state-push pushes the\n", receiversCommand(d.opts))
	b.WriteString("workload of [benchmarks.md](benchmarks.md) (same local cluster, same objects) to each remote-storage receiver\n")
	b.WriteString("of `hack/receivers.sh` in turn: each started fresh, as a single process (Thanos: receive and a query;\n")
	b.WriteString("the Collector: the Collector and the Prometheus 3 it exports to) on 127.0.0.1 with the script's settings.\n")
	b.WriteString("Figures drift between runs and machines; compare the receivers of one run.\n\n")
	fmt.Fprintf(&b, "- run: %s, %s\n", d.started.UTC().Format("2006-01-02 15:04 MST"), d.machine)
	fmt.Fprintf(&b, "- command: `%s`\n", receiversCommand(d.opts))
	fmt.Fprintf(&b, "- versions: Kubernetes %s, %s; the receivers' executables: %s\n", k8sVersion, runtime.Version(), strings.Join(d.binaries(), ", "))
	b.WriteString("- kube-state-push: default resources, resend every 30 s, `protobuf_message: io.prometheus.write.v2.Request`\n")
	b.WriteString("  for every receiver; it falls back to Remote-Write 1.0 by itself where a receiver does not take 2.0, and\n")
	b.WriteString("  \"protocol used\" is what its `kube_state_push_remote_write_protobuf_message` said at the end of the window\n")
	fmt.Fprintf(&b, "- window: %s, starting %s after `/readyz`, with churn: one pod created or deleted every\n", d.opts.window, settle)
	b.WriteString("  500 ms (deployments scaled by one), with kwok's status changes; the resends go on meanwhile\n\n")

	b.WriteString("What the figures mean. *Samples sent* and *MB sent* are the window's increase of\n")
	b.WriteString("`kube_state_push_remote_write_samples_sent_total` and `..._bytes_sent_total`: samples the receiver accepted\n")
	b.WriteString("(2xx) and the request bodies that carried them as they went on the wire, after snappy, so *bytes per\n")
	b.WriteString("sample* is the network cost of one sample to that receiver in the protocol used. *Agent CPU-s per M samples*\n")
	b.WriteString("is kube-state-push's CPU time (utime + stime from /proc) in the window per million samples sent: the cost of\n")
	b.WriteString("watching, encoding and sending them. *Receiver CPU-s per M samples* is the same for the receiver's processes\n")
	b.WriteString("(their pid files), the cost of decoding and ingesting them, to compare between receivers; *receiver RSS* is\n")
	b.WriteString("their VmRSS summed, averaged over the window. *Refused by the receiver* sums the receiver's own counters of\n")
	b.WriteString("samples it refused since it started (listed below), and in parentheses those of the window; *agent: dropped /\n")
	b.WriteString("unconfirmed / retried requests* are kube-state-push's `kube_state_push_remote_write_samples_dropped_total`,\n")
	b.WriteString("`..._samples_unconfirmed_total` (2.0 samples answered 2xx that the receiver did not count as written) and\n")
	b.WriteString("`..._requests_total{result=\"retried\"}` (5xx, 429: sent again, not lost), since it started: a receiver's\n")
	b.WriteString("refusal that the agent retried until it was taken lost nothing. *Series in the receiver* counts the\n")
	b.WriteString("`kube_*` series of the run that the receiver's query API returns after the window (\"-\": the query failed).\n")
	b.WriteString("How much the receiver's logs grew in the window (at the script's log levels) is given below the table: logging\n")
	b.WriteString("is part of the receiver's CPU.\n")

	for _, group := range byScale(d.results) {
		fmt.Fprintf(&b, "\n## N = %d pods (%d created, %d kwok nodes)\n\n", group[0].n, group[0].pods, d.opts.nodes)
		b.WriteString("| " + strings.Join(receiverColumns, " | ") + " |\n")
		b.WriteString("|---" + strings.Repeat("|---:", len(receiverColumns)-1) + "|\n")
		for _, r := range group {
			cells := r.cells()
			for i, c := range cells {
				cells[i] = strings.ReplaceAll(c, "|", `\|`)
			}
			b.WriteString("| " + strings.Join(cells, " | ") + " |\n")
		}
		b.WriteString("\nEach receiver's processes (CPU-s per M samples, mean RSS), its refusal counters, and kube-state-push's\n")
		b.WriteString("time from start to `/readyz` and mean RSS:\n\n")
		for _, r := range group {
			if r.failure != "" {
				continue
			}
			var ps []string
			for _, p := range r.procs {
				ps = append(ps, fmt.Sprintf("%s %.2f, %.0f MB", p.name, perMillion(p.cpu, r.samples), float64(p.rss)/1e6))
			}
			fmt.Fprintf(&b, "- %s: %s; its logs grew %.1f MB in the window; %s; kube-state-push: start to synced %.1f s, RSS %.0f MB;"+
				" window %.0f s; `hack/receivers.sh` says it takes %s\n",
				r.name, strings.Join(ps, "; "), float64(r.logBytes)/1e6, r.counterNote(), r.syncTime.Seconds(), float64(r.agentRSS)/1e6,
				r.elapsed.Seconds(), r.advertised)
		}
		if lo, hi, proto, n := agentCPUSpread(group); n >= 2 {
			fmt.Fprintf(&b, "\nkube-state-push does the same work for every receiver that takes the same protocol: the spread of its CPU-s\n"+
				"per M samples among the %d that took %s (%s) is how much the machine's noise moves a CPU figure in this run.\n",
				n, proto, spreadText(lo, hi))
		}
		for _, r := range group {
			if r.failure != "" || len(r.agentWarnings) == 0 {
				continue
			}
			fmt.Fprintf(&b, "\nkube-state-push's first warnings with %s:\n\n```\n%s\n```\n", r.name, strings.Join(r.agentWarnings, "\n"))
		}
		for _, r := range group {
			if r.failure == "" {
				continue
			}
			first, rest, _ := strings.Cut(strings.TrimSpace(r.failure), "\n")
			fmt.Fprintf(&b, "\n**%s failed**: %s\n", r.name, first)
			if lines := append(strings.Split(rest, "\n"), r.logLines...); rest != "" || len(r.logLines) > 0 {
				if rest == "" {
					lines = lines[1:]
				}
				b.WriteString("\n```\n" + strings.Join(lines, "\n") + "\n```\n")
			}
		}
	}
	if d.failure != nil {
		fmt.Fprintf(&b, "\nThe run stopped early: %v\n", d.failure)
	}
	return b.String()
}

// counterNote says which refusal counters were read and what they held.
func (r receiverResult) counterNote() string {
	names := refusalCounters[r.name]
	if len(names) == 0 {
		return "no refusal counters known"
	}
	var parts []string
	for _, name := range names {
		if !slices.Contains(r.exported, name) {
			parts = append(parts, "`"+name+"` not exported (counted nothing)")
			continue
		}
		var nz []string
		for _, x := range r.refused {
			if strings.HasPrefix(x.series, name+"{") || x.series == name {
				nz = append(nz, fmt.Sprintf("`%s` %.0f", x.series, x.value))
			}
		}
		if len(nz) == 0 {
			parts = append(parts, "`"+name+"` 0")
		} else {
			parts = append(parts, strings.Join(nz, ", "))
		}
	}
	return strings.Join(parts, ", ")
}

// binaries lists the receivers' executables, each once, in order.
func (d receiversDoc) binaries() []string {
	var out []string
	for _, r := range d.results {
		for _, bin := range r.binaries {
			if !slices.Contains(out, bin) {
				out = append(out, bin)
			}
		}
	}
	if len(out) == 0 {
		return []string{"none started"}
	}
	return out
}

// agentCPUSpread returns the lowest and highest agent CPU-s per M samples
// among the measured receivers of the protocol most of them used (the 2.0
// one on a tie), if at least two used it, and how many did.
func agentCPUSpread(rs []receiverResult) (lo, hi float64, proto string, count int) {
	byMsg := map[string][]float64{}
	var order []receiverResult
	for _, r := range rs {
		if r.failure == "" && r.samples > 0 {
			if _, ok := byMsg[r.message]; !ok {
				order = append(order, r)
			}
			byMsg[r.message] = append(byMsg[r.message], perMillion(r.agentCPU, r.samples))
		}
	}
	var best []receiverResult
	for _, r := range order {
		n := len(byMsg[r.message])
		if len(best) == 0 || n > len(byMsg[best[0].message]) || n == len(byMsg[best[0].message]) && r.message == "io.prometheus.write.v2.Request" {
			best = []receiverResult{r}
		}
	}
	if len(best) == 0 || len(byMsg[best[0].message]) < 2 {
		return 0, 0, "", 0
	}
	vs := byMsg[best[0].message]
	return slices.Min(vs), slices.Max(vs), strings.TrimSuffix(best[0].protocolUsed(), " (fell back from 2.0)"), len(vs)
}

func spreadText(lo, hi float64) string {
	return fmt.Sprintf("%.2f to %.2f, %.0f%% apart", lo, hi, (hi/lo-1)*100)
}
