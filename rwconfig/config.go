package rwconfig

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/relabel"
	"github.com/prometheus/prometheus/storage/remote/azuread"
	"github.com/prometheus/prometheus/storage/remote/googleiam"
	"github.com/prometheus/sigv4"
	"go.yaml.in/yaml/v3"

	"github.com/kube-state-push/kube-state-push/series"
)

// Keys are the top-level keys of a configuration file that Parse reads.
var Keys = []string{"external_labels", "remote_write"}

// Config is what the remote_write and external_labels blocks configure.
type Config struct {
	// ExternalLabels are added to every series that lacks them, before
	// write_relabel_configs, sorted by name, without empty values.
	ExternalLabels []series.Label
	// RemoteWrite holds one endpoint per remote_write entry, in file order.
	RemoteWrite []Endpoint
}

// ProtobufMessage is the message a remote_write endpoint is sent.
type ProtobufMessage string

// The messages of Remote-Write 1.0 and 2.0.
const (
	MessageV1 ProtobufMessage = "prometheus.WriteRequest"
	MessageV2 ProtobufMessage = "io.prometheus.write.v2.Request"
)

// QueueConfig is an endpoint's queue_config, with Prometheus's defaults.
type QueueConfig struct {
	// Capacity is the number of samples each shard buffers.
	Capacity int
	// MinShards and MaxShards bound the number of parallel senders.
	MinShards, MaxShards int
	// MaxSamplesPerSend caps the samples of one request.
	MaxSamplesPerSend int
	// BatchSendDeadline is how long a sample may wait for its batch to fill.
	// The agent's shards send what they have at once, so no sample waits:
	// it is checked and has no other effect.
	BatchSendDeadline time.Duration
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff, MaxBackoff time.Duration
	// RetryOnHTTP429 retries requests answered 429 instead of dropping them.
	RetryOnHTTP429 bool
	// SampleAgeLimit drops samples older than this when a request is sent,
	// and before each retry; 0 keeps all.
	SampleAgeLimit time.Duration
}

// MetadataConfig is an endpoint's metadata_config, with Prometheus's defaults.
// It applies to Remote-Write 1.0; 2.0 carries metadata with each series.
type MetadataConfig struct {
	// Send enables sending metric metadata.
	Send bool
	// SendInterval is how often metadata is sent.
	SendInterval time.Duration
	// MaxSamplesPerSend caps the metadata entries of one request.
	MaxSamplesPerSend int
}

// LabelLimits is an endpoint's label_limits, a block of our own: what the
// receiver takes of one series' labels as sent (after write_relabel_configs,
// with the external labels). The queue drops a series over a limit before
// sending it: Mimir and Cortex refuse it and answer 400 to the request that
// carries it (which counts as refused whole), VictoriaMetrics ignores it. 0 is
// no limit.
type LabelLimits struct {
	// MaxLabelNamesPerSeries caps the labels of a series, __name__ included.
	MaxLabelNamesPerSeries int
	// MaxLabelNameLength caps the bytes of a label name.
	MaxLabelNameLength int
	// MaxLabelValueLength caps the bytes of a label value, the metric name's
	// included.
	MaxLabelValueLength int
}

// DefaultLabelLimits are the strictest of the receivers' defaults, so that
// none refuses a series sent: 30 labels, __name__ included (Mimir and Cortex;
// VictoriaMetrics 40, Azure Monitor 63, Amazon Managed Prometheus 70), names
// of 256 bytes (VictoriaMetrics; Mimir and Cortex 1024) and values of 2048
// bytes (Mimir and Cortex; VictoriaMetrics 4096).
var DefaultLabelLimits = LabelLimits{
	MaxLabelNamesPerSeries: 30,
	MaxLabelNameLength:     256,
	MaxLabelValueLength:    2048,
}

// Prometheus's defaults (config.DefaultRemoteWriteConfig).
var (
	DefaultRemoteTimeout = 30 * time.Second
	DefaultQueueConfig   = QueueConfig{
		Capacity:          10000,
		MinShards:         1,
		MaxShards:         50,
		MaxSamplesPerSend: 2000,
		BatchSendDeadline: 5 * time.Second,
		MinBackoff:        30 * time.Millisecond,
		MaxBackoff:        5 * time.Second,
		// Unlike Prometheus, 429 is retried (honouring Retry-After) unless
		// retry_on_http_429: false says otherwise.
		RetryOnHTTP429: true,
	}
	DefaultMetadataConfig = MetadataConfig{
		Send:              true,
		SendInterval:      time.Minute,
		MaxSamplesPerSend: 2000,
	}
)

// Endpoint is one remote_write entry. Its String hides every credential; its
// fields hold none except URL, which may carry a password (log Redacted, not URL)
// and Headers, whose values may be secret.
type Endpoint struct {
	// Name is the entry's name, or a hash of where it sends (see
	// CursorName). Names are unique within a Config.
	Name string
	// URL is where requests are POSTed. It may hold a user and password.
	URL string
	// Timeout bounds one request (remote_timeout).
	Timeout time.Duration
	// Headers are added to every request; reserved headers are refused.
	Headers map[string]string
	// Relabel is write_relabel_configs, validated for legacy label names.
	Relabel []*relabel.Config
	// ProtobufMessage is the protobuf_message given, or "" if none was:
	// Prometheus then sends MessageV1, and the agent may negotiate.
	ProtobufMessage ProtobufMessage
	// Queue is queue_config.
	Queue QueueConfig
	// Metadata is metadata_config.
	Metadata MetadataConfig
	// LabelLimits is label_limits, DefaultLabelLimits where not given.
	LabelLimits LabelLimits
	// RoundRobinDNS spreads connections over all addresses of the host.
	RoundRobinDNS bool
	// FailedRequestLogging logs each failed Remote-Write 2.0 request, whole,
	// at debug level, as Prometheus does (1.0 requests are not logged).
	FailedRequestLogging bool

	http      config.HTTPClientConfig
	sigv4     *sigv4.SigV4Config
	azuread   *azuread.AzureADConfig
	googleIAM *googleiam.Config
	id        string
}

// rawEndpoint has the YAML keys of Prometheus's RemoteWriteConfig (v3.x,
// prometheus/prometheus v0.316.0), decoded with its defaults and checks. Where
// we differ:
//   - label names (external_labels, relabel target labels) must be legacy
//     names, since Remote-Write 1.0 receivers refuse others;
//   - azuread and google_iam are Prometheus's own types, decoded and validated
//     by its code (AzureADConfig.UnmarshalYAML), with unknown keys refused as
//     everywhere else; like Prometheus, their file paths (token_file_path,
//     certificate_path, credentials_file) are not taken relative to the file;
//   - send_exemplars, send_native_histograms and convert_nhcb_to_classic are
//     accepted and have no effect: we send neither exemplars nor histograms;
//   - an entry without a name is named after its destination (see
//     Endpoint.CursorName), not after its whole configuration;
//   - protobuf_message is left empty when not given, for the agent to choose;
//   - remote_timeout and batch_send_deadline must be positive, and
//     batch_send_deadline has no other effect: a shard sends what it has at
//     once, so no sample waits for its batch to fill;
//   - external_labels is a top-level key, not under global;
//   - label_limits is ours: the receiver's limits on a series' labels
//     (max_label_names_per_series, max_label_name_length,
//     max_label_value_length; whole numbers, 0 for no limit, defaults
//     DefaultLabelLimits); a series over one is dropped before sending.
type rawEndpoint struct {
	URL                  string                  `yaml:"url"`
	Name                 string                  `yaml:"name"`
	RemoteTimeout        model.Duration          `yaml:"remote_timeout"`
	Headers              map[string]string       `yaml:"headers"`
	WriteRelabelConfigs  []*relabel.Config       `yaml:"write_relabel_configs"`
	ProtobufMessage      string                  `yaml:"protobuf_message"`
	SendExemplars        bool                    `yaml:"send_exemplars"`
	SendNativeHistograms bool                    `yaml:"send_native_histograms"`
	ConvertNHCBToClassic bool                    `yaml:"convert_nhcb_to_classic"`
	RoundRobinDNS        bool                    `yaml:"round_robin_dns"`
	FailedRequestLogging bool                    `yaml:"failed_request_logging"`
	HTTPClientConfig     config.HTTPClientConfig `yaml:",inline"`
	QueueConfig          rawQueue                `yaml:"queue_config"`
	MetadataConfig       rawMetadata             `yaml:"metadata_config"`
	LabelLimits          rawLabelLimits          `yaml:"label_limits"`
	SigV4                *sigv4.SigV4Config      `yaml:"sigv4"`
	AzureAD              *azuread.AzureADConfig  `yaml:"azuread"`
	GoogleIAM            *googleiam.Config       `yaml:"google_iam"`
}

type rawQueue struct {
	Capacity          int            `yaml:"capacity"`
	MaxShards         int            `yaml:"max_shards"`
	MinShards         int            `yaml:"min_shards"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send"`
	BatchSendDeadline model.Duration `yaml:"batch_send_deadline"`
	MinBackoff        model.Duration `yaml:"min_backoff"`
	MaxBackoff        model.Duration `yaml:"max_backoff"`
	RetryOnRateLimit  bool           `yaml:"retry_on_http_429"`
	SampleAgeLimit    model.Duration `yaml:"sample_age_limit"`
}

type rawMetadata struct {
	Send              bool           `yaml:"send"`
	SendInterval      model.Duration `yaml:"send_interval"`
	MaxSamplesPerSend int            `yaml:"max_samples_per_send"`
}

type rawLabelLimits struct {
	MaxLabelNamesPerSeries int `yaml:"max_label_names_per_series"`
	MaxLabelNameLength     int `yaml:"max_label_name_length"`
	MaxLabelValueLength    int `yaml:"max_label_value_length"`
}

// Load reads a file that holds only remote_write and external_labels.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, &Error{File: path, Err: err}
	}
	return loadBytes(path, data)
}

// loadBytes parses data, the content of the file at path, as Load does.
func loadBytes(path string, data []byte) (Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Config{}, &Error{File: path, Err: err}
	}
	root := documentRoot(&doc)
	if root != nil && root.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(root.Content); i += 2 {
			if k := root.Content[i]; !slices.Contains(Keys, k.Value) {
				return Config{}, &Error{File: path, Line: k.Line, Key: k.Value, Err: fmt.Errorf("unknown key %q", k.Value)}
			}
		}
	}
	return Parse(path, &doc)
}

// Parse reads the remote_write and external_labels keys of doc, a document or
// mapping node decoded from the file at path, and ignores its other keys
// (see Keys). Relative file names (password_file, ca_file, ...) are taken
// relative to path's directory, as Prometheus does. Errors are *Error.
func Parse(path string, doc *yaml.Node) (Config, error) {
	p := &parser{file: path}
	var cfg Config
	root := documentRoot(doc)
	if root == nil {
		return cfg, nil
	}
	if root.Kind != yaml.MappingNode {
		return cfg, p.errorf(root, "", "want a mapping of option names to values")
	}
	dir := ""
	if path != "" {
		dir = filepath.Dir(path)
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if !slices.Contains(Keys, k.Value) {
			continue
		}
		if first, dup := seen[k.Value]; dup {
			return Config{}, p.errorf(k, k.Value, "also set on line %d", first.Line)
		}
		seen[k.Value] = k
		if at, msg := checkAliases(v); at != nil {
			return Config{}, p.errorf(at, k.Value, "%s", msg)
		}
		if rel, at, first := duplicateKey(v); at != nil {
			return Config{}, p.errorf(at, k.Value+rel, "also set on line %d", first.Line)
		}
		var err error
		switch k.Value {
		case "external_labels":
			cfg.ExternalLabels, err = p.externalLabels(v)
		case "remote_write":
			cfg.RemoteWrite, err = p.remoteWrite(v, dir)
		}
		if err != nil {
			return Config{}, err
		}
	}
	return cfg, nil
}

// NewEndpoint returns the endpoint of a remote_write entry that has only url
// and, if not empty, name: the one-flag form --remote-write-url. Errors are
// *Error with the key --remote-write-url.
func NewEndpoint(name, rawURL string) (Endpoint, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	add := func(k, v string) {
		n.Content = append(n.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v})
	}
	add("url", rawURL)
	if name != "" {
		add("name", name)
	}
	p := &parser{}
	ep, err := p.endpoint(n, "", "")
	var e *Error
	if errors.As(err, &e) {
		return Endpoint{}, &Error{Key: "--remote-write-url", Err: e.Err}
	}
	return ep, err
}

func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc == nil || doc.Kind == 0 {
		return nil
	}
	if doc.Kind == yaml.DocumentNode {
		if len(doc.Content) == 0 {
			return nil
		}
		return resolve(doc.Content[0])
	}
	return resolve(doc)
}

// externalLabels decodes external_labels: label names must be valid in
// Remote-Write 1.0 ([a-zA-Z_][a-zA-Z0-9_]*); values expand environment
// variables ($VAR, ${VAR}, $$ for $) as Prometheus 3 does, and a label whose
// value is empty is left out.
func (p *parser) externalLabels(n *yaml.Node) ([]series.Label, error) {
	const key = "external_labels"
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, key, "want a mapping of label names to values")
	}
	var out []series.Label
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		path := key + "." + k.Value
		if !model.LegacyValidation.IsValidLabelName(k.Value) {
			return nil, p.errorf(k, path, "%q is not a valid label name", k.Value)
		}
		if k.Value == model.MetricNameLabel {
			return nil, p.errorf(k, path, "the metric name cannot be an external label")
		}
		if v.Kind != yaml.ScalarNode {
			return nil, p.errorf(v, path, "want a string")
		}
		value := v.Value
		if v.Tag == "!!null" {
			value = ""
		}
		value = os.Expand(value, func(s string) string {
			if s == "$" {
				return "$"
			}
			return os.Getenv(s)
		})
		if !model.LabelValue(value).IsValid() {
			return nil, p.errorf(v, path, "label value is not valid UTF-8")
		}
		if value != "" {
			out = append(out, series.Label{Name: k.Value, Value: value})
		}
	}
	slices.SortFunc(out, func(a, b series.Label) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// remoteWrite decodes the remote_write list and checks that names are unique.
func (p *parser) remoteWrite(n *yaml.Node, dir string) ([]Endpoint, error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, "remote_write", "want a list of endpoints")
	}
	var out []Endpoint
	names := map[string]int{}
	cursors := map[string]int{}
	ids := map[string]int{}
	for i, e := range n.Content {
		key := fmt.Sprintf("remote_write[%d]", i)
		ep, err := p.endpoint(resolve(e), key, dir)
		if err != nil {
			return nil, err
		}
		if j, dup := names[ep.Name]; dup {
			return nil, p.errorf(e, key, "name %q is also the name of remote_write[%d]; give each endpoint a distinct name", ep.Name, j)
		}
		if j, dup := cursors[ep.CursorName()]; dup {
			return nil, p.errorf(e, key, "name %q is too close to that of remote_write[%d]; give each endpoint a distinct name", ep.Name, j)
		}
		if j, dup := ids[ep.id]; dup {
			return nil, p.errorf(e, key, "same configuration as remote_write[%d]", j)
		}
		names[ep.Name], cursors[ep.CursorName()], ids[ep.id] = i, i, i
		out = append(out, ep)
	}
	return out, nil
}

// endpoint decodes one remote_write entry with Prometheus's defaults and
// validation (config.RemoteWriteConfig.UnmarshalYAML).
func (p *parser) endpoint(n *yaml.Node, key, dir string) (Endpoint, error) {
	if n.Kind != yaml.MappingNode {
		return Endpoint{}, p.errorf(n, key, "want a mapping with at least a url")
	}
	raw := rawEndpoint{
		RemoteTimeout:    model.Duration(DefaultRemoteTimeout),
		HTTPClientConfig: config.HTTPClientConfig{FollowRedirects: true, EnableHTTP2: false},
		QueueConfig: rawQueue{
			Capacity:          DefaultQueueConfig.Capacity,
			MaxShards:         DefaultQueueConfig.MaxShards,
			MinShards:         DefaultQueueConfig.MinShards,
			MaxSamplesPerSend: DefaultQueueConfig.MaxSamplesPerSend,
			BatchSendDeadline: model.Duration(DefaultQueueConfig.BatchSendDeadline),
			MinBackoff:        model.Duration(DefaultQueueConfig.MinBackoff),
			MaxBackoff:        model.Duration(DefaultQueueConfig.MaxBackoff),
			RetryOnRateLimit:  DefaultQueueConfig.RetryOnHTTP429,
		},
		MetadataConfig: rawMetadata{
			Send:              DefaultMetadataConfig.Send,
			SendInterval:      model.Duration(DefaultMetadataConfig.SendInterval),
			MaxSamplesPerSend: DefaultMetadataConfig.MaxSamplesPerSend,
		},
		LabelLimits: rawLabelLimits(DefaultLabelLimits),
	}
	if err := p.checkKeys(n, key, reflect.TypeFor[rawEndpoint]()); err != nil {
		return Endpoint{}, err
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		path := key + "." + k.Value
		var err error
		switch k.Value {
		case "write_relabel_configs":
			raw.WriteRelabelConfigs, err = p.relabelConfigs(v, path)
		case "queue_config":
			err = p.decodeKeys(v, path, &raw.QueueConfig)
		case "metadata_config":
			err = p.decodeKeys(v, path, &raw.MetadataConfig)
		case "label_limits":
			err = p.labelLimits(v, path, &raw.LabelLimits)
		default:
			one := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{k, v}}
			if derr := one.Decode(&raw); derr != nil {
				err = p.locate(k, v, path, derr)
			}
		}
		if err != nil {
			return Endpoint{}, err
		}
	}
	if err := p.validate(n, key, &raw); err != nil {
		return Endpoint{}, err
	}
	raw.HTTPClientConfig.SetDirectory(dir)
	ep := Endpoint{
		Name:                 raw.Name,
		URL:                  raw.URL,
		Timeout:              time.Duration(raw.RemoteTimeout),
		Headers:              raw.Headers,
		Relabel:              raw.WriteRelabelConfigs,
		ProtobufMessage:      ProtobufMessage(raw.ProtobufMessage),
		RoundRobinDNS:        raw.RoundRobinDNS,
		FailedRequestLogging: raw.FailedRequestLogging,
		Queue: QueueConfig{
			Capacity:          raw.QueueConfig.Capacity,
			MinShards:         raw.QueueConfig.MinShards,
			MaxShards:         raw.QueueConfig.MaxShards,
			MaxSamplesPerSend: raw.QueueConfig.MaxSamplesPerSend,
			BatchSendDeadline: time.Duration(raw.QueueConfig.BatchSendDeadline),
			MinBackoff:        time.Duration(raw.QueueConfig.MinBackoff),
			MaxBackoff:        time.Duration(raw.QueueConfig.MaxBackoff),
			RetryOnHTTP429:    raw.QueueConfig.RetryOnRateLimit,
			SampleAgeLimit:    time.Duration(raw.QueueConfig.SampleAgeLimit),
		},
		Metadata: MetadataConfig{
			Send:              raw.MetadataConfig.Send,
			SendInterval:      time.Duration(raw.MetadataConfig.SendInterval),
			MaxSamplesPerSend: raw.MetadataConfig.MaxSamplesPerSend,
		},
		LabelLimits: LabelLimits(raw.LabelLimits),
		http:        raw.HTTPClientConfig,
		sigv4:       raw.SigV4,
		azuread:     raw.AzureAD,
		googleIAM:   raw.GoogleIAM,
	}
	if ep.Name == "" {
		ep.Name = ep.destinationHash()
	}
	ep.id = ep.identity()
	return ep, nil
}

// relabelConfigs decodes write_relabel_configs one rule at a time.
func (p *parser) relabelConfigs(n *yaml.Node, key string) ([]*relabel.Config, error) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return nil, nil
	}
	if n.Kind != yaml.SequenceNode {
		return nil, p.errorf(n, key, "want a list of relabel rules")
	}
	out := make([]*relabel.Config, 0, len(n.Content))
	for i, e := range n.Content {
		path := fmt.Sprintf("%s[%d]", key, i)
		e = resolve(e)
		if e.Kind == yaml.ScalarNode && e.Tag == "!!null" {
			return nil, p.errorf(e, path, "empty relabel rule")
		}
		var rc relabel.Config
		if err := p.decodeValue(e, path, &rc); err != nil {
			return nil, err
		}
		// Remote-Write 1.0 receivers take legacy label names only.
		if err := rc.Validate(model.LegacyValidation); err != nil {
			return nil, p.locate(e, e, path, err)
		}
		out = append(out, &rc)
	}
	return out, nil
}
