// Package walpipe is the write-ahead log between the agent's batcher and the
// remote-write queues: the Sink appends each batch as a record and fsyncs it,
// and one sender per endpoint reads the WAL from that endpoint's cursor and
// feeds its queue in order, moving the cursor, durably, only past what the
// queue has delivered or definitively dropped. A crash or a receiver outage
// therefore loses nothing the Sink accepted; the backlog is sent on restart.
//
// The package owns the records the agent writes (record.go: samples, resend
// markers, handovers, the shard assignment), what a restart learns from them
// (scanWAL: the series known and which were live, as snapshot.PrevSeries), and
// the WAL's space (truncation once delivered, compaction and drops at the
// size cap, state.go). The storage itself, segments, cursors and repair, is
// package wal's.
//
// It must not import the agent: it takes its settings as Options, its
// endpoints as Endpoint values, and feeds a Queue, the few methods of
// *remotewrite.Queue it calls, so that it can be tested with any queue. It
// imports snapshot only for the type it hands the snapshot. Run owns the
// goroutines it starts and returns once they have stopped.
package walpipe
