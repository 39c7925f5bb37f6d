package ha

import "fmt"

// Modes of --ha-mode.
const (
	// ModeNone runs one replica (per shard); it is also the empty string.
	ModeNone = "none"
	// ModeLeader runs replicas that elect a leader on a Lease; only the leader
	// sends.
	ModeLeader = "leader"
	// ModeReplicaLabels runs replicas that all send, labelled for the
	// receiver's HA deduplication (Mimir, Cortex, Amazon Managed Prometheus).
	ModeReplicaLabels = "replica-labels"
)

// ValidateMode checks mode, and its combination with sharding, and returns an
// error wrapping ErrInvalidConfig that says why and what to use instead.
//
//   - none: sharded or not.
//   - leader: sharded or not. Sharded, the replicas of one shard compete for
//     that shard's Lease (ShardLeaseName), never one Lease for all shards,
//     which would leave every shard but one unsent.
//   - replica-labels: not sharded. The HA tracker elects one replica per
//     cluster label value, so shards sharing a cluster value would discard
//     each other's series, and a cluster value per shard would split the
//     cluster label that queries and dashboards select on.
func ValidateMode(mode string, sharded bool) error {
	switch mode {
	case "", ModeNone, ModeLeader:
		return nil
	case ModeReplicaLabels:
		if sharded {
			return fmt.Errorf("%w: --ha-mode=%s cannot be combined with sharding: the receiver keeps one replica per cluster label value, "+
				"so shards would discard each other's series; use --ha-mode=%s, which elects a leader per shard",
				ErrInvalidConfig, ModeReplicaLabels, ModeLeader)
		}
		return nil
	default:
		return fmt.Errorf("%w: --ha-mode=%q: want %s, %s or %s", ErrInvalidConfig, mode, ModeNone, ModeLeader, ModeReplicaLabels)
	}
}
