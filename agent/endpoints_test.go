package agent

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/rwconfig"
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
