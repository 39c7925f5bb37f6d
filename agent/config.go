package agent

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/customresource"
	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/rwconfig"
)

// Config is everything the agent needs to run.
type Config struct {
	// Kubeconfig is the path of a kubeconfig file; empty means in-cluster.
	Kubeconfig string
	// Resources to watch, by plural name; empty means the default set.
	Resources []string
	// Namespaces to watch; empty means all.
	Namespaces []string
	// NamespacesDenylist are namespaces not to watch.
	NamespacesDenylist []string
	// MetricAllowlist and MetricDenylist are unanchored regexes of family names
	// to keep or drop (mutually exclusive); MetricOptInList enables opt-in families.
	MetricAllowlist, MetricDenylist, MetricOptInList []string
	// LabelsAllowlist and AnnotationsAllowlist select, per resource ("*" for
	// all), the Kubernetes labels and annotations of the *_labels and
	// *_annotations families.
	LabelsAllowlist, AnnotationsAllowlist map[string][]string
	// SeriesLabels selects, in the same grammar, the Kubernetes labels copied
	// onto every series of an object (--series-labels): named as the *_labels
	// families name them, a family's own label of the same name winning.
	SeriesLabels map[string][]string
	// UseAPIServerCache lets lists be served from the apiserver's watch cache
	// (resourceVersion=0) instead of a quorum read from etcd.
	UseAPIServerCache bool

	// CustomResourceStateConfig is a kube-state-metrics
	// CustomResourceStateMetrics config, inline (--custom-resource-state-config);
	// CustomResourceStateConfigFile names a file holding one. At most one.
	CustomResourceStateConfig     string
	CustomResourceStateConfigFile string
	// CustomResourceStateOnly watches the custom resources only, none of the
	// built-in ones (--custom-resource-state-only).
	CustomResourceStateOnly bool
	// customResourceStateSource is where CustomResourceStateConfig came from
	// when the --config file set it: its lines and columns there (crsconfig.go).
	customResourceStateSource *crsSource
	// customResources is the loaded config, set by validate.
	customResources *customresource.Config

	// RemoteWriteURL is the one-flag form of a remote-write endpoint.
	RemoteWriteURL string
	// RemoteWrite is the remote_write and external_labels blocks of --config.
	RemoteWrite rwconfig.Config
	// Job and Instance are the values of the job and instance labels every
	// series is pushed with, as a scrape of kube-state-metrics would add
	// them; "" adds none. External labels win over both.
	Job, Instance     string
	RemoteTimeout     time.Duration
	MaxSamplesPerSend int

	ResendInterval time.Duration
	FlushInterval  time.Duration
	FlushDeadline  time.Duration
	// MaxPendingSamples bounds the samples waiting between the snapshot and
	// the queue (or the WAL): when reached, the watches wait.
	MaxPendingSamples int

	// WALDir is the write-ahead log's directory; empty keeps pending samples
	// in memory only.
	WALDir string
	// WALSyncInterval bounds how long an append may stay unsynced.
	WALSyncInterval time.Duration
	// WALMaxSize caps the WAL's bytes on disk; at the cap the backlog is
	// compacted, then the oldest dropped.
	WALMaxSize int64
	// WALCompactResolution is how far apart compaction keeps repeated
	// identical values of a series.
	WALCompactResolution time.Duration

	// HAMode is "", "none", "leader" or "replica-labels".
	HAMode string
	// HA configures leader election (--ha-mode=leader).
	HA ha.Config
	// HAReplica configures the replica labels (--ha-mode=replica-labels).
	HAReplica ha.ReplicaLabelConfig

	// Shard and TotalShards select, as in kube-state-metrics, the objects this
	// agent sends: those whose UID hashes to Shard among TotalShards (at least
	// 1). Pod and PodNamespace instead name this agent's StatefulSet pod, for
	// automatic sharding: the shard is the pod's ordinal and the total the
	// StatefulSet's replicas, followed as it scales. The two are exclusive.
	Shard, TotalShards int
	Pod, PodNamespace  string
	// ShardHandoverDelay is how long after a change of the assignment a shard
	// waits before it sends the objects it gained (see sharding.go).
	ShardHandoverDelay time.Duration
	// ServerSideSharding partitions by hash range and asks the apiserver for
	// this shard's objects only (shardrange.go). Without sharding it does
	// nothing.
	ServerSideSharding bool

	// ConfigFile is the --config file, watched for changes when Reload is set.
	ConfigFile string
	// Reload, when set, builds the configuration anew (flags and file) for a
	// reload on ReloadSignal (SIGHUP) or when ConfigFile changes.
	Reload       func() (Config, error)
	ReloadSignal <-chan os.Signal

	TelemetryAddress string
	// MetricsAddress, when set, serves /metrics as kube-state-metrics does,
	// from the snapshot (metricsserver.go); EnableGZIPEncoding compresses
	// it for clients that accept gzip, as KSM's --enable-gzip-encoding.
	MetricsAddress     string
	EnableGZIPEncoding bool
	// EnablePprof serves net/http/pprof under /debug/pprof/ on the telemetry address.
	EnablePprof bool
	LogLevel    string
	LogFormat   string
	// Version is reported in the User-Agent header.
	Version string
	Logger  *slog.Logger
}

// ConfigError is an invalid configuration: the process should exit with status 2.
type ConfigError struct{ Err error }

func (e *ConfigError) Error() string { return e.Err.Error() }
func (e *ConfigError) Unwrap() error { return e.Err }

func configErrorf(format string, args ...any) error {
	return &ConfigError{Err: fmt.Errorf(format, args...)}
}

// validate checks c and returns the resources it names. The checks run in
// the order of the data path, and the first that fails is the error.
func (c *Config) validate() ([]collectors.Resource, error) {
	resources, err := c.builtinResources()
	if err != nil {
		return nil, err
	}
	for _, check := range []func() error{
		c.loadCustomResources, c.validateRemoteWriteURL, c.validateIntervals, c.validateSharding, c.validateHA, c.validateOutput, c.validateNamespaces,
	} {
		if err := check(); err != nil {
			return nil, err
		}
	}
	c.Namespaces = slices.Compact(slices.Sorted(slices.Values(c.Namespaces)))
	return resources, nil
}

// builtinResources returns the built-in resources to watch: --resources, the
// default set without it, none with --custom-resource-state-only.
func (c *Config) builtinResources() ([]collectors.Resource, error) {
	if c.CustomResourceStateOnly {
		if len(c.Resources) > 0 {
			return nil, configErrorf("--custom-resource-state-only watches no built-in resource: it excludes --resources")
		}
		return nil, nil
	}
	names := c.Resources
	if len(names) == 0 {
		names = collectors.DefaultNames()
	}
	resources, err := collectors.Lookup(names)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("--resources: %w", err)}
	}
	return resources, nil
}

// validateRemoteWriteURL checks that there is somewhere to send to, and that
// --remote-write-url is an http(s) URL.
func (c *Config) validateRemoteWriteURL() error {
	if c.RemoteWriteURL == "" && len(c.RemoteWrite.RemoteWrite) == 0 {
		return configErrorf("--remote-write-url is required (or remote_write in --config)")
	}
	if c.RemoteWriteURL != "" {
		u, err := url.Parse(c.RemoteWriteURL)
		if err != nil {
			return configErrorf("--remote-write-url: %w", errors.Unwrap(err))
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return configErrorf("--remote-write-url %q: want an http:// or https:// URL with a host", u.Redacted())
		}
	}
	return nil
}

// validateIntervals checks the durations and sizes of the send path and,
// with --wal-dir, of the WAL.
func (c *Config) validateIntervals() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{
		{"--resend-interval", c.ResendInterval},
		{"--flush-interval", c.FlushInterval},
		{"--flush-deadline", c.FlushDeadline},
		{"--remote-timeout", c.RemoteTimeout},
	} {
		if d.v <= 0 {
			return configErrorf("%s must be positive, got %s", d.name, d.v)
		}
	}
	if c.MaxPendingSamples <= 0 {
		return configErrorf("--max-pending-samples must be positive, got %d", c.MaxPendingSamples)
	}
	if c.WALDir == "" {
		return nil
	}
	if c.WALSyncInterval <= 0 {
		return configErrorf("--wal-sync-interval must be positive, got %s", c.WALSyncInterval)
	}
	if c.WALCompactResolution <= 0 {
		return configErrorf("--wal-compact-resolution must be positive, got %s", c.WALCompactResolution)
	}
	if c.WALMaxSize < 0 {
		return configErrorf("--wal-max-size must not be negative")
	}
	return nil
}

// validateHA checks --ha-mode against sharding, and the settings of the mode.
func (c *Config) validateHA() error {
	if err := ha.ValidateMode(c.haMode(), c.sharded()); err != nil {
		return &ConfigError{Err: fmt.Errorf("--ha-mode: %w", err)}
	}
	if c.haMode() == ha.ModeLeader {
		if err := c.HA.Validate(); err != nil {
			return &ConfigError{Err: fmt.Errorf("--ha-mode=leader: %w", err)}
		}
	}
	if c.haMode() == ha.ModeReplicaLabels {
		if _, err := ha.ReplicaLabels(c.HAReplica); err != nil {
			return &ConfigError{Err: fmt.Errorf("--ha-mode=replica-labels: %w", err)}
		}
	}
	return nil
}

// validateOutput checks what the series are sent or served with: the job
// and instance labels, --metrics-address and the request size.
func (c *Config) validateOutput() error {
	for _, l := range []struct{ flag, v string }{{"--job", c.Job}, {"--instance", c.Instance}} {
		if !utf8.ValidString(l.v) {
			return configErrorf("%s: the value is not valid UTF-8", l.flag)
		}
	}
	if err := validateAddress("--metrics-address", c.MetricsAddress); err != nil {
		return err
	}
	if c.MaxSamplesPerSend <= 0 {
		return configErrorf("--max-samples-per-send must be positive, got %d", c.MaxSamplesPerSend)
	}
	return nil
}

// validateNamespaces refuses an empty namespace name in either list.
func (c *Config) validateNamespaces() error {
	for _, ns := range append(slices.Clone(c.Namespaces), c.NamespacesDenylist...) {
		if ns == "" {
			return configErrorf("--namespaces: empty namespace name")
		}
	}
	return nil
}

func (c *Config) validateSharding() error {
	switch {
	case c.TotalShards < 1:
		return configErrorf("--total-shards must be at least 1, got %d", c.TotalShards)
	case c.Shard < 0 || c.Shard >= c.TotalShards:
		return configErrorf("--shard must be between 0 and --total-shards-1 (%d), got %d", c.TotalShards-1, c.Shard)
	case c.Pod != "" && (c.Shard != 0 || c.TotalShards != 1):
		return configErrorf("--pod (automatic sharding from the StatefulSet) cannot be combined with --shard or --total-shards")
	case c.Pod != "" && c.PodNamespace == "":
		return configErrorf("--pod needs --pod-namespace")
	case c.ShardHandoverDelay < 0:
		return configErrorf("--shard-handover-delay must not be negative, got %s", c.ShardHandoverDelay)
	}
	return nil
}

// sharded reports whether the agent sends only a share of the objects.
func (c *Config) sharded() bool { return c.TotalShards > 1 || c.Pod != "" }

func (c *Config) haMode() string {
	if c.HAMode == "" {
		return "none"
	}
	return c.HAMode
}
