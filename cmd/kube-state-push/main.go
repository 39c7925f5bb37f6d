// Command kube-state-push watches Kubernetes objects and pushes the series
// kube-state-metrics would expose for them to a Prometheus remote-write endpoint.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/kube-state-push/kube-state-push/agent"
	"github.com/kube-state-push/kube-state-push/ha"
)

// version and commit are set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "dev"
	commit  = "unknown"
)

// gcPercent is the GC target unless GOGC is set. The agent's live heap is
// small and steady (mostly the snapshot, ~60 bytes per series) and it
// allocates little per sample, so letting the heap grow to 1.5x of it instead
// of 2x costs little CPU (docs/benchmarks.md: ~138 MB steady RSS at 10,000
// pods).
const gcPercent = 50

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	cfg, showVersion, printRBAC, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kube-state-push: %v\n", err)
		return 2
	}
	if showVersion {
		fmt.Fprintln(stderr, "kube-state-push", version, commit)
		return 0
	}
	if printRBAC {
		rbac, err := agent.RBACManifest(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "kube-state-push: %v\n", err)
			return 2
		}
		fmt.Fprint(stdout, rbac)
		return 0
	}
	logger, err := agent.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	if err != nil {
		fmt.Fprintf(stderr, "kube-state-push: %v\n", err)
		return 2
	}
	cfg.Logger = logger
	cfg.Version = version
	agent.SetMemoryLimit(logger, memlimit.FromCgroup)
	// A reload rebuilds the configuration from the same flags and the file.
	cfg.Reload = func() (agent.Config, error) {
		c, _, _, err := parseFlags(args, io.Discard)
		c.Logger, c.Version = logger, version
		return c, err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	cfg.ReloadSignal = hup

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := agent.Run(ctx, cfg); err != nil {
		fmt.Fprintf(stderr, "kube-state-push: %v\n", err)
		if _, ok := errors.AsType[*agent.ConfigError](err); ok {
			return 2
		}
		return 1
	}
	return 0
}

func parseFlags(args []string, out io.Writer) (cfg agent.Config, showVersion, printRBAC bool, err error) {
	fs := flag.NewFlagSet("kube-state-push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var configFile string
	fs.StringVar(&configFile, "config", "", "YAML file with the same options (keys as in kube-state-metrics, else the flag name with underscores); it overrides the flags.")
	fs.StringVar(&cfg.Kubeconfig, "kubeconfig", "", "Path to a kubeconfig file; without it the in-cluster configuration is used.")
	fs.Func("resources", "Comma-separated resources to watch; replaces the default set. May be repeated.", appendList(&cfg.Resources))
	fs.Func("namespaces", "Comma-separated namespaces to watch; default all. May be repeated.", appendList(&cfg.Namespaces))
	fs.Func("namespaces-denylist", "Comma-separated namespaces not to watch. May be repeated.", appendList(&cfg.NamespacesDenylist))
	fs.Func("metric-allowlist", "Comma-separated regexes of metric families to keep; excludes --metric-denylist.", appendList(&cfg.MetricAllowlist))
	fs.Func("metric-denylist", "Comma-separated regexes of metric families to drop; excludes --metric-allowlist.", appendList(&cfg.MetricDenylist))
	fs.Func("metric-opt-in-list", "Comma-separated regexes of opt-in families to enable (kube_pod_nodeselectors, kube_persistentvolume_csi_attributes).", appendList(&cfg.MetricOptInList))
	fs.Func("metric-labels-allowlist", "Kubernetes labels of the *_labels families, per resource: pods=[app,team-*],*=[*].", allowList(&cfg.LabelsAllowlist))
	fs.Func("metric-annotations-allowlist", "Kubernetes annotations of the *_annotations families, per resource: pods=[owner],*=[*].", allowList(&cfg.AnnotationsAllowlist))
	fs.Func("series-labels", "Kubernetes labels copied onto every series of an object as label_<key>, per resource: pods=[team,app.kubernetes.io/name],deployments=[team].", allowList(&cfg.SeriesLabels))
	fs.StringVar(&cfg.CustomResourceStateConfig, "custom-resource-state-config", "", "kube-state-metrics CustomResourceStateMetrics config, inline (YAML); excludes --custom-resource-state-config-file.")
	fs.StringVar(&cfg.CustomResourceStateConfigFile, "custom-resource-state-config-file", "", "File with a kube-state-metrics CustomResourceStateMetrics config: series of custom resources, as KSM's flag.")
	fs.BoolVar(&cfg.CustomResourceStateOnly, "custom-resource-state-only", false, "Watch only the custom resources of the custom resource state config, no built-in resource.")
	fs.BoolVar(&cfg.UseAPIServerCache, "use-apiserver-cache", false, "Serve lists from the apiserver's watch cache (resourceVersion=0) instead of etcd.")
	fs.StringVar(&cfg.RemoteWriteURL, "remote-write-url", "", "Prometheus remote-write endpoint, e.g. https://host/api/v1/push (required).")
	fs.StringVar(&cfg.Job, "job", "kube-state-metrics", "Value of the job label of every pushed series, as a scrape of kube-state-metrics adds it (the kubernetes-mixin selects job=\"kube-state-metrics\"); \"\" for none.")
	fs.StringVar(&cfg.Instance, "instance", "kube-state-push", "Value of the instance label of every pushed series, the same on every replica and shard; \"\" for none.")
	fs.DurationVar(&cfg.RemoteTimeout, "remote-timeout", 30*time.Second, "Timeout of one remote-write request.")
	fs.IntVar(&cfg.MaxSamplesPerSend, "max-samples-per-send", 2000, "Most samples in one remote-write request.")
	fs.DurationVar(&cfg.ResendInterval, "resend-interval", 30*time.Second, "Every live series is sent again this often.")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", 200*time.Millisecond, "Changes are handed to the sender at least this often.")
	fs.DurationVar(&cfg.FlushDeadline, "flush-deadline", 10*time.Second, "On shutdown, how long to keep sending what is pending.")
	fs.IntVar(&cfg.MaxPendingSamples, "max-pending-samples", 100_000, "Most samples waiting in memory between the snapshot and the remote-write queue (or the WAL); when reached, the watches wait.")
	fs.StringVar(&cfg.WALDir, "wal-dir", "", "Directory of the write-ahead log; without it samples not yet sent are kept in memory only.")
	fs.DurationVar(&cfg.WALSyncInterval, "wal-sync-interval", time.Second, "Appends are fsynced per flush, and at least this often.")
	cfg.WALMaxSize = 1 << 30
	fs.Func("wal-max-size", "Cap of the WAL on disk, as a Kubernetes quantity (default 1Gi); at the cap the backlog is compacted, then the oldest dropped.",
		func(v string) error {
			n, err := agent.ParseSize(v)
			cfg.WALMaxSize = n
			return err
		})
	fs.DurationVar(&cfg.WALCompactResolution, "wal-compact-resolution", 4*time.Minute, "Compaction keeps repeated identical values of a series this far apart (under the 5m lookback).")
	fs.StringVar(&cfg.HAMode, "ha-mode", "none", "High availability: none, leader (one replica sends, elected on a Lease) or replica-labels (every replica sends with cluster and __replica__ labels).")
	fs.StringVar(&cfg.HA.LeaseName, "ha-lease-name", "kube-state-push", "Lease the replicas compete for (--ha-mode=leader).")
	fs.StringVar(&cfg.HA.LeaseNamespace, "ha-lease-namespace", envOr("POD_NAMESPACE", "default"), "Namespace of the Lease (default $POD_NAMESPACE, else default).")
	fs.StringVar(&cfg.HA.Identity, "ha-identity", "", "This replica's name in the Lease (default $POD_NAME, else the host name).")
	fs.DurationVar(&cfg.HA.LeaseDuration, "ha-lease-duration", 15*time.Second, "How long a standby waits before taking over a Lease that is not renewed.")
	fs.DurationVar(&cfg.HA.RenewDeadline, "ha-renew-deadline", 10*time.Second, "How long a leader leads after its last successful renewal.")
	fs.DurationVar(&cfg.HA.RetryPeriod, "ha-retry-period", 2*time.Second, "How often the leader renews and a standby tries.")
	fs.StringVar(&cfg.HAReplica.Cluster, "ha-cluster", "", "Value of the cluster label (--ha-mode=replica-labels).")
	fs.StringVar(&cfg.HAReplica.Replica, "ha-replica", "", "Value of the replica label (default $POD_NAME, else the host name).")
	fs.StringVar(&cfg.HAReplica.ClusterLabel, "ha-cluster-label", "cluster", "Name of the cluster label.")
	fs.StringVar(&cfg.HAReplica.ReplicaLabel, "ha-replica-label", "__replica__", "Name of the replica label.")
	fs.IntVar(&cfg.Shard, "shard", 0, "The shard this agent sends, from 0 (objects are split by UID as in kube-state-metrics).")
	fs.IntVar(&cfg.TotalShards, "total-shards", 1, "The number of shards.")
	fs.StringVar(&cfg.Pod, "pod", "", "This agent's pod in a StatefulSet, for automatic sharding: shard = ordinal, total = replicas, following scaling. Excludes --shard and --total-shards.")
	fs.StringVar(&cfg.PodNamespace, "pod-namespace", os.Getenv("POD_NAMESPACE"), "Namespace of --pod (default $POD_NAMESPACE).")
	fs.DurationVar(&cfg.ShardHandoverDelay, "shard-handover-delay", 2*time.Second, "After a reshard, how long to wait before sending the objects gained.")
	fs.BoolVar(&cfg.ServerSideSharding, "server-side-sharding", false, "Split the objects by UID hash range and ask the apiserver for this shard's only (Kubernetes 1.36+, feature gate ShardedListAndWatch); filters here where the apiserver does not. No effect without sharding.")
	fs.StringVar(&cfg.TelemetryAddress, "telemetry-address", ":8081", "Address of /metrics, /healthz and /readyz.")
	fs.StringVar(&cfg.MetricsAddress, "metrics-address", "", "Address to serve /metrics on as kube-state-metrics does (its :8080), from the same series; off when empty.")
	fs.BoolVar(&cfg.EnableGZIPEncoding, "enable-gzip-encoding", false, "Gzip /metrics on --metrics-address for clients that send 'Accept-Encoding: gzip' (as kube-state-metrics' flag).")
	fs.BoolVar(&cfg.EnablePprof, "enable-pprof", false, "Serve Go profiles (net/http/pprof) under /debug/pprof/ on the telemetry address.")
	fs.StringVar(&cfg.LogLevel, "log-level", "info", "Log level: debug, info, warn or error.")
	fs.StringVar(&cfg.LogFormat, "log-format", "text", "Log format: text or json.")
	fs.BoolVar(&showVersion, "version", false, "Print the version and exit.")
	fs.BoolVar(&printRBAC, "print-rbac", false, "Print the RBAC rules (list and watch) the enabled resources need, and exit.")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(out, "Usage: kube-state-push --remote-write-url URL [flags]")
			fs.SetOutput(out)
			fs.PrintDefaults()
		}
		return cfg, false, false, err
	}
	if fs.NArg() > 0 {
		return cfg, false, false, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if cfg.HA.Identity == "" || cfg.HAReplica.Replica == "" {
		id, err := ha.DefaultIdentity(os.Getenv("POD_NAME"))
		if err != nil {
			return cfg, false, false, fmt.Errorf("--ha-identity: %w", err)
		}
		cfg.HA.Identity = cmp.Or(cfg.HA.Identity, id)
		cfg.HAReplica.Replica = cmp.Or(cfg.HAReplica.Replica, os.Getenv("POD_NAME"), id)
	}
	cfg.ConfigFile = configFile
	if configFile != "" {
		if err := agent.LoadFile(configFile, &cfg); err != nil {
			return cfg, false, false, err
		}
	}
	return cfg, showVersion, printRBAC, nil
}

// appendList returns a flag function that appends the comma-separated values.
func appendList(dst *[]string) func(string) error {
	return func(v string) error {
		*dst = append(*dst, agent.SplitList(v)...)
		return nil
	}
}

// allowList returns a flag function that parses KSM's allowlist grammar.
func allowList(dst *map[string][]string) func(string) error {
	return func(v string) error {
		m, err := agent.ParseAllowList(v)
		if err != nil {
			return err
		}
		if *dst == nil {
			*dst = map[string][]string{}
		}
		for k, keys := range m {
			(*dst)[k] = append((*dst)[k], keys...)
		}
		return nil
	}
}

// envOr returns the environment variable's value, or def when it is unset.
func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
