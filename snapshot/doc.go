// Package snapshot holds the state between the watches and the push: per
// object UID, the series the object produces now. Every change an object
// brings (an event, a relist, a resend round, a shard handover) becomes
// samples: new and changed values at once, a staleness marker for each series
// that ends, all with timestamps that strictly increase per series. They go to
// an Appender (the agent's batcher); what happens to them after that, WAL or
// queue, is not the snapshot's concern.
//
// The snapshot also owns what only it can answer from its state: the
// KSM-compatible /metrics rendering of its series (exposition.go), the holding
// and releasing of objects around a shard handover (handover.go), and the
// continuation of series known from before a restart (Restore, EndVanished).
//
// It must not import the agent or the WAL pipeline: it learns shard
// ownership through a func(uid string) bool, what the WAL knew through
// PrevSeries, and the time through its clock (WithClock), so that it can be
// tested alone with exact timestamps. It starts no goroutines; ResendSpread
// runs on its caller's. Every exported method takes the snapshot's lock and is
// safe for concurrent use.
package snapshot
