package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestLeaderFailover runs two agents in leader mode against one apiserver and
// one Prometheus, kills the leader with SIGKILL, and checks that the standby
// takes over within the lease duration, with no out-of-order rejection.
func TestLeaderFailover(t *testing.T) {
	ns := "e2e-ha"
	createNamespace(t, ns)
	const lease = 4 * time.Second
	pod := fmt.Sprintf("p-%d", time.Now().UnixNano()%1e9) // a new series each run
	createPendingPod(t, ns, pod)
	flags := func(id string) []string {
		return []string{"--resources", "pods", "--namespaces", ns, "--ha-mode", "leader", "--ha-identity", id,
			"--ha-lease-name", "e2e-failover", "--ha-lease-namespace", "default",
			"--ha-lease-duration", lease.String(), "--ha-renew-deadline", "2s", "--ha-retry-period", "500ms"}
	}
	agents := map[string]*agentProc{"a": startAgentFlags(t, flags("a")...)}
	agents["b"] = startAgentFlags(t, flags("b")...)

	leader := func() (string, error) {
		var leaders []string
		for id, a := range agents {
			if a.cmd.ProcessState == nil && a.metric("kube_state_push_ha_leading") == 1 {
				leaders = append(leaders, id)
			}
		}
		if len(leaders) != 1 {
			return "", fmt.Errorf("leaders: %v", leaders)
		}
		return leaders[0], nil
	}
	var first string
	eventually(t, 30*time.Second, "one leader", func() (err error) { first, err = leader(); return err })
	q := fmt.Sprintf(`kube_pod_status_phase{namespace="e2e-ha",pod=%q,phase="Pending"}`, pod)
	eventually(t, 10*time.Second, "the leader sends", func() error { return queryValue(q, 1) })
	time.Sleep(2 * resendInterval)

	agents[first].kill9(t)
	killed := time.Now()
	var second string
	eventually(t, 3*lease, "the standby takes over", func() (err error) { second, err = leader(); return err })
	if second == first {
		t.Fatalf("the killed agent is still the leader")
	}
	time.Sleep(3 * resendInterval)

	ts, err := queryRaw(q, time.Since(killed)+4*resendInterval)
	if err != nil {
		t.Fatal(err)
	}
	var gap time.Duration
	var resumed time.Time
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
		if resumed.IsZero() && ts[i].After(killed) {
			resumed = ts[i]
		}
	}
	t.Logf("killed the leader %s; standby %s sent again after %s; longest gap %s", first, second, resumed.Sub(killed), gap)
	if resumed.IsZero() || resumed.Sub(killed) > lease+3*time.Second {
		t.Errorf("the standby's first sample came %s after the kill, lease is %s", resumed.Sub(killed), lease)
	}
	// The old leader's last resend can be up to one interval before the kill.
	if gap > lease+resendInterval+2*time.Second {
		t.Errorf("gap of %s in an unchanged series", gap)
	}
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
}

// TestReplicaLabels: every replica sends, with the cluster and __replica__
// labels of the Mimir/Cortex HA tracker.
func TestReplicaLabels(t *testing.T) {
	ns := "e2e-replicas"
	createNamespace(t, ns)
	pod := fmt.Sprintf("p-%d", time.Now().UnixNano()%1e9) // a new series each run
	createPendingPod(t, ns, pod)
	for _, r := range []string{"r1", "r2"} {
		startAgentFlags(t, "--resources", "pods", "--namespaces", ns, "--ha-mode", "replica-labels", "--ha-cluster", "e2e-ha", "--ha-replica", r)
		q := fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod=%q,phase="Pending",cluster="e2e-ha",__replica__=%q}`, ns, pod, r)
		eventually(t, 10*time.Second, "series of replica "+r, func() error { return queryValue(q, 1) })
	}
	out, err := exec.Command(env.binary, "--kubeconfig", env.kubeconfig, "--remote-write-url", env.promURL+"/api/v1/write",
		"--ha-mode", "replica-labels").CombinedOutput()
	if code := exitCode(err); code != 2 || !strings.Contains(string(out), "--ha-mode=replica-labels") {
		t.Errorf("replica-labels without --ha-cluster: exit %d, %s", code, out)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}
