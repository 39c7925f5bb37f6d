package agent

import (
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kube-state-push/kube-state-push/rwconfig"
)

// LoadFile applies a YAML configuration file to c. Its keys are those of the
// flags, in kube-state-metrics' spelling where KSM has the option (resources,
// namespaces, namespaces_denylist, metric_allowlist, metric_denylist,
// metric_opt_in_list, labels_allow_list, annotations_allow_list,
// use_api_server_cache, enable_gzip_encoding, custom_resource_state_config,
// custom_resource_state_config_file, custom_resource_state_only), and the flag
// name with underscores otherwise. custom_resource_state_config takes the
// CustomResourceStateMetrics config as a mapping (or a string of YAML). As in
// KSM, values in the file override the flags. Errors name the file, line and key.
func LoadFile(path string, c *Config) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return &ConfigError{Err: fmt.Errorf("--config: %w", err)}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return &ConfigError{Err: fmt.Errorf("%s: %w", path, err)}
	}
	if len(doc.Content) == 0 {
		return nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return &ConfigError{Err: fmt.Errorf("%s:%d: want a mapping of option names to values", path, root.Line)}
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if slices.Contains(rwconfig.Keys, k.Value) {
			continue // remote_write and external_labels: Prometheus's format, below
		}
		if line, dup := seen[k.Value]; dup {
			return &ConfigError{Err: fmt.Errorf("%s:%d: %s: also set on line %d", path, k.Line, k.Value, line)}
		}
		seen[k.Value] = k.Line
		if k.Value == "custom_resource_state_config" {
			if err := setInlineCustomResources(c, path, data, k, v); err != nil {
				return &ConfigError{Err: fmt.Errorf("%s:%d: %s: %w", path, v.Line, k.Value, err)}
			}
			continue
		}
		set, ok := fileKeys[k.Value]
		if !ok {
			return &ConfigError{Err: fmt.Errorf("%s:%d: unknown key %q", path, k.Line, k.Value)}
		}
		if err := set(c, v); err != nil {
			return &ConfigError{Err: fmt.Errorf("%s:%d: %s: %w", path, v.Line, k.Value, err)}
		}
	}
	rw, err := rwconfig.Parse(path, &doc)
	if err != nil {
		return &ConfigError{Err: err}
	}
	c.RemoteWrite = rw
	return nil
}

// fileKeys sets each key's value on a Config.
var fileKeys = map[string]func(*Config, *yaml.Node) error{
	"kubeconfig":             str(func(c *Config) *string { return &c.Kubeconfig }),
	"remote_write_url":       str(func(c *Config) *string { return &c.RemoteWriteURL }),
	"job":                    str(func(c *Config) *string { return &c.Job }),
	"instance":               str(func(c *Config) *string { return &c.Instance }),
	"telemetry_address":      str(func(c *Config) *string { return &c.TelemetryAddress }),
	"metrics_address":        str(func(c *Config) *string { return &c.MetricsAddress }),
	"enable_gzip_encoding":   decode(func(c *Config) *bool { return &c.EnableGZIPEncoding }),
	"log_level":              str(func(c *Config) *string { return &c.LogLevel }),
	"log_format":             str(func(c *Config) *string { return &c.LogFormat }),
	"enable_pprof":           decode(func(c *Config) *bool { return &c.EnablePprof }),
	"resources":              list(func(c *Config) *[]string { return &c.Resources }),
	"namespaces":             list(func(c *Config) *[]string { return &c.Namespaces }),
	"namespaces_denylist":    list(func(c *Config) *[]string { return &c.NamespacesDenylist }),
	"metric_allowlist":       list(func(c *Config) *[]string { return &c.MetricAllowlist }),
	"metric_denylist":        list(func(c *Config) *[]string { return &c.MetricDenylist }),
	"metric_opt_in_list":     list(func(c *Config) *[]string { return &c.MetricOptInList }),
	"labels_allow_list":      allowList(func(c *Config) *map[string][]string { return &c.LabelsAllowlist }),
	"annotations_allow_list": allowList(func(c *Config) *map[string][]string { return &c.AnnotationsAllowlist }),
	"series_labels":          allowList(func(c *Config) *map[string][]string { return &c.SeriesLabels }),
	"use_api_server_cache":   decode(func(c *Config) *bool { return &c.UseAPIServerCache }),
	// custom_resource_state_config is read by setInlineCustomResources.
	"custom_resource_state_config_file": str(func(c *Config) *string { return &c.CustomResourceStateConfigFile }),
	"custom_resource_state_only":        decode(func(c *Config) *bool { return &c.CustomResourceStateOnly }),
	"max_samples_per_send":              decode(func(c *Config) *int { return &c.MaxSamplesPerSend }),
	"remote_timeout":                    duration(func(c *Config) *time.Duration { return &c.RemoteTimeout }),
	"resend_interval":                   duration(func(c *Config) *time.Duration { return &c.ResendInterval }),
	"flush_interval":                    duration(func(c *Config) *time.Duration { return &c.FlushInterval }),
	"flush_deadline":                    duration(func(c *Config) *time.Duration { return &c.FlushDeadline }),
	"max_pending_samples":               decode(func(c *Config) *int { return &c.MaxPendingSamples }),
	"wal_dir":                           str(func(c *Config) *string { return &c.WALDir }),
	"shard":                             decode(func(c *Config) *int { return &c.Shard }),
	"total_shards":                      decode(func(c *Config) *int { return &c.TotalShards }),
	"pod":                               str(func(c *Config) *string { return &c.Pod }),
	"pod_namespace":                     str(func(c *Config) *string { return &c.PodNamespace }),
	"shard_handover_delay":              duration(func(c *Config) *time.Duration { return &c.ShardHandoverDelay }),
	"server_side_sharding":              decode(func(c *Config) *bool { return &c.ServerSideSharding }),
	"wal_sync_interval":                 duration(func(c *Config) *time.Duration { return &c.WALSyncInterval }),
	"wal_compact_resolution":            duration(func(c *Config) *time.Duration { return &c.WALCompactResolution }),
	"wal_max_size": func(c *Config, n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a size such as 1Gi")
		}
		v, err := ParseSize(n.Value)
		c.WALMaxSize = v
		return err
	},
}

func decode[T any](field func(*Config) *T) func(*Config, *yaml.Node) error {
	return func(c *Config, n *yaml.Node) error {
		var v T
		if err := n.Decode(&v); err != nil {
			return unwrapYAML(err)
		}
		*field(c) = v
		return nil
	}
}

func str(field func(*Config) *string) func(*Config, *yaml.Node) error {
	return func(c *Config, n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a string")
		}
		*field(c) = n.Value
		return nil
	}
}

func duration(field func(*Config) *time.Duration) func(*Config, *yaml.Node) error {
	return func(c *Config, n *yaml.Node) error {
		if n.Kind != yaml.ScalarNode {
			return fmt.Errorf("want a duration such as 30s")
		}
		d, err := time.ParseDuration(n.Value)
		if err != nil {
			return err
		}
		*field(c) = d
		return nil
	}
}

// list takes a YAML sequence or a comma-separated string, like the flags.
func list(field func(*Config) *[]string) func(*Config, *yaml.Node) error {
	return func(c *Config, n *yaml.Node) error {
		var out []string
		switch n.Kind {
		case yaml.ScalarNode:
			out = SplitList(n.Value)
		case yaml.SequenceNode:
			for _, e := range n.Content {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("line %d: want a string", e.Line)
				}
				out = append(out, SplitList(e.Value)...)
			}
		default:
			return fmt.Errorf("want a list or a comma-separated string")
		}
		*field(c) = out
		return nil
	}
}

// allowList takes a mapping of resource to keys, or the flag's grammar.
func allowList(field func(*Config) *map[string][]string) func(*Config, *yaml.Node) error {
	return func(c *Config, n *yaml.Node) error {
		switch n.Kind {
		case yaml.ScalarNode:
			m, err := ParseAllowList(n.Value)
			if err != nil {
				return err
			}
			*field(c) = m
			return nil
		case yaml.MappingNode:
			var m map[string][]string
			if err := n.Decode(&m); err != nil {
				return unwrapYAML(err)
			}
			*field(c) = m
			return nil
		}
		return fmt.Errorf("want a mapping such as {pods: [app, team-*]} or a string such as pods=[app]")
	}
}

// SplitList splits a comma-separated flag or file value, dropping empty items.
func SplitList(s string) []string {
	var out []string
	for _, e := range strings.Split(s, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// unwrapYAML drops the "yaml: unmarshal errors:\n  line N:" wrapping, since the
// caller names the line.
func unwrapYAML(err error) error {
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i >= 0 && strings.Contains(msg, "line ") {
		return fmt.Errorf("%s", msg[i+2:])
	}
	return err
}

// ParseSize parses a size as a Kubernetes quantity: 1Gi, 512Mi, 100M, 1000000.
func ParseSize(s string) (int64, error) {
	q, err := resource.ParseQuantity(s)
	if err != nil {
		return 0, fmt.Errorf("%q: want a size such as 1Gi or 512Mi", s)
	}
	if q.Sign() < 0 {
		return 0, fmt.Errorf("%q: a size cannot be negative", s)
	}
	if q.AsApproximateFloat64() >= math.MaxInt64 {
		return 0, fmt.Errorf("%q: a size must be below 8Ei", s)
	}
	return q.Value(), nil
}
