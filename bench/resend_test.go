package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlagsResend(t *testing.T) {
	o, err := parseFlags([]string{"-resend"})
	if err != nil || !o.resend || !slices.Equal(o.scales, []int{10000}) || !slices.Equal(o.resendIntervals, defaultResendIntervals) {
		t.Fatalf("parseFlags(-resend) = %+v, %v", o, err)
	}
	o, err = parseFlags([]string{"-resend", "-n", "1000", "-resend-intervals", "30s, 2m"})
	if err != nil || o.scales[0] != 1000 || !slices.Equal(o.resendIntervals, []time.Duration{30 * time.Second, 2 * time.Minute}) {
		t.Fatalf("parseFlags = %+v, %v", o, err)
	}
	for _, bad := range [][]string{
		{"-resend", "-resend-intervals", "2"}, {"-resend", "-resend-intervals", "500ms"}, {"-resend", "-resend-intervals", "30s,"},
		{"-resend", "-sharding"}, {"-resend", "-crs"}, {"-resend", "-ksp-only"}, {"-resend", "-scrape"}, {"-resend", "-receivers"},
	} {
		if _, err := parseFlags(bad); err == nil {
			t.Errorf("parseFlags(%q) accepted", bad)
		}
	}
}

func TestResendWindowHoldsARound(t *testing.T) {
	for every, want := range map[time.Duration]time.Duration{
		10 * time.Second: time.Minute, 30 * time.Second: time.Minute, 2 * time.Minute: 2 * time.Minute, 4 * time.Minute: 4 * time.Minute,
	} {
		if got := resendWindow(every, time.Minute); got != want {
			t.Errorf("resendWindow(%s) = %s, want %s", every, got, want)
		}
	}
}

func TestResendReport(t *testing.T) {
	r := resendResult{n: 1000, pods: 992, receiver: "prometheus", ksmSamplesMin: 120000, ksmBytesMin: 4.8e6, ksmCPUMin: 1.4, ksmWindow: time.Minute}
	for i, every := range []time.Duration{30 * time.Second, 2 * time.Minute} {
		r.runs = append(r.runs, resendRun{interval: every, window: resendWindow(every, time.Minute), side: sideResult{
			steadySamplesMin: 120000 / float64(4*i+1), churnSamplesMin: 125000 / float64(4*i+1), steadyBytesMin: 1.6e6 / float64(4*i+1),
			latencies: []time.Duration{100 * time.Millisecond, 300 * time.Millisecond},
		}})
	}
	o := options{scales: []int{1000}, resendIntervals: []time.Duration{30 * time.Second, 2 * time.Minute}, window: time.Minute}
	md := resendMarkdown(o, []resendResult{r})
	for _, want := range []string{
		resendMarks.begin, resendMarks.end, "-resend-intervals 30s,2m0s",
		"| KSM + agent, scrape 30s | 1m0s | 120000 | 1 |",
		"| kube-state-push, resend 2m0s | 2m0s | 24000 | 0.2 | 25000 | 0.208 | 0.32 | 0.0667 |",
		"| 0.10 | 0.30 |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
	// Its section is kept when the main report is written again.
	doc := resendMarks.replace(scrapeMarks.replace("# Report\n", scrapeMarks.begin+"\ns\n"+scrapeMarks.end+"\n"), md)
	if got := scrapeMarks.replace(doc, scrapeMarks.begin+"\nS\n"+scrapeMarks.end+"\n"); !strings.Contains(got, md) {
		t.Errorf("the resend section did not stay:\n%s", got)
	}
}
