package agent

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/remotewrite"
	"github.com/kube-state-push/kube-state-push/series"
)

// endpointSpec is one remote-write destination as the agent needs it.
type endpointSpec struct {
	// name identifies the endpoint in logs, metrics and its WAL cursor.
	name string
	url  string
	// shown is the URL (or a description) safe to log: no credentials.
	shown   string
	client  *http.Client
	timeout time.Duration
	queue   remotewrite.QueueConfig
}

// endpoint is a remote-write destination and its queue.
type endpoint struct {
	name  string
	queue *remotewrite.Queue
}

func newEndpoint(s endpointSpec, version string, reg prometheus.Registerer, logger *slog.Logger) *endpoint {
	ereg := prometheus.WrapRegistererWith(prometheus.Labels{"endpoint": s.name}, reg)
	client := remotewrite.NewClient(s.url, userAgent(version), s.timeout, s.client)
	return &endpoint{name: s.name, queue: remotewrite.NewQueue(s.queue, client, ereg, logger.With("endpoint", s.name))}
}

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

// endpointSpecs returns the destinations the configuration names: the
// --remote-write-url short form.
func endpointSpecs(c *Config) []endpointSpec {
	return []endpointSpec{{
		name:    "default",
		url:     c.RemoteWriteURL,
		shown:   redactURL(c.RemoteWriteURL),
		timeout: c.RemoteTimeout,
		queue:   remotewrite.QueueConfig{MaxSamplesPerSend: c.MaxSamplesPerSend},
	}}
}
