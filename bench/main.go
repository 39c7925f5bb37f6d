// Command bench measures kube-state-push side by side with the pipeline it
// replaces, kube-state-metrics scraped by a Prometheus agent that
// remote-writes, on the local real cluster (hack/cluster.sh) and the same
// receiver, one after the other, at each scale given. It prints a table of
// both sides and their ratios and writes it to docs/benchmarks.md.
//
//	go run ./bench -n 1000,10000
//
// With -scrape it measures instead one /metrics scrape of kube-state-push's
// --metrics-address against one of kube-state-metrics', on the same objects,
// and writes that section of docs/benchmarks.md.
//
//	go run ./bench -scrape -n 10000
//
// At 20,000 pods and more both sides write to the sink, a receiver in a
// process of its own that decodes and checks every request and stores no
// series (sink.go); below, to the cluster's Prometheus, which the probes
// query. -receiver chooses one for every size.
//
//	go run ./bench -n 50000 -receiver sink
//
// With -crs it measures instead kube-state-push's custom resources against
// kube-state-metrics' with the same CustomResourceStateMetrics config on the
// same N custom objects (customresource/testdata/bench): time, CPU and peak
// RSS until every object's series are served, RSS once settled; it writes
// that section of docs/benchmarks.md.
//
//	go run ./bench -crs -n 10000
//
// With -sharding it measures instead three shards of kube-state-push that
// filter their objects client-side against three with --server-side-sharding
// (and one unsharded agent), with the apiserver's CPU, and writes that section
// of docs/benchmarks.md.
//
//	go run ./bench -sharding -n 10000
//
// With -resend it measures instead kube-state-push at each resend interval of
// -resend-intervals (samples and bytes per minute, CPU, RSS, change to
// queryable) against kube-state-metrics scraped every 30 s, and writes that
// section of docs/benchmarks.md.
//
//	go run ./bench -resend -n 10000
//
// With -receivers it measures instead what each remote-storage receiver of
// hack/receivers.sh costs per sample, kube-state-push pushing to one after
// the other, and writes docs/benchmarks-receivers.md.
//
//	go run ./bench -receivers -n 1000
//
// Every process it starts it stops, the cluster included.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	scales   []int
	nodes    int
	window   time.Duration // each steady and churn measurement
	changes  int           // latency probes per side
	out      string        // markdown report
	stateDir string        // cluster state, binaries, profiles
	keep     bool          // keep the cluster's state dir
	kspOnly  bool          // measure kube-state-push only, write no report
	hold     bool          // start the cluster and the workload, then wait
	profiles string        // where kube-state-push's profiles are saved
	root     string        // repository root

	scrape          bool // measure one /metrics scrape of each side instead
	crs             bool // measure custom resources (customresource/testdata/bench) instead
	sharding        bool // measure client-side against server-side sharding instead
	resend          bool // measure kube-state-push at each of resendIntervals instead
	resendIntervals []time.Duration
	receivers       bool     // measure per receiver (hack/receivers.sh) instead
	receiverNames   []string // which, in order

	receiver    string // where both sides write: receiverAuto, receiverPrometheus or receiverSink
	serveSink   string // run only the sink on this address
	fromRecords bool   // only write -out and its plot from the records beside it
}

// allReceivers are the receivers of hack/receivers.sh that -receivers
// measures by default, in order. Its prometheus2 (Prometheus 2.42, 1.0 only)
// is left out, and can be named with -receiver-names.
var allReceivers = []string{"mimir", "cortex", "thanos", "victoria-metrics", "otelcol"}

// receiversReport is where -receivers writes unless -out is given.
const receiversReport = "docs/benchmarks-receivers.md"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		var ue usageError
		if errors.As(err, &ue) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

type usageError struct{ error }

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var o options
	scales := fs.String("n", "1000,10000", "comma-separated numbers of pods to measure at, in increasing order (-receivers: 1000; -crs: custom objects, 10000)")
	fs.IntVar(&o.nodes, "nodes", 50, "kwok nodes (-crs: 1)")
	fs.DurationVar(&o.window, "window", time.Minute, "length of each steady and churn measurement")
	fs.IntVar(&o.changes, "changes", 20, "changes per side whose change-to-queryable latency is measured")
	fs.StringVar(&o.out, "out", "docs/benchmarks.md", "markdown report to write (empty: none)")
	fs.StringVar(&o.stateDir, "state", ".state/bench", "directory for the cluster, logs and profiles")
	fs.StringVar(&o.profiles, "profiles", ".state/bench-profiles", "directory for kube-state-push's CPU and heap profiles (-crs: both sides')")
	fs.BoolVar(&o.keep, "keep", false, "keep the state directory (logs, profiles) after the run")
	fs.BoolVar(&o.hold, "hold", false, "start the cluster and the workload of -n pods, print the cluster's env file, and wait for Ctrl-C (to run and profile an agent by hand; no report is written)")
	fs.BoolVar(&o.kspOnly, "ksp-only", false, "measure kube-state-push alone (to profile a change; no report is written)")
	fs.BoolVar(&o.scrape, "scrape", false, "measure one /metrics scrape of kube-state-push's --metrics-address against kube-state-metrics' (writes its section of -out)")
	fs.BoolVar(&o.crs, "crs", false, "measure custom resources: kube-state-push against kube-state-metrics with the same config on the same objects (writes its section of -out)")
	fs.BoolVar(&o.sharding, "sharding", false, "measure three client-side shards against three with --server-side-sharding, and the apiserver (writes its section of -out)")
	fs.BoolVar(&o.resend, "resend", false, "measure the samples, bytes, CPU, RSS and freshness of kube-state-push at each of -resend-intervals against kube-state-metrics scraped every 30s (writes its section of -out)")
	intervals := fs.String("resend-intervals", "30s,1m,2m,4m", "with -resend: comma-separated --resend-interval values to measure")
	fs.BoolVar(&o.receivers, "receivers", false, "measure what each receiver of hack/receivers.sh costs per sample (writes "+receiversReport+" unless -out is given)")
	names := fs.String("receiver-names", strings.Join(allReceivers, ","), "with -receivers: comma-separated receivers to measure, in order")
	fs.StringVar(&o.receiver, "receiver", receiverAuto, fmt.Sprintf("where both sides write: prometheus, sink, or auto (the sink from %d pods up)", sinkFrom))
	fs.StringVar(&o.serveSink, "serve-sink", "", "run only the sink receiver on this address (the bench starts itself so)")
	fs.BoolVar(&o.fromRecords, "from-records", false, "measure nothing: write -out and its plot from the records beside it (docs/benchmarks.json)")
	if err := fs.Parse(args); err != nil {
		return o, usageError{err}
	}
	if fs.NArg() > 0 {
		return o, usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	if err := checkModes(o); err != nil {
		return o, usageError{err}
	}
	if err := checkReceiver(o.receiver); err != nil {
		return o, usageError{err}
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	modeDefaults(&o, given, scales)
	if o.receivers {
		var err error
		if o.receiverNames, err = parseReceiverNames(*names); err != nil {
			return o, usageError{err}
		}
	}
	var err error
	if o.resend {
		if o.resendIntervals, err = parseIntervals(*intervals); err != nil {
			return o, usageError{err}
		}
	}
	if o.scales, err = parseScales(*scales); err != nil {
		return o, usageError{err}
	}
	switch {
	case o.nodes < 1:
		return o, usageError{fmt.Errorf("-nodes %d: want at least 1", o.nodes)}
	case o.window < 30*time.Second:
		return o, usageError{fmt.Errorf("-window %s: want at least 30s (a scrape interval)", o.window)}
	case o.changes < 1:
		return o, usageError{fmt.Errorf("-changes %d: want at least 1", o.changes)}
	}
	return o, nil
}

// checkModes refuses modes that do not go together: at most one of them.
func checkModes(o options) error {
	var set []string
	for _, m := range []struct {
		name string
		on   bool
	}{{"-scrape", o.scrape}, {"-crs", o.crs}, {"-sharding", o.sharding}, {"-resend", o.resend}, {"-receivers", o.receivers}, {"-ksp-only", o.kspOnly}, {"-hold", o.hold}} {
		if m.on {
			set = append(set, m.name)
		}
	}
	if len(set) > 1 {
		return fmt.Errorf("%s do not go together: one mode at a time", strings.Join(set, " and "))
	}
	return nil
}

// modeDefaults sets what a mode changes of the flags not given: -out, -n
// (scales, before parsing) and -nodes.
func modeDefaults(o *options, given map[string]bool, scales *string) {
	switch {
	case o.kspOnly, o.hold:
		o.out = ""
	case o.receivers && !given["out"]:
		o.out = receiversReport
	}
	switch {
	case o.receivers && !given["n"]:
		*scales = "1000"
	case (o.crs || o.resend) && !given["n"]:
		*scales = "10000"
	}
	if o.crs && !given["nodes"] {
		o.nodes = 1 // no pods
	}
}

// parseReceiverNames parses -receiver-names.
func parseReceiverNames(list string) ([]string, error) {
	var names []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(allReceivers, name) && name != "prometheus2" {
			return nil, fmt.Errorf("-receiver-names: %q is not one of %s, prometheus2", name, strings.Join(allReceivers, ", "))
		}
		if slices.Contains(names, name) {
			return nil, fmt.Errorf("-receiver-names: %q twice", name)
		}
		names = append(names, name)
	}
	return names, nil
}

// parseScales parses -n.
func parseScales(list string) ([]int, error) {
	var scales []int
	prev := 0
	for _, f := range strings.Split(list, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 100 || n <= prev {
			return nil, fmt.Errorf("-n %q: want increasing numbers of pods, each at least 100", list)
		}
		scales, prev = append(scales, n), n
	}
	return scales, nil
}

func run() error {
	o, err := parseFlags(os.Args[1:])
	if err != nil {
		return err
	}
	if o.serveSink != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return serveSink(ctx, o.serveSink)
	}
	if o.root, err = os.Getwd(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(o.root, "hack", "cluster.sh")); err != nil {
		return usageError{errors.New("run from the repository root (hack/cluster.sh not found)")}
	}
	if o.stateDir, err = filepath.Abs(o.stateDir); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if o.fromRecords {
		return (&bench{opts: o, log: log}).writeReport(nil)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	b := &bench{opts: o, log: log}
	defer b.cleanup()
	if err := b.setup(ctx); err != nil {
		return err
	}
	if o.receivers {
		return b.runReceivers(ctx)
	}
	if o.scrape {
		return b.runScrape(ctx)
	}
	if o.crs {
		return b.runCRS(ctx)
	}
	if o.sharding {
		return b.runSharding(ctx)
	}
	if o.resend {
		return b.runResend(ctx)
	}
	if o.hold {
		return b.runHold(ctx)
	}
	var results []scaleResult
	var runErr error
	for _, n := range o.scales {
		r, err := b.measureScale(ctx, n)
		if err != nil {
			runErr = fmt.Errorf("scale N=%d: %w", n, err)
			r.err = runErr
		}
		results = append(results, r)
		if err != nil {
			break
		}
		fmt.Println(recordOf(r, o, "", "").table())
	}
	// What was measured is written even when a scale failed.
	if o.out != "" {
		if err := b.writeReport(results); err != nil {
			return err
		}
	}
	return runErr
}
