// Package agent wires kube-state-push together and runs it: one list/watch per
// resource (and namespace) feeding the snapshot (package snapshot), the
// snapshot's samples batched into the remote-write queues, through the WAL
// (package walpipe) with --wal-dir, a resend of every live series each resend
// interval, and the telemetry endpoint (/metrics, /healthz, /readyz). With
// --metrics-address it also serves the snapshot as kube-state-metrics'
// /metrics (metricsserver.go; the rendering is the snapshot's), on each scrape.
// Sharded (--shard/--total-shards, or --pod for a StatefulSet, found in
// statefulset.go), it sends only its share of the objects; sharding.go states
// how a series is handed over between shards when the StatefulSet scales, and
// shardrange.go how the apiserver is asked for the shard's objects only
// (--server-side-sharding).
//
// With a custom resource state config (crsconfig.go), customresources.go
// watches the CustomResourceDefinitions (crdstore.go), binds the config's
// resources to what is served, and lists and watches each binding through the
// dynamic client on the same reflector path, with a snapshot set of its own;
// crserrors.go counts and logs the objects' field errors.
//
// runOnce builds the pipeline step by step in the order the data flows; the
// steps hold no logic of their own beyond choosing and connecting the parts.
// What an object's series are is the collectors'; what a change sends, and
// when, the snapshot's; how it survives a restart, the WAL pipeline's. The
// agent owns what ties them to the cluster and the process: the client, the
// watches and their filters, the shard assignment, leader election, the
// configuration and its reload, the HTTP servers.
//
// Run owns every goroutine it starts. On cancellation it stops the watches,
// flushes what is pending for up to the flush deadline, then aborts the rest.
package agent
