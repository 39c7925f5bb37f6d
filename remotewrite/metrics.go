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
	filtered       prometheus.Counter
	unconfirmed    prometheus.Counter
	message        *prometheus.GaugeVec
	metadataSent   prometheus.Counter
	metadataDrop   prometheus.Counter
	// labelLimitDropped counts by family and reason the samples of series
	// over the LabelLimits.
	labelLimitDropped *prometheus.CounterVec
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
			Help: "Remote-write requests by result: success, retried (failed and retried: 5xx, 429, network), split (answered 413, or refused with a 4xx for some of its samples, and sent again in halves), dropped (refused with another 4xx) or fallback (a 2.0 request the receiver did not take, sent again as 1.0).",
		}, []string{"result"}),
		samplesDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_samples_dropped_total",
			Help: "Samples that were never delivered, by reason (http_<code>, too_old for sample_age_limit, encode, shutdown, not_leader; label_count, label_name_length, label_value_length for series over the endpoint's label_limits).",
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
		filtered: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_samples_filtered_total",
			Help: "Samples write_relabel_configs dropped on purpose for this endpoint.",
		}),
		shards: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_remote_write_shards",
			Help: "Parallel senders of the remote-write queue.",
		}),
		unconfirmed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_samples_unconfirmed_total",
			Help: "Samples of 2.0 requests answered with 2xx that the receiver did not count in X-Prometheus-Remote-Write-Samples-Written (a receiver that wrote less than it accepted).",
		}),
		message: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_remote_write_protobuf_message",
			Help: "1 for the Remote-Write protobuf message in use (prometheus.WriteRequest = 1.0, io.prometheus.write.v2.Request = 2.0), 0 for the other.",
		}, []string{"protobuf_message"}),
		metadataSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_metadata_sent_total",
			Help: "Family metadata entries the receiver accepted in 1.0 metadata requests (2.0 carries metadata with every series).",
		}),
		metadataDrop: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_metadata_dropped_total",
			Help: "Family metadata entries of 1.0 metadata requests the receiver refused (4xx).",
		}),
		labelLimitDropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_remote_write_label_limit_samples_dropped_total",
			Help: "Samples not sent because their series, as sent, is over the endpoint's label_limits, by family (metric name) and reason (label_count, label_name_length, label_value_length); also in samples_dropped_total.",
		}, []string{"family", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.samplesSent, m.bytesSent, m.requests, m.samplesDropped, m.sendDuration, m.pending, m.lag,
			m.unconfirmed, m.message, m.metadataSent, m.metadataDrop, m.shards, m.filtered, m.labelLimitDropped)
	}
	return m
}

// setMessage records msg as the protobuf message in use.
func (m *queueMetrics) setMessage(msg ProtobufMessage) {
	for _, v := range []ProtobufMessage{MessageV1, MessageV2} {
		x := 0.0
		if v == msg {
			x = 1
		}
		m.message.WithLabelValues(string(v)).Set(x)
	}
}
