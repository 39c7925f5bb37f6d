package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// receiver stops or starts the cluster's Prometheus.
func receiver(t *testing.T, action string) { t.Helper(); clusterVerb(t, action+"-receiver") }

// clusterVerb runs hack/cluster.sh's verb on the test cluster.
func clusterVerb(t *testing.T, verb string) {
	t.Helper()
	cmd := exec.Command(filepath.Join("..", "hack", "cluster.sh"), verb, env.stateDir)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v", verb, err)
	}
}

// checkAt expects q to have value want (or no series when want < 0) at time at.
func checkAt(t *testing.T, q string, at time.Time, want float64) {
	t.Helper()
	res, err := queryAt(q, at)
	if err != nil {
		t.Errorf("%s @%s: %v", q, at.Format(time.TimeOnly), err)
		return
	}
	switch {
	case want < 0 && len(res) != 0:
		t.Errorf("%s @%s: want no series, got %v", q, at.Format(time.TimeOnly), res)
	case want >= 0 && (len(res) != 1 || res[0].Value != want):
		t.Errorf("%s @%s: want %v, got %v", q, at.Format(time.TimeOnly), want, res)
	}
}

// patchPhase sets a pod's phase through the status subresource.
func patchPhase(t *testing.T, ns, pod, phase string) time.Time {
	t.Helper()
	if _, err := env.client.CoreV1().Pods(ns).Patch(testContext(t), pod, types.MergePatchType,
		[]byte(fmt.Sprintf(`{"status":{"phase":%q}}`, phase)), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

func deletePod(t *testing.T, ns, pod string) time.Time {
	t.Helper()
	zero := int64(0)
	if err := env.client.CoreV1().Pods(ns).Delete(testContext(t), pod, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

func scaleDeployment(t *testing.T, ns, name string, n int) time.Time {
	t.Helper()
	if _, err := env.client.AppsV1().Deployments(ns).Patch(testContext(t), name, types.MergePatchType,
		[]byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	return time.Now()
}

// waitDrained waits until the agent has delivered its whole WAL backlog.
func waitDrained(t *testing.T, a *agentProc, within time.Duration) {
	t.Helper()
	eventually(t, within, "WAL backlog delivered", func() error {
		if v := a.metric(`kube_state_push_wal_backlog_records{endpoint="default"}`); v != 0 {
			return fmt.Errorf("%v records not delivered", v)
		}
		return a.readyErr()
	})
}

// receiverRejected sums the receiver's counters of rejected samples and requests.
func receiverRejected(t *testing.T) float64 {
	t.Helper()
	var sum float64
	for _, prefix := range []string{
		"prometheus_tsdb_out_of_order_samples_total",
		"prometheus_tsdb_out_of_bound_samples_total",
		"prometheus_tsdb_too_old_samples_total",
		`prometheus_http_requests_total{code="400",handler="/api/v1/write"}`,
	} {
		v, err := scrapeCounter(env.promURL+"/metrics", prefix)
		if err != nil {
			t.Fatal(err)
		}
		sum += v
	}
	return sum
}

// outage is how long TestReceiverOutage keeps the receiver down.
const outage = 5 * time.Minute

// TestReceiverOutage stops the receiver for five minutes while pods are
// created, changed and deleted, starts it again, and checks in Prometheus that
// every transition of the window is there at its original time, that the
// deleted pods' series end, and that the resends of the window arrived too.
func TestReceiverOutage(t *testing.T) {
	ns := "e2e-outage"
	createNamespace(t, ns)
	createDeployment(t, ns, "steady", 1)
	createPendingPod(t, ns, "changes")
	createPendingPod(t, ns, "goes")
	a := startAgent(t, "--wal-dir", t.TempDir())
	eventually(t, 10*time.Second, "pods seen", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-outage",pod="goes",phase="Pending"}`, 1)
	})

	receiver(t, "stop")
	stopped := time.Now()
	defer receiver(t, "start") // in case of an early failure; a no-op when running
	time.Sleep(20 * time.Second)
	createPendingPod(t, ns, "born")
	born := time.Now()
	time.Sleep(20 * time.Second)
	running := patchPhase(t, ns, "changes", "Running")
	time.Sleep(20 * time.Second)
	scaled := scaleDeployment(t, ns, "steady", 3)
	time.Sleep(20 * time.Second)
	gone := deletePod(t, ns, "goes")
	time.Sleep(time.Until(stopped.Add(outage)))
	receiver(t, "start")
	restarted := time.Now()
	waitDrained(t, a, 3*time.Minute)

	// Every transition at its own time, not at the time the receiver returned.
	checkAt(t, `kube_pod_status_phase{namespace="e2e-outage",pod="born",phase="Pending"}`, born.Add(-3*time.Second), -1)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-outage",pod="born",phase="Pending"}`, born.Add(3*time.Second), 1)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-outage",pod="changes",phase="Running"}`, running.Add(-3*time.Second), 0)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-outage",pod="changes",phase="Running"}`, running.Add(3*time.Second), 1)
	checkAt(t, `kube_deployment_spec_replicas{namespace="e2e-outage",deployment="steady"}`, scaled.Add(-3*time.Second), 1)
	checkAt(t, `kube_deployment_spec_replicas{namespace="e2e-outage",deployment="steady"}`, scaled.Add(3*time.Second), 3)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-outage",pod="goes",phase="Pending"}`, gone.Add(-3*time.Second), 1)
	checkAt(t, `{namespace="e2e-outage",pod="goes"}`, gone.Add(3*time.Second), -1)
	checkAt(t, `{namespace="e2e-outage",pod="goes"}`, time.Now(), -1)

	// The resends of the window were kept and delivered: the history has no gap.
	window := restarted.Sub(stopped).Truncate(time.Second)
	res, err := queryAt(fmt.Sprintf(`count_over_time(kube_namespace_created{namespace="e2e-outage"}[%ds])`, int(window.Seconds())), restarted)
	if err != nil || len(res) != 1 {
		t.Fatalf("count_over_time over the outage: %v %v", res, err)
	}
	// Both sides: fewer is a lost resend, more a resend storm or a resend sent twice.
	if n := window.Seconds() / resendInterval.Seconds(); res[0].Value < n-2 || res[0].Value > n+2 {
		t.Errorf("%v samples of an unchanged series in the %s outage, want %v ± 2", res[0].Value, window, n)
	}
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
}

// TestKill9 kills the agent with SIGKILL twice, once while it sends and once
// while the receiver is down, changes and deletes objects meanwhile, and checks
// in Prometheus that nothing was lost or rejected and that the series of the
// objects deleted while it was down ended.
func TestKill9(t *testing.T) {
	ns := "e2e-kill"
	createNamespace(t, ns)
	createDeployment(t, ns, "churn", 1)
	for _, p := range []string{"a", "b", "c", "d"} {
		createPendingPod(t, ns, p)
	}
	dir := t.TempDir()
	first := startAgent(t, "--wal-dir", dir)

	// 1. While sending: churn, then kill -9 in the middle of it.
	churnStart := time.Now()
	for i := range 6 {
		scaleDeployment(t, ns, "churn", i%3+1)
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond)
	first.kill9(t)
	deletePod(t, ns, "a")
	second := startAgent(t, "--wal-dir", dir)
	// 1 → 2 → 3 → 1 → 2 → 3: five changes, every one delivered.
	eventually(t, 10*time.Second, "every replica change of the churn", func() error {
		return queryValue(fmt.Sprintf(`changes(kube_deployment_spec_replicas{namespace="e2e-kill",deployment="churn"}[%ds])`,
			int(time.Since(churnStart).Seconds())+2), 5)
	})
	eventually(t, 10*time.Second, "pod deleted while the agent was down is ended", func() error {
		return noSeries(`{namespace="e2e-kill",pod="a"}`)
	})

	// 2. While the receiver is down: changes, kill -9, a delete while down,
	// restart (receiver still down), then the receiver returns.
	receiver(t, "stop")
	defer receiver(t, "start")
	running := patchPhase(t, ns, "b", "Running")
	time.Sleep(2 * time.Second)
	goneWhileUp := deletePod(t, ns, "c")
	time.Sleep(2 * time.Second)
	second.kill9(t)
	deletePod(t, ns, "d")
	third := launchAgent(t, "--wal-dir", dir)
	time.Sleep(5 * time.Second)
	receiver(t, "start")
	third.waitReady(t)
	waitDrained(t, third, 2*time.Minute)

	checkAt(t, `kube_pod_status_phase{namespace="e2e-kill",pod="b",phase="Running"}`, running.Add(-time.Second), 0)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-kill",pod="b",phase="Running"}`, running.Add(time.Second), 1)
	checkAt(t, `kube_pod_status_phase{namespace="e2e-kill",pod="c",phase="Pending"}`, goneWhileUp.Add(-time.Second), 1)
	for _, p := range []string{"c", "d"} {
		eventually(t, 10*time.Second, "pod "+p+" ended", func() error {
			return noSeries(fmt.Sprintf(`{namespace="e2e-kill",pod=%q}`, p))
		})
	}
	checkAt(t, `{namespace="e2e-kill",pod="c"}`, goneWhileUp.Add(time.Second), -1)
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	dropped := third.metric("kube_state_push_remote_write_samples_dropped_total")
	if dropped != 0 {
		t.Errorf("agent dropped %v samples", dropped)
	}
	if !strings.Contains(third.out.String(), "WAL opened") {
		t.Errorf("the restarted agent did not open its WAL")
	}
}
