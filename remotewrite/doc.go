// Package remotewrite sends samples to a Prometheus Remote-Write 1.0 endpoint.
//
// Client does one POST of a snappy-compressed prompb.WriteRequest and classifies
// the answer. Queue spreads samples over shards by series, so a series always
// travels through the same shard in order, batches them, and retries with
// exponential backoff. Queue.Run owns the shard goroutines.
package remotewrite
