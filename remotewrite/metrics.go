package remotewrite

import "github.com/prometheus/client_golang/prometheus"

type queueMetrics struct {
	samplesSent    prometheus.Counter
	bytesSent      prometheus.Counter
	requests       *prometheus.CounterVec
	samplesDropped *prometheus.CounterVec
	sendDuration   prometheus.Histogram
	pending        prometheus.Gauge
	lag            prometheus.Histogram
	shards         prometheus.Gauge
}

func newQueueMetrics(reg prometheus.Registerer) *queueMetrics {
	m := &queueMetrics{
		samplesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_samples_sent_total",
			Help: "Samples the receiver accepted (2xx).",
		}),
		bytesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_bytes_sent_total",
			Help: "Compressed request bytes the receiver accepted.",
		}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_requests_total",
			Help: "Remote-write requests by result: success, retried (failed and retried: 5xx, 429, network) or dropped (refused with another 4xx).",
		}, []string{"result"}),
		samplesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_samples_dropped_total",
			Help: "Samples that were never delivered, by reason (http_<code>, encode, shutdown).",
		}, []string{"reason"}),
		sendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kube_state_push_remote_write_send_duration_seconds",
			Help:    "Duration of remote-write requests, successful or not.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2, 15),
		}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_remote_write_pending_samples",
			Help: "Samples in the remote-write queue, not yet sent or dropped.",
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kube_state_push_remote_write_sample_lag_seconds",
			Help:    "Time from a sample's timestamp (the event or resend that produced it) to its delivery.",
			Buckets: []float64{0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300},
		}),
		shards: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_remote_write_shards",
			Help: "Parallel senders of the remote-write queue.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.samplesSent, m.bytesSent, m.requests, m.samplesDropped, m.sendDuration, m.pending, m.lag, m.shards)
	}
	return m
}
