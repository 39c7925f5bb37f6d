package ha

import (
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kube-state-push/kube-state-push/series"
)

// Label names of the Mimir and Cortex HA tracker, their defaults for
// -distributor.ha-tracker.cluster and -distributor.ha-tracker.replica (per
// tenant: ha_cluster_label, ha_replica_label). The receiver keeps the cluster
// label and drops the replica label from what it stores.
const (
	DefaultClusterLabel = "cluster"
	DefaultReplicaLabel = "__replica__"
)

// MaxReplicaSendInterval is the longest a replica should go without sending
// in replica-labels mode, at the HA tracker's defaults. The tracker stores
// the elected replica's last push only when more than its update timeout
// (15s) plus jitter (up to 5s) has passed since the stored one, and fails
// over when a sample of another replica arrives more than its failover
// timeout (30s) after the stored push. The stored time thus lags the last
// push by up to 20s plus the gap between pushes, and a gap of over
// 30s-20s = 10s lets a quiet cluster flap between replicas.
const MaxReplicaSendInterval = 10 * time.Second

// ReplicaLabelConfig configures the labels of replica-labels mode.
type ReplicaLabelConfig struct {
	// Cluster is the value of the cluster label: the same on every replica
	// that sends the same series, and required.
	Cluster string
	// Replica is the value of the replica label: different on every replica,
	// and required; the pod name.
	Replica string
	// ClusterLabel and ReplicaLabel are the label names, DefaultClusterLabel
	// and DefaultReplicaLabel when empty. They must match the receiver's.
	ClusterLabel string
	ReplicaLabel string
}

var labelNameRE = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)

// ReplicaLabels returns the two labels to add to every series as external
// labels, sorted by name, or an error wrapping ErrInvalidConfig. Every replica
// sends every series with them, and the receiver keeps the samples of one
// replica per cluster value.
func ReplicaLabels(cfg ReplicaLabelConfig) ([]series.Label, error) {
	if cfg.ClusterLabel == "" {
		cfg.ClusterLabel = DefaultClusterLabel
	}
	if cfg.ReplicaLabel == "" {
		cfg.ReplicaLabel = DefaultReplicaLabel
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
	}
	for _, n := range []struct{ what, name string }{{"cluster label", cfg.ClusterLabel}, {"replica label", cfg.ReplicaLabel}} {
		switch {
		case !labelNameRE.MatchString(n.name):
			return nil, bad("%s name %q is not a valid label name ([a-zA-Z_][a-zA-Z0-9_]*)", n.what, n.name)
		case n.name == series.MetricName:
			return nil, bad("%s name must not be %s", n.what, series.MetricName)
		}
	}
	switch {
	case cfg.ClusterLabel == cfg.ReplicaLabel:
		return nil, bad("cluster and replica label are both named %q", cfg.ClusterLabel)
	case strings.HasPrefix(cfg.ClusterLabel, "__"):
		// The receiver stores the cluster label, and the remote-write spec
		// reserves names starting with __ (SHOULD NOT send them). The replica
		// label is the exception the HA tracker makes: it never gets stored.
		return nil, bad("cluster label name %q starts with __, which is reserved, and the receiver stores this label", cfg.ClusterLabel)
	case cfg.Cluster == "":
		return nil, bad("the cluster label's value is empty (an empty label is no label, and the receiver would not deduplicate)")
	case cfg.Replica == "":
		return nil, bad("the replica label's value is empty (an empty label is no label, and the receiver would not deduplicate)")
	case !utf8.ValidString(cfg.Cluster):
		return nil, bad("the cluster label's value is not valid UTF-8")
	case !utf8.ValidString(cfg.Replica):
		return nil, bad("the replica label's value is not valid UTF-8")
	}
	ls := []series.Label{{Name: cfg.ClusterLabel, Value: cfg.Cluster}, {Name: cfg.ReplicaLabel, Value: cfg.Replica}}
	if ls[1].Name < ls[0].Name {
		ls[0], ls[1] = ls[1], ls[0]
	}
	return ls, nil
}

// ValidateReplicaSendInterval returns an error wrapping ErrInvalidConfig when
// d, the longest gap between two pushes of a replica (the resend interval, or
// a heartbeat's), exceeds MaxReplicaSendInterval.
func ValidateReplicaSendInterval(d time.Duration) error {
	if d > MaxReplicaSendInterval {
		return fmt.Errorf("%w: in replica-labels mode a replica must push at least every %s (HA tracker defaults: "+
			"failover timeout 30s minus update timeout 15s and jitter 5s); %s is too long and lets the receiver flap between replicas",
			ErrInvalidConfig, MaxReplicaSendInterval, d)
	}
	return nil
}
