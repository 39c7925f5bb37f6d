package wal

import (
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	reg        prometheus.Registerer
	registered []prometheus.Collector

	records       prometheus.Counter
	appendedBytes prometheus.Counter
	fsyncs        prometheus.Counter
	fsyncDuration prometheus.Histogram
	repairs       prometheus.Counter
	repairBytes   prometheus.Counter
	noSpace       prometheus.Counter
}

// newMetrics builds the WAL's metrics and registers them with reg, if not nil.
func newMetrics(reg prometheus.Registerer, w *WAL) (*metrics, error) {
	m := &metrics{
		reg: reg,
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_records_appended_total",
			Help: "Records appended to the WAL.",
		}),
		appendedBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_bytes_appended_total",
			Help: "Bytes appended to the WAL, record headers included.",
		}),
		fsyncs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_fsyncs_total",
			Help: "Successful fsyncs of WAL segments and of the WAL directory by Sync and segment rolls.",
		}),
		fsyncDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "kube_state_push_wal_fsync_duration_seconds",
			Help:    "Duration of successful WAL fsyncs.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		repairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_repairs_total",
			Help: "Segments cut at a corrupt or torn record when the WAL was opened.",
		}),
		repairBytes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_repair_bytes_cut_total",
			Help: "Bytes removed from WAL segments by repairs.",
		}),
		noSpace: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_wal_no_space_writes_total",
			Help: "Writes of WAL segments refused because the device was full; the records stay buffered.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	all := []prometheus.Collector{
		m.records, m.appendedBytes, m.fsyncs, m.fsyncDuration, m.repairs, m.repairBytes, m.noSpace,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_bytes",
			Help: "Bytes of all WAL segments on disk, buffered appends included.",
		}, func() float64 { return float64(w.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "kube_state_push_wal_segments",
			Help: "WAL segment files, the active one included.",
		}, func() float64 { return float64(len(w.Segments())) }),
	}
	for _, c := range all {
		if err := reg.Register(c); err != nil {
			m.unregister()
			return nil, fmt.Errorf("register wal metrics: %w", err)
		}
		m.registered = append(m.registered, c)
	}
	return m, nil
}

func (m *metrics) observeFsync(start time.Time) {
	m.fsyncs.Inc()
	m.fsyncDuration.Observe(time.Since(start).Seconds())
}

// unregister removes the metrics from the registry, so that a reopened WAL can
// register its own.
func (m *metrics) unregister() {
	for _, c := range m.registered {
		m.reg.Unregister(c)
	}
	m.registered = nil
}
