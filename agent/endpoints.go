package agent

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/rwconfig"
	"github.com/kube-state-push/kube-state-push/series"
)

// endpoint is a remote-write destination and its queue.
type endpoint struct {
	// name identifies the endpoint in logs and metrics, cursor its WAL cursor.
	name, cursor string
	queue        *remotewrite.Queue
}

// endpoints returns the destinations the configuration names: the remote_write
// entries of --config, and the --remote-write-url short form.
func endpoints(c *Config) ([]rwconfig.Endpoint, error) {
	eps := slices.Clone(c.RemoteWrite.RemoteWrite)
	if c.RemoteWriteURL != "" {
		ep, err := rwconfig.NewEndpoint("default", c.RemoteWriteURL)
		if err != nil {
			return nil, configErrorf("--remote-write-url: %w", err)
		}
		ep.Timeout = c.RemoteTimeout
		ep.Queue.MaxSamplesPerSend = c.MaxSamplesPerSend
		if slices.ContainsFunc(eps, func(e rwconfig.Endpoint) bool { return e.Name == ep.Name }) {
			return nil, configErrorf("--remote-write-url: a remote_write entry of --config is also named %q", ep.Name)
		}
		eps = append(eps, ep)
	}
	if len(eps) == 0 {
		return nil, configErrorf("no remote-write endpoint: set --remote-write-url, or remote_write in --config")
	}
	return eps, nil
}

// newEndpoint builds an endpoint's HTTP client and queue. Its metrics carry
// an endpoint label.
func newEndpoint(ctx context.Context, ep rwconfig.Endpoint, external []series.Label, version string,
	reg prometheus.Registerer, logger *slog.Logger) (*endpoint, error) {
	hc, err := ep.NewHTTPClient(ctx, userAgent(version))
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("remote_write %s: %w", ep.Name, err)}
	}
	qc := queueConfig(ep, external)
	ereg := prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": ep.Name}, reg)
	client := remotewrite.NewClient(ep.URL, userAgent(version), ep.Timeout, hc)
	return &endpoint{
		name:   ep.Name,
		cursor: ep.CursorName(),
		queue:  remotewrite.NewQueue(qc, client, ereg, logger.With("endpoint", ep.Name)),
	}, nil
}

// queueConfig maps an endpoint's queue_config, metadata_config,
// failed_request_logging, protobuf_message, write_relabel_configs and
// label_limits to its queue's configuration; its series get the external
// labels (the HA replica labels among them).
func queueConfig(ep rwconfig.Endpoint, external []series.Label) remotewrite.QueueConfig {
	qc := remotewrite.QueueConfig{
		MinShards:            ep.Queue.MinShards,
		MaxShards:            ep.Queue.MaxShards,
		MaxSamplesPerSend:    ep.Queue.MaxSamplesPerSend,
		Capacity:             ep.Queue.Capacity,
		MinBackoff:           ep.Queue.MinBackoff,
		MaxBackoff:           ep.Queue.MaxBackoff,
		DropOn429:            !ep.Queue.RetryOnHTTP429,
		SampleAgeLimit:       ep.Queue.SampleAgeLimit,
		FailedRequestLogging: ep.FailedRequestLogging,
		ProtobufMessage:      remotewrite.ProtobufMessage(ep.ProtobufMessage),
		Metadata:             familyMetadata(),
		MetadataSendInterval: ep.Metadata.SendInterval,
		MaxMetadataPerSend:   ep.Metadata.MaxSamplesPerSend,
		// Counted on the labels as sent: after the rules, with the
		// external labels, however they are added.
		LabelLimits: remotewrite.LabelLimits{
			MaxLabelNamesPerSeries: ep.LabelLimits.MaxLabelNamesPerSeries,
			MaxLabelNameLength:     ep.LabelLimits.MaxLabelNameLength,
			MaxLabelValueLength:    ep.LabelLimits.MaxLabelValueLength,
		},
	}
	if !ep.Metadata.Send {
		qc.MetadataSendInterval = -1
	}
	// Rules see the external labels, so with rules both are applied before a
	// sample is queued; external labels alone are added as it is encoded.
	if len(ep.Relabel) == 0 {
		qc.External = external
	} else {
		r := rwconfig.NewRelabeler(external, ep.Relabel)
		var mu sync.Mutex
		qc.Transform = func(ls series.Labels) (series.Labels, bool) {
			mu.Lock()
			defer mu.Unlock()
			return r.Process(ls)
		}
	}
	return qc
}

// familyMetadata returns the type and help of every family, by name.
var familyMetadata = sync.OnceValue(func() remotewrite.MetadataFunc {
	type meta struct{ typ, help string }
	m := map[string]meta{}
	for _, r := range collectors.All() {
		for _, f := range r.Families() {
			m[f.Name] = meta{string(f.Type), f.Help}
		}
	}
	return func(name string) (typ, help, unit string, ok bool) {
		x, ok := m[name]
		return x.typ, x.help, "", ok
	}
})

// fanout hands every batch to several endpoints' queues without a WAL. Each
// endpoint has its own bounded intake, so that a slow or dead endpoint never
// holds back the others: when its intake is full, its batches are dropped and
// counted.
type fanout struct {
	endpoints []*endpoint
	intakes   []chan []series.Sample
	waiting   []atomic.Int64 // batches given to an endpoint and not yet in its queue
	dropped   *prometheus.CounterVec
	logger    *slog.Logger
	limiter   map[string]time.Time
	mu        sync.Mutex
}

// intakeBatches is how many batches an endpoint may have waiting.
const intakeBatches = 256

var _ BatchWriter = (*fanout)(nil)

func newFanout(eps []*endpoint, reg prometheus.Registerer, logger *slog.Logger) *fanout {
	f := &fanout{
		endpoints: eps,
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_endpoint_intake_dropped_samples_total",
			Help: "Samples dropped for an endpoint whose intake was full (without a WAL, a slow endpoint does not hold back the others).",
		}, []string{"endpoint"}),
		logger:  logger,
		limiter: map[string]time.Time{},
	}
	if reg != nil {
		reg.MustRegister(f.dropped)
	}
	for range eps {
		f.intakes = append(f.intakes, make(chan []series.Sample, intakeBatches))
	}
	f.waiting = make([]atomic.Int64, len(eps))
	return f
}

// WriteBatch never blocks on an endpoint.
func (f *fanout) WriteBatch(_ context.Context, batch []series.Sample) error {
	for i, in := range f.intakes {
		f.waiting[i].Add(1)
		select {
		case in <- batch:
		default:
			f.waiting[i].Add(-1)
			name := f.endpoints[i].name
			f.dropped.WithLabelValues(name).Add(float64(len(batch)))
			f.mu.Lock()
			if time.Since(f.limiter[name]) > 10*time.Second {
				f.limiter[name] = time.Now()
				f.logger.Error("Endpoint too slow: dropped a batch (use --wal-dir to keep it)", "endpoint", name, "samples", len(batch))
			}
			f.mu.Unlock()
		}
	}
	return nil
}

// Flush waits until every endpoint has taken in and delivered what it was given.
func (f *fanout) Flush(ctx context.Context) error {
	for i, ep := range f.endpoints {
		for f.waiting[i].Load() > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Millisecond):
			}
		}
		if err := ep.queue.Flush(ctx); err != nil {
			return err
		}
	}
	return nil
}

// discard empties the intakes, once run has returned, and returns how many
// samples they held: at shutdown, samples never queued.
func (f *fanout) discard() int {
	n := 0
	for i, in := range f.intakes {
		for len(in) > 0 {
			n += len(<-in)
			f.waiting[i].Add(-1)
		}
	}
	return n
}

// run moves each endpoint's intake into its queue until ctx is done.
func (f *fanout) run(ctx context.Context) {
	var wg sync.WaitGroup
	for i, ep := range f.endpoints {
		wg.Go(func() {
			for {
				select {
				case <-ctx.Done():
					return
				case b := <-f.intakes[i]:
					err := ep.queue.WriteBatch(ctx, b)
					f.waiting[i].Add(-1)
					if err != nil {
						return
					}
				}
			}
		})
	}
	wg.Wait()
}
