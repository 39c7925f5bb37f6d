package remotewrite

import (
	"context"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kube-state-push/kube-state-push/series"
)

// Sender stores one encoded write request holding msg; *Client is the real
// one. It returns what a 2.0 receiver reported as written, and the errors
// Client.Store documents.
type Sender interface {
	Store(ctx context.Context, body []byte, msg ProtobufMessage) (WriteStats, error)
}

// QueueConfig tunes a Queue.
type QueueConfig struct {
	// MinShards and MaxShards bound the number of parallel senders; the queue
	// starts at MinShards and adapts to throughput and backlog.
	MinShards, MaxShards int
	// MaxSamplesPerSend caps the samples of one request; 2.0 requests take
	// up to 4 times as many while a shard has a backlog (samplesPerSend).
	MaxSamplesPerSend int
	// Capacity is the number of samples each shard buffers before WriteBatch blocks.
	Capacity int
	// MinBackoff and MaxBackoff bound the wait between retries.
	MinBackoff, MaxBackoff time.Duration
	// DropOn429 drops requests answered 429 instead of retrying them
	// (queue_config.retry_on_http_429: false).
	DropOn429 bool
	// SampleAgeLimit, when positive, drops the samples of a request that are
	// older than this when it is sent, and before each retry, counted as
	// dropped for too_old (queue_config.sample_age_limit).
	SampleAgeLimit time.Duration
	// FailedRequestLogging logs, at debug level, every 2.0 request the
	// receiver did not take, whole (failed_request_logging).
	FailedRequestLogging bool
	// ReshardInterval is how often the shard count is reconsidered.
	ReshardInterval time.Duration
	// Transform, when set, rewrites each sample's labels before it is queued
	// (write_relabel_configs, which see the external labels); keep false
	// drops the sample.
	Transform func(series.Labels) (ls series.Labels, keep bool)
	// External labels, sorted by name, are added to every series that lacks
	// them as it is encoded, without a copy of its labels (external_labels
	// when there are no write_relabel_configs; otherwise Transform adds them).
	External []series.Label
	// ProtobufMessage is the message sent: MessageV1 (also for "") or
	// MessageV2. With MessageV2, a receiver that answers 415, or 2xx without
	// the Written headers, makes the queue send the same samples again as 1.0
	// and keep to 1.0 for the rest of the process.
	ProtobufMessage ProtobufMessage
	// Metadata returns a family's type, help and unit. With 2.0 it goes with
	// every series; with 1.0 in separate requests (see MetadataSendInterval).
	// Nil sends no metadata.
	Metadata MetadataFunc
	// MetadataSendInterval is how often, with 1.0, the metadata of every family
	// sent so far is sent again (Prometheus's metadata_config.send_interval);
	// a family is also sent as soon as its first samples are. Negative sends no
	// 1.0 metadata (metadata_config.send: false); 2.0 still carries it.
	MetadataSendInterval time.Duration
	// MaxMetadataPerSend caps the families of one 1.0 metadata request
	// (metadata_config.max_samples_per_send).
	MaxMetadataPerSend int
	// LabelLimits drop, before they are queued, the samples of series over
	// the receiver's limits. Zero fields are no limit; DefaultQueueConfig
	// sets none.
	LabelLimits LabelLimits
}

// DefaultQueueConfig is used for zero fields of a QueueConfig: Prometheus's
// defaults, but for a larger minimum of shards, as a full resend is a burst.
var DefaultQueueConfig = QueueConfig{
	MinShards:            2,
	MaxShards:            50,
	MaxSamplesPerSend:    2000,
	Capacity:             10000,
	MinBackoff:           30 * time.Millisecond,
	MaxBackoff:           5 * time.Second,
	ReshardInterval:      10 * time.Second,
	ProtobufMessage:      MessageV1,
	MetadataSendInterval: time.Minute,
	MaxMetadataPerSend:   2000,
}

// Queue sends samples through parallel shards. A series always goes through the
// same shard and each shard sends in order, retrying a failed request until it
// succeeds, is refused for good (4xx), or the queue stops, so per series the
// receiver sees samples in the order given, also across a fallback from 2.0
// to 1.0 (the request is sent again as 1.0 before the shard goes on), a
// request sent again in halves (after a 413, or a 4xx for some of its
// samples: see split) and a change of the number of shards (the old shards
// are drained first).
type Queue struct {
	cfg      QueueConfig
	sender   Sender
	logger   *slog.Logger
	metrics  *queueMetrics
	seed     maphash.Seed
	limiter  *logLimiter
	stats    sendStats
	fellBack atomic.Bool
	families *familySet // nil when no 1.0 metadata is sent

	// labelLimits drops series over LabelLimits; nil without limits.
	labelLimits *labelLimiter

	// mu guards the shard set: WriteBatch holds it for reading, a reshard for
	// writing while it drains the old shards and starts the new ones.
	mu     sync.RWMutex
	shards []*shard
	epoch  int
}

// ProtobufMessage returns the message the queue sends now: the configured one,
// or MessageV1 after a fallback.
func (q *Queue) ProtobufMessage() ProtobufMessage {
	if q.cfg.ProtobufMessage == MessageV2 && !q.fellBack.Load() {
		return MessageV2
	}
	return MessageV1
}
