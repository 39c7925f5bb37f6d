package snapshot

import "github.com/prometheus/client_golang/prometheus"

// Metrics are the snapshot's own series on the telemetry endpoint: what it
// holds, per resource, and the events it refused.
type Metrics struct {
	series     *prometheus.GaugeVec
	objects    *prometheus.GaugeVec
	outOfOrder *prometheus.CounterVec
}

// NewMetrics returns the snapshot's metrics, registered with reg unless reg
// is nil.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		series: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_snapshot_series",
			Help: "Live series in the snapshot, by resource.",
		}, []string{"resource"}),
		objects: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "kube_state_push_snapshot_objects",
			Help: "Objects in the snapshot, by resource.",
		}, []string{"resource"}),
		outOfOrder: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_events_out_of_order_total",
			Help: "Events dropped because their resourceVersion is older than the one stored for the object.",
		}, []string{"resource"}),
	}
	if reg != nil {
		reg.MustRegister(m.series, m.objects, m.outOfOrder)
	}
	return m
}
