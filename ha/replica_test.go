package ha

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kube-state-push/kube-state-push/series"
)

func TestReplicaLabels(t *testing.T) {
	f := func(cfg ReplicaLabelConfig, want []series.Label) {
		t.Helper()
		got, err := ReplicaLabels(cfg)
		if err != nil {
			t.Fatalf("ReplicaLabels(%+v): %v", cfg, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ReplicaLabels(%+v) = %v, want %v", cfg, got, want)
		}
	}
	// __replica__ sorts before cluster ('_' < 'c').
	f(ReplicaLabelConfig{Cluster: "prod-eu", Replica: "ksp-0"},
		[]series.Label{{Name: "__replica__", Value: "ksp-0"}, {Name: "cluster", Value: "prod-eu"}})
	f(ReplicaLabelConfig{Cluster: "prod-eu", Replica: "ksp-1", ClusterLabel: "ha_cluster", ReplicaLabel: "ha_replica"},
		[]series.Label{{Name: "ha_cluster", Value: "prod-eu"}, {Name: "ha_replica", Value: "ksp-1"}})
	f(ReplicaLabelConfig{Cluster: "c", Replica: "r", ClusterLabel: "zone", ReplicaLabel: "replica"},
		[]series.Label{{Name: "replica", Value: "r"}, {Name: "zone", Value: "c"}})
}

func TestReplicaLabelsInvalid(t *testing.T) {
	ok := ReplicaLabelConfig{Cluster: "prod", Replica: "ksp-0"}
	f := func(name string, mutate func(*ReplicaLabelConfig), wantErr string) {
		t.Helper()
		c := ok
		mutate(&c)
		_, err := ReplicaLabels(c)
		if err == nil || !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%s: %v, want ErrInvalidConfig containing %q", name, err, wantErr)
		}
	}
	f("no cluster", func(c *ReplicaLabelConfig) { c.Cluster = "" }, "cluster label's value is empty")
	f("no replica", func(c *ReplicaLabelConfig) { c.Replica = "" }, "replica label's value is empty")
	f("bad cluster label", func(c *ReplicaLabelConfig) { c.ClusterLabel = "k8s-cluster" }, `cluster label name "k8s-cluster" is not a valid label name`)
	f("bad replica label", func(c *ReplicaLabelConfig) { c.ReplicaLabel = "0replica" }, `replica label name "0replica"`)
	f("__name__", func(c *ReplicaLabelConfig) { c.ReplicaLabel = "__name__" }, "must not be __name__")
	f("same names", func(c *ReplicaLabelConfig) { c.ClusterLabel, c.ReplicaLabel = "x", "x" }, `both named "x"`)
	f("reserved cluster label", func(c *ReplicaLabelConfig) { c.ClusterLabel = "__cluster__" }, "reserved")
	f("invalid UTF-8", func(c *ReplicaLabelConfig) { c.Cluster = "\xff" }, "not valid UTF-8")
}

func TestValidateReplicaSendInterval(t *testing.T) {
	if err := ValidateReplicaSendInterval(10 * time.Second); err != nil {
		t.Errorf("10s: %v", err)
	}
	if err := ValidateReplicaSendInterval(30 * time.Second); !errors.Is(err, ErrInvalidConfig) || !strings.Contains(err.Error(), "30s is too long") {
		t.Errorf("30s: %v", err)
	}
}
