// Package remotewrite sends samples to a Prometheus Remote-Write endpoint, as
// 1.0 (prometheus.WriteRequest, the default) or 2.0 (io.prometheus.write.v2.Request).
//
// Client does one POST of a snappy-compressed request and classifies the
// answer, reading a 2.0 receiver's Written headers. Queue spreads samples over
// shards by series, so a series always travels through the same shard in
// order, batches them, and retries with exponential backoff. With 2.0
// configured, a receiver that does not take it (415, or 2xx without Written
// headers) makes the queue resend the same samples as 1.0 and stay on 1.0. With
// 1.0 the queue sends family metadata in separate requests, periodically.
// Queue.Run owns the shard goroutines and the metadata sender.
package remotewrite
