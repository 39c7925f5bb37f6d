package agent

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/prompb"
	"go.yaml.in/yaml/v3"

	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/rwconfig"
	"github.com/kube-state-push/kube-state-push/series"
)

// Every queue_config and metadata_config key, and failed_request_logging,
// reaches the endpoint's queue.
func TestQueueConfigFromRemoteWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rw.yaml")
	if err := os.WriteFile(path, []byte(`
remote_write:
  - url: http://receiver.invalid/api/v1/push
    failed_request_logging: true
    protobuf_message: io.prometheus.write.v2.Request
    queue_config:
      capacity: 500
      min_shards: 3
      max_shards: 7
      max_samples_per_send: 250
      min_backoff: 100ms
      max_backoff: 2s
      retry_on_http_429: false
      sample_age_limit: 5m
    metadata_config:
      send: false
      max_samples_per_send: 10
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := rwconfig.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	qc := queueConfig(cfg.RemoteWrite[0], nil)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"Capacity", qc.Capacity, 500},
		{"MinShards", qc.MinShards, 3},
		{"MaxShards", qc.MaxShards, 7},
		{"MaxSamplesPerSend", qc.MaxSamplesPerSend, 250},
		{"MinBackoff", qc.MinBackoff, 100 * time.Millisecond},
		{"MaxBackoff", qc.MaxBackoff, 2 * time.Second},
		{"DropOn429", qc.DropOn429, true},
		{"SampleAgeLimit", qc.SampleAgeLimit, 5 * time.Minute},
		{"FailedRequestLogging", qc.FailedRequestLogging, true},
		{"ProtobufMessage", qc.ProtobufMessage, remotewrite.MessageV2},
		{"MetadataSendInterval", qc.MetadataSendInterval, time.Duration(-1)},
		{"MaxMetadataPerSend", qc.MaxMetadataPerSend, 10},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// The one-flag form gets the default label limits, and a remote_write
// entry's label_limits reach its queue.
func TestQueueConfigLabelLimits(t *testing.T) {
	eps, err := endpoints(&Config{RemoteWriteURL: "https://mimir.example.com/api/v1/push", RemoteTimeout: 30 * time.Second, MaxSamplesPerSend: 2000})
	if err != nil {
		t.Fatal(err)
	}
	want := remotewrite.LabelLimits{MaxLabelNamesPerSeries: 30, MaxLabelNameLength: 256, MaxLabelValueLength: 2048}
	if got := queueConfig(eps[0], nil).LabelLimits; got != want {
		t.Errorf("--remote-write-url: limits %+v, want %+v", got, want)
	}
	ep := parseEndpoint(t, "label_limits: {max_label_names_per_series: 63, max_label_name_length: 0, max_label_value_length: 1023}")
	want = remotewrite.LabelLimits{MaxLabelNamesPerSeries: 63, MaxLabelNameLength: 0, MaxLabelValueLength: 1023}
	if got := queueConfig(ep, nil).LabelLimits; got != want {
		t.Errorf("label_limits: %+v, want %+v", got, want)
	}
}

// The label count is that of the series as sent: with external_labels and
// the HA replica labels the series lacks, after write_relabel_configs, whether
// the external labels are added as the series is encoded (no rules) or by the
// rules' Relabeler.
func TestLabelLimitCountsExternalAndReplicaLabels(t *testing.T) {
	cfg := &Config{
		HAMode:      ha.ModeReplicaLabels,
		HAReplica:   ha.ReplicaLabelConfig{Cluster: "prod-eu-1", Replica: "ksp-0"},
		RemoteWrite: rwconfig.Config{ExternalLabels: []series.Label{{Name: "region", Value: "eu-west-1"}}},
	}
	external := externalLabels(cfg)
	if len(external) != 3 { // __replica__, cluster, region
		t.Fatalf("external labels %v, want 3", external)
	}
	// own returns a series of name with n labels, __name__ included.
	own := func(name string, n int, extra ...series.Label) series.Labels {
		ls := []series.Label{{Name: series.MetricName, Value: name}}
		ls = append(ls, extra...)
		for i := len(ls); i < n; i++ {
			ls = append(ls, series.Label{Name: fmt.Sprintf("label_l%02d", i), Value: "v"})
		}
		return series.FromPairs(ls)
	}
	for _, tc := range []struct {
		name     string
		rules    string
		batch    []series.Labels
		sent     []string
		droppedN float64
	}{
		{
			name: "external labels added as encoded",
			batch: []series.Labels{
				own("kube_pod_labels", 27),  // 27 + 3 = 30
				own("kube_node_labels", 28), // 28 + 3 = 31
				own("kube_pod_annotations", 28, series.Label{Name: "cluster", Value: "own"}), // 28 + 2 = 30
			},
			sent:     []string{"kube_pod_labels", "kube_pod_annotations"},
			droppedN: 1,
		},
		{
			name:  "external labels added by the rules' Relabeler",
			rules: "write_relabel_configs: [{action: labeldrop, regex: drop_me}]",
			batch: []series.Labels{
				own("kube_pod_labels", 28, series.Label{Name: "drop_me", Value: "x"}), // 27 + 3 = 30
				own("kube_node_labels", 28), // 28 + 3 = 31
				own("kube_pod_annotations", 28, series.Label{Name: "cluster", Value: "own"}), // 28 + 2 = 30
			},
			sent:     []string{"kube_pod_labels", "kube_pod_annotations"},
			droppedN: 1,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			qc := queueConfig(parseEndpoint(t, tc.rules), external)
			qc.MinShards, qc.MaxShards, qc.MetadataSendInterval = 1, 1, -1
			snd := &recordingSender{}
			reg := prometheus.NewRegistry()
			q := remotewrite.NewQueue(qc, snd, reg, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			done := make(chan struct{})
			go func() { _ = q.Run(ctx); close(done) }()
			defer func() { cancel(); <-done }()
			var batch []series.Sample
			for i, ls := range tc.batch {
				batch = append(batch, series.Sample{Labels: ls, T: int64(i), V: 1})
			}
			if err := q.WriteBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			if err := q.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got := snd.sent()
			var names []string
			for _, s := range got {
				names = append(names, s.name)
				if s.labels > 30 {
					t.Errorf("%s sent with %d labels, over the limit of 30", s.name, s.labels)
				}
			}
			if !slices.Equal(names, tc.sent) {
				t.Errorf("sent %v, want %v", names, tc.sent)
			}
			if got := gathered(t, reg, "kube_state_push_remote_write_label_limit_samples_dropped_total",
				map[string]string{"family": "kube_node_labels", "reason": "label_count"}); got != tc.droppedN {
				t.Errorf("dropped{family=kube_node_labels,reason=label_count} = %v, want %v", got, tc.droppedN)
			}
		})
	}
}

// parseEndpoint returns the remote_write entry of a URL and the given keys.
func parseEndpoint(t *testing.T, keys string) rwconfig.Endpoint {
	t.Helper()
	doc := "remote_write:\n  - url: https://mimir.example.com/api/v1/push\n"
	if keys != "" {
		doc += "    " + keys + "\n"
	}
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(doc), &n); err != nil {
		t.Fatal(err)
	}
	cfg, err := rwconfig.Parse("rw.yaml", &n)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RemoteWrite[0]
}

type sentSeries struct {
	name   string
	labels int
}

// recordingSender decodes 1.0 requests and records each series' name and
// label count, in order.
type recordingSender struct {
	mu     sync.Mutex
	series []sentSeries
}

func (s *recordingSender) Store(_ context.Context, body []byte, _ remotewrite.ProtobufMessage) (remotewrite.WriteStats, error) {
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		return remotewrite.WriteStats{}, err
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(pb); err != nil {
		return remotewrite.WriteStats{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ts := range wr.Timeseries {
		name := ""
		for _, l := range ts.Labels {
			if l.Name == series.MetricName {
				name = l.Value
			}
		}
		s.series = append(s.series, sentSeries{name: name, labels: len(ts.Labels)})
	}
	return remotewrite.WriteStats{}, nil
}

func (s *recordingSender) sent() []sentSeries {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.series)
}

// gathered returns the value of the counter name whose labels include want.
func gathered(t *testing.T, reg *prometheus.Registry, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

// The job and instance labels are added as a scrape of kube-state-metrics
// would: external_labels and the HA replica labels win, "" adds none, and an
// endpoint's write_relabel_configs can replace them.
func TestJobAndInstanceLabels(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		want string
	}{
		{"defaults", Config{Job: "kube-state-metrics", Instance: "kube-state-push"},
			`{instance="kube-state-push",job="kube-state-metrics"}`},
		{"external labels win", Config{Job: "kube-state-metrics", Instance: "kube-state-push",
			RemoteWrite: rwconfig.Config{ExternalLabels: []series.Label{{Name: "cluster", Value: "c"}, {Name: "job", Value: "ksm"}}}},
			`{cluster="c",instance="kube-state-push",job="ksm"}`},
		{"replica labels win", Config{Job: "j", Instance: "i", HAMode: ha.ModeReplicaLabels,
			HAReplica: ha.ReplicaLabelConfig{Cluster: "c", Replica: "r", ClusterLabel: "cluster", ReplicaLabel: "instance"}},
			`{cluster="c",instance="r",job="j"}`},
		{"none", Config{}, ``},
	} {
		got := series.FromPairs(externalLabels(&tc.cfg)).String()
		if got != tc.want {
			t.Errorf("%s: external labels %s, want %s", tc.name, got, tc.want)
		}
	}

	ep := parseEndpoint(t, `write_relabel_configs: [{target_label: instance, replacement: ksp-eu}]`)
	cfg := &Config{Job: "kube-state-metrics", Instance: "kube-state-push"}
	qc := queueConfig(ep, externalLabels(cfg))
	ls := series.FromPairs([]series.Label{{Name: series.MetricName, Value: "kube_pod_info"}, {Name: "pod", Value: "p"}})
	out, keep := qc.Transform(ls)
	if want := `kube_pod_info{instance="ksp-eu",job="kube-state-metrics",pod="p"}`; !keep || out.String() != want {
		t.Errorf("relabelled %s (kept %v), want %s", out.String(), keep, want)
	}
}

// At shutdown, what waits in the endpoints' intakes is counted as never
// queued, and a full intake drops and counts for its endpoint only.
func TestFanoutDiscardAndFullIntake(t *testing.T) {
	f := newFanout([]*endpoint{{name: "a"}, {name: "b"}}, nil, slog.New(slog.DiscardHandler))
	batch := make([]series.Sample, 3)
	for range intakeBatches + 2 {
		if err := f.WriteBatch(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"a", "b"} {
		if v := testutil.ToFloat64(f.dropped.WithLabelValues(name)); v != 6 {
			t.Errorf("endpoint %s: %v samples dropped at the full intake, want 6", name, v)
		}
	}
	if n := f.discard(); n != 2*intakeBatches*3 {
		t.Errorf("discard returned %d samples, want %d", n, 2*intakeBatches*3)
	}
	for i := range f.waiting {
		if v := f.waiting[i].Load(); v != 0 {
			t.Errorf("endpoint %d: %d batches still counted as waiting", i, v)
		}
	}
}
