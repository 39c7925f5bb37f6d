package e2e

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Leader election timing of the failover tests.
const (
	haLease = 4 * time.Second
	haRetry = 500 * time.Millisecond
	// haTakeover bounds how long a shard goes unsent after its leader dies
	// without releasing the Lease. The standby takes over LeaseDuration after
	// the leader's last renewal, which came at most a RetryPeriod before the
	// death, so within LeaseDuration of it; the new leader's first samples
	// follow a watch delivery, a Lease write and a resend later, which the
	// slack covers on a loaded machine.
	haTakeover = haLease + 300*time.Millisecond
)

// TestLeaderFailover runs two agents in leader mode against one apiserver and
// one Prometheus, kills the leader with SIGKILL and checks that the standby
// takes over within the lease duration, with no out-of-order rejection; then
// it restarts the killed agent (with its WAL, when there is one) as the
// standby, stops the new leader with SIGTERM, which releases the Lease, and
// checks that the restarted agent takes over at once and that its backlog
// from its old term is not sent over the newer samples.
func TestLeaderFailover(t *testing.T) {
	for _, mode := range []string{"memory", "wal"} {
		t.Run(mode, func(t *testing.T) { testLeaderFailover(t, "e2e-ha-"+mode, mode == "wal") })
	}
}

func testLeaderFailover(t *testing.T, ns string, withWAL bool) {
	createNamespace(t, ns)
	pod := fmt.Sprintf("p-%d", time.Now().UnixNano()%1e9) // a new series each run
	createPendingPod(t, ns, pod)
	lease := fmt.Sprintf("e2e-failover-%d", time.Now().UnixNano()%1e9)
	walDirs := map[string]string{"a": t.TempDir(), "b": t.TempDir()}
	flags := func(id string) []string {
		f := []string{"--resources", "pods", "--namespaces", ns, "--ha-mode", "leader", "--ha-identity", id,
			"--ha-lease-name", lease, "--ha-lease-namespace", "default",
			"--ha-lease-duration", haLease.String(), "--ha-renew-deadline", "2s", "--ha-retry-period", haRetry.String()}
		if withWAL {
			f = append(f, "--wal-dir", walDirs[id])
		}
		return f
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
	q := fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod=%q,phase="Pending"}`, ns, pod)
	eventually(t, 10*time.Second, "the leader sends", func() error { return queryValue(q, 1) })
	time.Sleep(2 * resendInterval)

	// 1. The leader dies without releasing the Lease.
	killed := time.Now()
	agents[first].kill9(t)
	var second string
	eventually(t, 3*haLease, "the standby takes over", func() (err error) { second, err = leader(); return err })
	if second == first {
		t.Fatalf("the killed agent is still the leader")
	}
	time.Sleep(3 * resendInterval)
	resumed, gap := failoverGap(t, q, killed)
	t.Logf("killed the leader %s with SIGKILL; standby %s sent again after %s (lease %s, bound %s); longest gap %s",
		first, second, resumed.Sub(killed), haLease, haTakeover, gap)
	if resumed.IsZero() || resumed.Sub(killed) > haTakeover {
		t.Errorf("the standby's first sample came %s after the kill, more than %s", resumed.Sub(killed), haTakeover)
	}
	// The old leader's last resend can be up to one interval before the kill.
	if gap > resendInterval+haTakeover {
		t.Errorf("gap of %s in an unchanged series", gap)
	}

	// 2. The killed agent comes back (with its WAL) as the standby; the leader
	// stops cleanly and hands over at once.
	agents[first] = startAgentFlags(t, flags(first)...)
	time.Sleep(resendInterval)
	stopped := time.Now() // the stop hands over before the process exits
	agents[second].stop(t)
	eventually(t, 3*haLease, "the restarted agent takes over", func() error {
		id, err := leader()
		if err == nil && id != first {
			err = fmt.Errorf("leader %s", id)
		}
		return err
	})
	time.Sleep(2 * resendInterval)
	resumed, gap = failoverGap(t, q, stopped)
	t.Logf("stopped the leader %s; %s sent again after %s; longest gap %s", second, first, resumed.Sub(stopped), gap)
	if resumed.IsZero() || resumed.Sub(stopped) > 5*haRetry+time.Second {
		t.Errorf("after a clean stop, the first sample came %s later", resumed.Sub(stopped))
	}
	if gap > resendInterval+5*haRetry+time.Second {
		t.Errorf("gap of %s in an unchanged series", gap)
	}
	if v := agents[first].metric("kube_state_push_ha_standby_samples_total"); v == 0 {
		t.Errorf("the restarted agent held back no samples while standby")
	}
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
}

// failoverGap returns the receiver's first sample of q after since, and the
// longest interval between two samples of q from a resend before since.
func failoverGap(t *testing.T, q string, since time.Time) (resumed time.Time, gap time.Duration) {
	t.Helper()
	ts, err := queryRaw(q, time.Since(since)+2*resendInterval)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
		if resumed.IsZero() && ts[i].After(since) {
			resumed = ts[i]
		}
	}
	return resumed, gap
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
