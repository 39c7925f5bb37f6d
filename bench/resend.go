package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The -resend mode: what a longer --resend-interval saves in samples and
// bytes ingested, at each interval of -resend-intervals, against
// kube-state-metrics scraped every 30 s by the Prometheus agent, on the same
// objects and the same receiver. kube-state-push runs once per interval with
// its default resources and Remote-Write 2.0, through the whole sequence of
// a side (sync, steady, churn, change probes); each of its windows lasts
// one interval, and at least -window: rounds start one interval apart and
// each spreads its sends evenly over half of it, so that any window of one
// interval holds one round's worth of sends. kube-state-metrics + agent is measured in one steady window of
// eight scrapes or more.

// defaultResendIntervals are the intervals -resend measures unless
// -resend-intervals is given.
var defaultResendIntervals = []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}

// resendRun is what kube-state-push measured at one interval.
type resendRun struct {
	interval time.Duration
	window   time.Duration
	side     sideResult
}

// resendResult is one scale of -resend.
type resendResult struct {
	n, pods                    int
	ksmSamplesMin, ksmBytesMin float64 // kube-state-metrics + agent, steady
	ksmCPUMin                  float64
	ksmWindow                  time.Duration
	runs                       []resendRun
	receiver                   string
}

// parseIntervals parses -resend-intervals.
func parseIntervals(list string) ([]time.Duration, error) {
	var ds []time.Duration
	for _, f := range strings.Split(list, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil || d < time.Second {
			return nil, fmt.Errorf("-resend-intervals %q: want durations of at least 1s, such as 30s,2m", list)
		}
		ds = append(ds, d)
	}
	return ds, nil
}

// resendWindow is the length of each window at interval: one interval, and
// at least least.
func resendWindow(interval, least time.Duration) time.Duration {
	return max(interval, least)
}

func (b *bench) runResend(ctx context.Context) error {
	var results []resendResult
	minWindow := b.opts.window
	defer func() { b.opts.window = minWindow }()
	for _, n := range b.opts.scales {
		p, err := b.prepareScale(ctx, n)
		if err != nil {
			return err
		}
		if b.rx, err = b.receiverFor(ctx, n); err != nil {
			return err
		}
		r := resendResult{n: n, pods: p.pods(), receiver: b.rx.kind()}
		tag := fmt.Sprint(n)
		for _, every := range b.opts.resendIntervals {
			b.opts.window = resendWindow(every, minWindow)
			// The same bench label at every interval: the runs share the
			// receiver's series instead of adding theirs.
			s := b.kspSide(tag, "ksp", "io.prometheus.write.v2.Request", b.rx.writeURL("ksp-"+tag), "--resend-interval", every.String())
			s.name = "ksp-resend-" + every.String() + "-" + tag
			sr, err := b.measureSide(ctx, s, 0)
			if err != nil {
				return fmt.Errorf("scale N=%d, kube-state-push --resend-interval %s: %w", n, every, err)
			}
			if len(sr.failed) > 0 {
				return fmt.Errorf("scale N=%d, --resend-interval %s: probes failed: %s", n, every, strings.Join(sr.failed, "; "))
			}
			r.runs = append(r.runs, resendRun{interval: every, window: b.opts.window, side: sr})
		}
		// Eight scrapes at least: the agent's sends lag its scrapes, which
		// a one-minute window would count short or long.
		b.opts.window = max(8*scrapeInterval, minWindow)
		ksm := b.ksmSide(tag, b.rx.writeURL("ksm-"+tag))
		st, err := b.measureSteady(ctx, ksm, r.runs[0].side.series)
		if err != nil {
			return fmt.Errorf("scale N=%d, kube-state-metrics + agent: %w", n, err)
		}
		r.ksmSamplesMin, r.ksmBytesMin, r.ksmCPUMin, r.ksmWindow = st.samplesMin, st.bytesMin, st.cpuMin, b.opts.window
		results = append(results, r)
		fmt.Println(resendTable(r))
	}
	b.opts.window = minWindow
	if b.opts.out == "" {
		return nil
	}
	return resendMarks.write(b.opts.out, resendMarkdown(b.opts, results))
}

// measureSteady starts s, waits until it has synced (want series, as
// startSide), lets it settle and measures one steady window.
func (b *bench) measureSteady(ctx context.Context, s *side, want float64) (windowResult, error) {
	b.rx.adopt(s)
	defer b.rx.forget(s)
	g, _, _, err := b.startSide(ctx, s, want)
	defer b.stopSide()
	if err != nil {
		return windowResult{}, err
	}
	sleep(ctx, settle)
	st, err := b.window(ctx, g, s, nil, "")
	if err != nil {
		return st, err
	}
	if st.samples <= 0 {
		return st, errors.New("no samples sent in the steady window")
	}
	b.log.Info("Steady", "side", s.name, "samplesPerMin", int(st.samplesMin), "bytesPerMin", mb(int64(st.bytesMin)), "cpuPerMin", fmt.Sprintf("%.2fs", st.cpuMin))
	return st, nil
}

func resendRows(r resendResult) [][]string {
	f1 := func(v float64) string { return fmt.Sprintf("%.1f", v) }
	f2 := func(v float64) string { return fmt.Sprintf("%.2f", v) }
	rows := [][]string{{"sender", "window", "samples/min, steady", "of KSM's", "samples/min, churn", "of KSM's",
		"MB/min, steady", "of KSM's", "MB/min, churn", "CPU-s/min, steady", "churn", "RSS, MB", "change → queryable, median s", "p99 s"}}
	rows = append(rows, []string{"KSM + agent, scrape 30s", r.ksmWindow.String(),
		fmt.Sprintf("%.0f", r.ksmSamplesMin), "1", "-", "-", f2(r.ksmBytesMin / 1e6), "1", "-", f2(r.ksmCPUMin), "-", "-", "-", "-"})
	for _, run := range r.runs {
		s := run.side
		rows = append(rows, []string{"kube-state-push, resend " + run.interval.String(), run.window.String(),
			fmt.Sprintf("%.0f", s.steadySamplesMin), ratio(s.steadySamplesMin, r.ksmSamplesMin),
			fmt.Sprintf("%.0f", s.churnSamplesMin), ratio(s.churnSamplesMin, r.ksmSamplesMin),
			f2(s.steadyBytesMin / 1e6), ratio(s.steadyBytesMin, r.ksmBytesMin), f2(s.churnBytesMin / 1e6),
			f2(s.steadyCPUMin), f2(s.churnCPUMin), f1(float64(s.steadyRSS) / 1e6),
			f2(percentile(s.latencies, 0.5).Seconds()), f2(percentile(s.latencies, 0.99).Seconds())})
	}
	return rows
}

func resendTable(r resendResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\nN = %d pods (%d created): --resend-interval, receiver %s\n", r.n, r.pods, r.receiver)
	for _, row := range resendRows(r) {
		b.WriteString(strings.Join(row, " | ") + "\n")
	}
	return b.String()
}

// resendMarks are the markers of the section -resend writes into the report.
var resendMarks = section{
	begin: "<!-- resend: written by go run ./bench -resend -->",
	end:   "<!-- /resend -->",
}

func resendMarkdown(o options, results []resendResult) string {
	var b strings.Builder
	b.WriteString(resendMarks.begin + "\n## Ingestion cost: `--resend-interval`\n\n")
	ivs := make([]string, len(o.resendIntervals))
	for i, d := range o.resendIntervals {
		ivs[i] = d.String()
	}
	fmt.Fprintf(&b, "Written by `go run ./bench -resend -n %s -resend-intervals %s` (%s, %s).\n",
		joinInts(o.scales), strings.Join(ivs, ","), time.Now().UTC().Format("2006-01-02 15:04 MST"), machineInfo())
	b.WriteString("kube-state-push with its default resources and Remote-Write 2.0, once per resend interval, through a\n")
	fmt.Fprintf(&b, "side's whole sequence: sync, %s settling, a steady window, a churn window (one pod created or deleted\n", settle)
	b.WriteString("every 500 ms), then the change probes (change → queryable in the receiving Prometheus, polled every\n")
	b.WriteString("100 ms). Its windows last one resend interval (rounds start one interval apart, each spread over half\n")
	b.WriteString("of it), ")
	fmt.Fprintf(&b, "and at least %s. KSM + agent: kube-state-metrics scraped every %s by `prometheus --agent`, which\n", o.window, scrapeInterval)
	b.WriteString("remote-writes 1.0, in one steady window of eight scrapes or more. Samples and bytes are what each sender\n")
	b.WriteString("counts; the ratios are to KSM + agent's steady figures.\n")
	for _, r := range results {
		fmt.Fprintf(&b, "\n### N = %d pods (%d created), receiver %s\n\n", r.n, r.pods, r.receiver)
		for j, row := range resendRows(r) {
			b.WriteString("| " + strings.Join(row, " | ") + " |\n")
			if j == 0 {
				b.WriteString("|---" + strings.Repeat("|---:", len(row)-1) + "|\n")
			}
		}
	}
	b.WriteString(resendMarks.end + "\n")
	return b.String()
}
