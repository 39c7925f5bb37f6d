package agent

import "github.com/prometheus/client_golang/prometheus"

// metrics are the agent's own series on the telemetry endpoint.
type metrics struct {
	events           *prometheus.CounterVec
	eventsOutOfOrder *prometheus.CounterVec
	invalidObjects   *prometheus.CounterVec
	relists          *prometheus.CounterVec
	snapshotSeries   *prometheus.GaugeVec
	snapshotObjects  *prometheus.GaugeVec
	pendingSamples   prometheus.GaugeFunc
	ready            prometheus.Gauge
	lists            *prometheus.CounterVec
	watches          *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer, pending func() float64) *metrics {
	m := &metrics{
		events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_events_total",
			Help: "Watch events applied to the snapshot, by resource and type (add, update, delete).",
		}, []string{"resource", "type"}),
		eventsOutOfOrder: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_events_out_of_order_total",
			Help: "Events dropped because their resourceVersion is older than the one stored for the object.",
		}, []string{"resource"}),
		invalidObjects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_invalid_objects_total",
			Help: "Objects dropped because they were of an unexpected type or had no UID.",
		}, []string{"resource"}),
		relists: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_relists_total",
			Help: "Lists after the initial one (a watch that expired or failed), by resource.",
		}, []string{"resource"}),
		snapshotSeries: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_snapshot_series",
			Help: "Live series in the snapshot, by resource.",
		}, []string{"resource"}),
		snapshotObjects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_snapshot_objects",
			Help: "Objects in the snapshot, by resource.",
		}, []string{"resource"}),
		pendingSamples: prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kube_state_push_pending_samples",
			Help: "Samples produced by the snapshot and not yet handed to the remote-write queue.",
		}, pending),
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
	}
	if reg != nil {
		reg.MustRegister(m.events, m.eventsOutOfOrder, m.invalidObjects, m.relists,
			m.snapshotSeries, m.snapshotObjects, m.pendingSamples, m.ready, m.lists, m.watches)
	}
	return m
}
