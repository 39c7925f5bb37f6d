package agent

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/tools/cache"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
)

// lockedRecorder is a recorder safe for the reflector's goroutine.
type lockedRecorder struct {
	mu  sync.Mutex
	all []series.Sample
}

func (r *lockedRecorder) Append(ss []series.Sample) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, ss...)
}

// last returns the latest value per series, rendered, for series matching name.
func (r *lockedRecorder) last(name string) map[string]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]float64{}
	for _, s := range r.all {
		if s.Labels.Get(series.MetricName) == name {
			out[s.Labels.String()] = s.V
		}
	}
	return out
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A real reflector over the fake clientset feeds the snapshot: the initial
// list, an update and a delete reach the appender as samples.
func TestReflectorFeedsSnapshot(t *testing.T) {
	client := fake.NewClientset(&v1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "p", UID: "u1", ResourceVersion: "1"},
		Status:     v1.PodStatus{Phase: v1.PodPending},
	})
	rec := &lockedRecorder{}
	m := newMetrics(nil, nil)
	snap := snapshot.New(rec, nil)
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	gen := rs[0].NewGenerator(collectors.Options{})
	store := newReflectorStore(snap, rs[0], m, nil)
	refl := newObjectReflector(rs[0].ListWatch(client, ""), client, gen, store, cache.ReflectorOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { refl.RunWithContext(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	running := `kube_pod_status_phase{namespace="ns",phase="Running",pod="p",uid="u1"}`
	waitFor(t, "initial list", snap.Synced)
	if got := rec.last("kube_pod_status_phase")[running]; got != 0 {
		t.Fatalf("Running = %v before the update", got)
	}
	pod, _ := client.CoreV1().Pods("ns").Get(ctx, "p", metav1.GetOptions{})
	pod.Status.Phase = v1.PodRunning
	pod.ResourceVersion = "2"
	if _, err := client.CoreV1().Pods("ns").UpdateStatus(ctx, pod, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "update", func() bool { return rec.last("kube_pod_status_phase")[running] == 1 })

	if err := client.CoreV1().Pods("ns").Delete(ctx, "p", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "delete", func() bool {
		for k, v := range rec.last("kube_pod_status_phase") {
			if strings.Contains(k, `pod="p"`) && !series.IsStaleNaN(v) {
				return false
			}
		}
		return true
	})
}
