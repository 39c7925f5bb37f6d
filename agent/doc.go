// Package agent wires kube-state-push together and runs it: one list/watch per
// resource (and namespace) feeding the snapshot, the snapshot's samples batched
// into the remote-write queue, a resend of every live series each resend
// interval, and the telemetry endpoint (/metrics, /healthz, /readyz). With
// --metrics-address it also serves the snapshot as kube-state-metrics'
// /metrics (metricsserver.go; the rendering is the snapshot's), on each scrape.
// Sharded (--shard/--total-shards, or --pod for a StatefulSet), it sends only
// its share of the objects; sharding.go states how a series is handed over
// between shards when the StatefulSet scales.
//
// Run owns every goroutine it starts. On cancellation it stops the watches,
// flushes what is pending for up to the flush deadline, then aborts the rest.
package agent
