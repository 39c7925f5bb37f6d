// Command ksm-parity compares the series kube-state-metrics exposes with what a
// Prometheus holds now, for the same resources, and prints the parity and the
// differences by family. With --metrics-url it compares instead KSM's /metrics
// with kube-state-push's (--metrics-address), byte for byte per line, family
// block by family block. It exits 0 only at full parity, 1 when series differ
// and 2 on bad flags or when an endpoint cannot be reached.
//
//	ksm-parity --ksm-url http://127.0.0.1:8080/metrics --prometheus-url http://127.0.0.1:9090
//	ksm-parity --ksm-url http://127.0.0.1:8080/metrics --metrics-url http://127.0.0.1:8082/metrics
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("ksm-parity", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o parity.Options
	var examples int
	o.IgnoreLabels = []string{"job", "instance"}
	fs.StringVar(&o.KSMURL, "ksm-url", "http://127.0.0.1:8080/metrics", "kube-state-metrics /metrics URL.")
	fs.StringVar(&o.PrometheusURL, "prometheus-url", "http://127.0.0.1:9090", "Base URL of Prometheus's HTTP API.")
	fs.DurationVar(&o.Tolerance, "tolerance", 2*time.Second, "Largest difference allowed in time-valued families (Unix seconds).")
	fs.IntVar(&examples, "examples", 3, "Example series printed per family and kind of difference.")
	fs.IntVar(&o.Tries, "tries", 5, "Most comparisons before a difference is reported.")
	fs.DurationVar(&o.Interval, "interval", 2*time.Second, "Pause between two tries.")
	fs.Func("ignore-labels", "Comma-separated labels dropped from Prometheus's series before comparing: what a scrape or a push adds (default job,instance; \"\" for none).", func(v string) error {
		o.IgnoreLabels = splitComma(v)
		return nil
	})
	fs.DurationVar(&o.Lookback, "lookback", 0, "Override of Prometheus's lookback delta (0: the server's).")
	var metricsURL string
	var openMetrics bool
	fs.StringVar(&metricsURL, "metrics-url", "", "kube-state-push's /metrics (--metrics-address): compare it with KSM's text byte for byte instead of querying Prometheus.")
	fs.BoolVar(&openMetrics, "openmetrics", false, "With --metrics-url, ask both for OpenMetrics instead of text 0.0.4.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "ksm-parity: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if examples < 0 || o.Tries < 1 || o.Tolerance < 0 {
		fmt.Fprintln(stderr, "ksm-parity: --examples and --tolerance must not be negative, --tries must be at least 1")
		return 2
	}
	if metricsURL != "" {
		to := parity.TextOptions{KSMURL: o.KSMURL, MetricsURL: metricsURL, Tries: o.Tries, Interval: o.Interval}
		if openMetrics {
			to.Accept = "application/openmetrics-text;version=1.0.0"
		}
		return runText(ctx, to, examples, stdout, stderr)
	}
	r, err := parity.Run(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "ksm-parity: %v\n", err)
		return 2
	}
	if err := r.Write(stdout, examples); err != nil {
		fmt.Fprintf(stderr, "ksm-parity: %v\n", err)
		return 2
	}
	if !r.OK() {
		return 1
	}
	return 0
}

// splitComma returns the non-empty, trimmed elements of a comma-separated list.
func splitComma(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// runText runs the text mode: KSM's /metrics against kube-state-push's.
func runText(ctx context.Context, o parity.TextOptions, examples int, stdout, stderr io.Writer) int {
	r, err := parity.RunText(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "ksm-parity: %v\n", err)
		return 2
	}
	if err := r.Write(stdout, examples); err != nil {
		fmt.Fprintf(stderr, "ksm-parity: %v\n", err)
		return 2
	}
	if !r.OK() {
		return 1
	}
	return 0
}
