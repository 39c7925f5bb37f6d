// Package ha runs kube-state-push as several replicas, in one of two modes.
//
// Leader mode (--ha-mode=leader): the replicas elect a leader on a
// coordination.k8s.io Lease (Elector: client-go's leader election renews it,
// a standby watches it), and only the leader sends. A standby keeps its
// watches and snapshot warm and takes over within the lease duration,
// continuing every series' timestamps in order. Replica-labels mode (--ha-mode=replica-labels): every replica
// sends, with the cluster and __replica__ labels of the Mimir and Cortex HA
// tracker (ReplicaLabels), and the receiver keeps one replica's samples.
// ValidateMode says which modes combine with sharding, and LeaseRules gives
// the RBAC rules leader mode needs.
//
// The Elector owns its goroutines: Run blocks until its context is done and
// returns after they have ended. New starts nothing.
//
// # How long a failover takes
//
// client-go's elector renews the Lease while this replica leads; a standby
// does not run it. A standby watches its Lease (a watch on one name) and
// dates every write to it, each of which changes its resourceVersion, from
// when the watch delivers it. The moment the holder's lease duration has
// passed since the last write it saw, it writes itself into the Lease, with
// the resourceVersion it saw as precondition, so that only one of several
// standbys wins and none wins over a renewal its watch has missed; a lost
// race or a failed write sends it back to reading the Lease. A released Lease
// (no holder) is taken at once. client-go's own standby polls every
// RetryPeriod with jitter, both to see renewals and to try to take over, and
// takes over up to 4.4 RetryPeriods later than that.
//
// So a leader that stops cleanly, releasing the Lease, is replaced within a
// watch delivery and one write. A leader that dies without releasing it is
// replaced LeaseDuration after its last renewal, plus that delivery and
// write: as the leader renews every RetryPeriod, that is between
// LeaseDuration-RetryPeriod and LeaseDuration after the death. The new leader
// resends every live series at once (rule 3 below).
//
// # Why terms never overlap, and timestamps stay in order
//
// Leadership comes in terms (Term). Let s be the start of the leader A's last
// successful renewal. A's term ends, on A's clock, at s+RenewDeadline: IsLeader
// and Term.Active turn false then, whether or not A can still reach the
// apiserver. A standby B takes over only by writing the Lease after it has
// seen A's record unchanged for LeaseDuration on its own clock, dating the
// record from when it saw it, after A wrote it. So B's term starts more than
// LeaseDuration after s, and A's ends RenewDeadline after s; Config requires
// LeaseDuration >= RenewDeadline+1s. Both are durations, each measured on one
// monotonic clock: the election does not depend on the clocks agreeing, only
// on them running at about the same rate (within LeaseDuration/RenewDeadline,
// 1.5 at the defaults), as client-go documents. Terms are
// LeaseDuration-RenewDeadline apart or more (5s at the defaults).
//
// Samples carry wall-clock time. A's last sample is stamped at most
// wall_A(s+RenewDeadline); B sends only samples stamped at or after
// Term.Start, later than wall_B(s+LeaseDuration). So each series continues in
// order across a takeover as long as the replicas' wall clocks are less than
// LeaseDuration-RenewDeadline apart (5s at the defaults; NTP keeps nodes
// within milliseconds). With a larger offset the receiver rejects, as out of
// order, B's first samples of the series A sent last, until B's clock passes
// A's last timestamps; later resends then go through, so the damage is
// bounded by the offset minus the margin.
//
// A request A started before its term ended may still be in flight when B
// starts. Its samples are older than all of B's; if it lands after B's first
// sample of one of its series, the receiver rejects it as out of order (400 or
// 409, not retried). That loses only history from the handover window, never
// current state, which B's full resend carries. A clean shutdown has no such
// race: A finishes sending before it releases the Lease (rule 6 below).
//
// # What the pipeline must do in leader mode
//
//  1. Standby. Watches, snapshot and resends run as usual, so the snapshot
//     stays warm and its per-series timestamps keep advancing. A gate in front
//     of the BatchWriter (before the WAL, so a standby writes nothing) drops
//     every batch unless the current term is Active, and drops samples stamped
//     before the term's Start (a batch filled while standby). A standby is
//     ready (/readyz) once its initial lists are applied; it never makes a
//     first push, and a rollout must not wait for one.
//  2. Campaign only once the initial lists are applied (call Run after the
//     snapshot is synced), so that a new leader has the whole state to send.
//  3. On becoming leader (OnStartedLeading, or WaitLeader returning), at once
//     resend every live series (Snapshot.Resend stamps them now, after Start),
//     then send a staleness marker for each series that ended while standby,
//     within the last 5 minutes (the query lookback), and is not live again:
//     the standby dropped those markers, and the old leader may have stopped
//     before sending them. Do this on the pipeline's goroutine, not in the
//     callback, which must return quickly. With a WAL, bracket the resend with
//     the resend markers, as the periodic resend does.
//  4. While leading, check Term.Active right before each hand-off to the
//     writer, and before the sender starts a request, retries included. No
//     request carries a sample stamped before the current term's Start,
//     unless Term.Continues: WAL backlog from before the term is then sent
//     first, as on any restart, and otherwise skipped (acknowledged, not
//     sent), because another replica has sent newer samples of its series.
//  5. On losing leadership (Term.Context done, OnStoppedLeading, or Active
//     false): stop handing batches on at once; drop what is pending or queued
//     but not yet in a request, and count it. Requests already in flight may
//     complete; never retry them after the term ended. The Elector campaigns
//     again by itself.
//  6. Shutdown: stop the watches, flush while still leading (up to the flush
//     deadline), stop the sender and wait for it, and only then cancel the
//     Elector's context. By default it then releases the Lease and the standby
//     takes over at once instead of after LeaseDuration (client-go's
//     ReleaseOnCancel rule: what the Lease guards must be done).
//
// # Replica-labels mode
//
// Add ReplicaLabels as external labels to every series. Every replica pushes
// everything; the receiver keeps the elected replica's samples and fails over
// when it has heard nothing from it for its failover timeout. A replica must
// therefore push at least every MaxReplicaSendInterval, with a short resend
// interval or a heartbeat (ValidateReplicaSendInterval), or a quiet cluster
// flaps between replicas. Replicas stamp samples with their own clocks; the
// failover timeout (30s) dwarfs any sane clock offset.
package ha
