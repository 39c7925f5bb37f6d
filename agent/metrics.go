package agent

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the agent's own series on the telemetry endpoint. The
// snapshot's (series and objects held, events out of order) are its own:
// snapshot.Metrics.
type metrics struct {
	events         *prometheus.CounterVec
	invalidObjects *prometheus.CounterVec
	relists        *prometheus.CounterVec
	pendingSamples prometheus.GaugeFunc
	pendingWait    prometheus.CounterFunc
	ready          prometheus.Gauge
	lists          *prometheus.CounterVec
	watches        *prometheus.CounterVec
	rvResets       *prometheus.CounterVec
	serverSharding *prometheus.GaugeVec
}

// pendingSource is what the metrics read of the batcher.
type pendingSource interface {
	Pending() int
	Waited() time.Duration
}

// newMetrics registers the agent's metrics in reg (nil: none); b may be nil
// in tests.
func newMetrics(reg prometheus.Registerer, b pendingSource) *metrics {
	pending, waited := func() float64 { return 0 }, func() float64 { return 0 }
	if b != nil {
		pending = func() float64 { return float64(b.Pending()) }
		waited = func() float64 { return b.Waited().Seconds() }
	}
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_events_total",
			Help: "Watch events applied to the snapshot, by resource and type (add, update, delete).",
		}, []string{"resource", "type"}),
		invalidObjects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_invalid_objects_total",
			Help: "Objects dropped because they were of an unexpected type or had no UID.",
		}, []string{"resource"}),
		relists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_relists_total",
			Help: "Lists after the initial one (a watch that expired or failed), by resource.",
		}, []string{"resource"}),
		pendingSamples: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kube_state_push_pending_samples",
			Help: "Samples produced by the snapshot and not yet handed to the remote-write queue.",
		}, pending),
		pendingWait: prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "kube_state_push_pending_wait_seconds_total",
			Help: "Time the snapshot, and so the watches, waited because --max-pending-samples samples were pending (the queue or the WAL took no more).",
		}, waited),
		ready: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_ready",
			Help: "1 once every resource's initial list is applied and the first full push succeeded.",
		}),
		lists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_list_total",
			Help: "List calls to the apiserver, by resource and result (success, error).",
		}, []string{"resource", "result"}),
		watches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_watch_total",
			Help: "Watch calls to the apiserver, by resource and result (success, error).",
		}, []string{"resource", "result"}),
		rvResets: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_resource_version_resets_total",
			Help: "Watches not resumed because the apiserver's resourceVersion went back (etcd restored from a backup); each is followed by a list, by resource.",
		}, []string{"resource"}),
		serverSharding: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_server_side_sharding",
			Help: "With --server-side-sharding, by resource: 1 when the apiserver applied the shard selector to the last response, 0 when the agent filters the shard's objects itself.",
		}, []string{"resource"}),
	}
	if reg != nil {
		reg.MustRegister(m.events, m.invalidObjects, m.relists, m.pendingSamples, m.pendingWait, m.ready, m.lists, m.watches, m.rvResets,
			m.serverSharding)
	}
	return m
}
