package e2e

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// raiseRevision writes config maps n times (from 4 writers, unthrottled), so
// that etcd's revision after a restore stays below the one the agent saw
// before it for the rest of the test.
func raiseRevision(t *testing.T, ns string, n int) {
	t.Helper()
	rc, err := clientcmd.BuildConfigFromFlags("", env.kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	rc.QPS = -1 // no client-side rate limit
	cms := kubernetes.NewForConfigOrDie(rc).CoreV1().ConfigMaps(ns)
	ctx := testContext(t)
	write := func(name string, times int) error {
		if _, err := cms.Create(ctx, &v1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{}); err != nil {
			return err
		}
		for i := range times {
			patch := fmt.Sprintf(`{"data":{"n":"%d"}}`, i)
			if _, err := cms.Patch(ctx, name, types.MergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
				return err
			}
		}
		return nil
	}
	const writers = 4
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() { errs <- write(fmt.Sprintf("revisions-%d", w), n/writers) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("raise etcd's revision: %v", err)
		}
	}
}

// patchPhaseRV sets a pod's phase and returns the pod's new resourceVersion.
func patchPhaseRV(t *testing.T, ns, name, phase string) uint64 {
	t.Helper()
	var rv uint64
	eventually(t, 30*time.Second, "patch "+name, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		p, err := env.client.CoreV1().Pods(ns).Patch(ctx, name, types.MergePatchType,
			[]byte(fmt.Sprintf(`{"status":{"phase":%q}}`, phase)), metav1.PatchOptions{}, "status")
		if err != nil {
			return err
		}
		rv, err = strconv.ParseUint(p.ResourceVersion, 10, 64)
		return err
	})
	return rv
}

// TestEtcdRestore restores etcd from a copy of its data directory taken while
// the agent watched (hack/cluster.sh backup-etcd, restore-etcd): the cluster
// goes back to its state at the backup, and its resourceVersions to the
// backup's revision. The agent's relist must replace what it holds (a pod made
// after the backup ends, a change made after it reverts), and the changes
// made after the restore, whose resourceVersions are lower than those the
// agent saw before, must be pushed, not dropped as out of order.
func TestEtcdRestore(t *testing.T) {
	ns := "e2e-etcdrestore"
	createNamespace(t, ns)
	waitServiceAccount(t, ns)
	createPendingPod(t, ns, "kept")
	createPendingPod(t, ns, "changed")
	rejected := receiverRejected(t)
	a := startAgent(t, "--wal-dir", t.TempDir())
	restartCleanup(t)
	phase := func(pod, phase string) string {
		return fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod=%q,phase=%q}`, ns, pod, phase)
	}
	eventually(t, 30*time.Second, "pods seen", func() error { return queryValue(phase("changed", "Pending"), 1) })

	clusterVerb(t, "backup-etcd")
	// After the backup: a new pod and a change, both undone by the restore, at
	// resourceVersions well above what the restored cluster reaches again
	// while the test runs.
	createPendingPod(t, ns, "lost")
	raiseRevision(t, ns, 2000)
	before := patchPhaseRV(t, ns, "changed", "Running")
	eventually(t, 30*time.Second, "changes after the backup seen", func() error {
		if err := queryValue(phase("changed", "Running"), 1); err != nil {
			return err
		}
		return queryValue(phase("lost", "Pending"), 1)
	})
	outOfOrder := a.counters("kube_state_push_events_out_of_order_total", "")
	relists := a.counters("kube_state_push_relists_total", "")

	clusterVerb(t, "restore-etcd")
	// The pods' watch would resume from a resourceVersion the restored
	// apiserver has not reached: the agent lists them again. (A resource
	// with no change since the backup resumes where it was, rightly.)
	relisted := eventually(t, 2*time.Minute, "agent relisted the pods", func() error {
		if v := a.metric(`kube_state_push_relists_total{resource="pods"}`); v <= relists["pods"] {
			return fmt.Errorf("pods relists %v, before the restore %v", v, relists["pods"])
		}
		return nil
	})
	// The relist is the restored cluster's state.
	eventually(t, 30*time.Second, "restored state pushed", func() error {
		if err := queryValue(phase("changed", "Pending"), 1); err != nil {
			return err
		}
		return noPodSeries(ns, []string{"lost"})
	})

	// Changes after the restore, at lower resourceVersions than the agent saw.
	after := patchPhaseRV(t, ns, "changed", "Succeeded")
	if after >= before {
		t.Fatalf("the restore did not take resourceVersions back: %d after it, %d before", after, before)
	}
	createPendingPod(t, ns, "new")
	seen := eventually(t, 30*time.Second, "changes after the restore pushed", func() error {
		if err := queryValue(phase("changed", "Succeeded"), 1); err != nil {
			return err
		}
		return queryValue(phase("new", "Pending"), 1)
	})
	waitDrained(t, a, time.Minute)

	var summary []string
	for _, r := range watchedResources {
		if d := a.metric(fmt.Sprintf(`kube_state_push_events_out_of_order_total{resource=%q}`, r)) - outOfOrder[r]; d != 0 {
			t.Errorf("%s: %v events dropped as out of order since the restore", r, d)
		}
		summary = append(summary, fmt.Sprintf("%s: %v resets, %v relists", r,
			a.metric(fmt.Sprintf(`kube_state_push_resource_version_resets_total{resource=%q}`, r)),
			a.metric(fmt.Sprintf(`kube_state_push_relists_total{resource=%q}`, r))-relists[r]))
	}
	if v := a.metric(`kube_state_push_resource_version_resets_total{resource="pods"}`); v != 1 {
		t.Errorf("pods: %v resourceVersion resets, want 1", v)
	}
	if v := a.metric(`kube_state_push_relists_total{resource="pods"}`) - relists["pods"]; v != 1 {
		t.Errorf("pods: %v relists since the restore, want 1", v)
	}
	if v := receiverRejected(t) - rejected; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
	t.Logf("resourceVersion of the changed pod: %d before the restore, %d after it; pods relisted %s after the restore; change after the restore visible in %s; %s",
		before, after, relisted.Round(time.Millisecond), seen.Round(time.Millisecond), strings.Join(summary, "; "))
}
