// Package wal will hold kube-state-push's write-ahead log: batches of samples
// written to disk before they are sent, so that nothing is lost across restarts
// and receiver outages.
//
// The seam is agent.BatchWriter: the batcher hands every batch to it, and a WAL
// that implements it (appending durably, then forwarding to the remote-write
// queue and advancing an acknowledgement cursor) slots in between the batcher and
// remotewrite.Queue without changing either.
package wal
