package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// changeWithin is how soon a change must be queryable in the receiver.
const changeWithin = 2 * time.Second

// TestFamilies checks that the four resources' series for the objects the test
// creates are in Prometheus with KSM's labels and values: first spot checks of
// values worked out by hand, then every series the collectors produce for the
// live objects, label for label.
func TestFamilies(t *testing.T) {
	ns := "e2e-families"
	createNamespace(t, ns)
	createDeployment(t, ns, "web", 2)
	waitAvailable(t, ns, "web", 2)
	startAgent(t)

	pods, err := env.client.CoreV1().Pods(ns).List(testContext(t), metav1.ListOptions{})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods: %v, %d", err, len(pods.Items))
	}
	pod := pods.Items[0]
	sel := fmt.Sprintf(`namespace=%q,pod=%q`, ns, pod.Name)
	checks := []struct {
		q    string
		want float64
	}{
		{`kube_pod_status_phase{` + sel + `,phase="Running"}`, 1},
		{`kube_pod_status_phase{` + sel + `,phase="Pending"}`, 0},
		{`kube_pod_info{` + sel + `,node=~"kwok-node-.*",created_by_kind="ReplicaSet",host_network="false"}`, 1},
		{`kube_pod_owner{` + sel + `,owner_kind="ReplicaSet",owner_is_controller="true"}`, 1},
		{`kube_pod_container_resource_requests{` + sel + `,container="app",resource="cpu",unit="core"}`, 0.1},
		{`kube_pod_container_resource_limits{` + sel + `,container="sidecar",resource="memory",unit="byte"}`, 64 << 20},
		{`kube_pod_container_status_running{` + sel + `,container="app"}`, 1},
		{`kube_pod_container_status_restarts_total{` + sel + `,container="app"}`, 0},
		{`kube_pod_status_ready{` + sel + `,condition="true"}`, 1},
		{`kube_pod_status_qos_class{` + sel + `,qos_class="Guaranteed"}`, 1},
		{`kube_pod_created{` + sel + `}`, float64(pod.CreationTimestamp.Unix())},
		{`kube_deployment_spec_replicas{namespace="e2e-families",deployment="web"}`, 2},
		{`kube_deployment_status_replicas_available{namespace="e2e-families",deployment="web"}`, 2},
		{`kube_deployment_spec_strategy_rollingupdate_max_surge{namespace="e2e-families",deployment="web"}`, 1},
		{`kube_deployment_status_condition{namespace="e2e-families",deployment="web",condition="Available",status="true"}`, 1},
		{`kube_node_status_capacity{node="kwok-node-0",resource="cpu",unit="core"}`, 32},
		{`kube_node_info{node="kwok-node-0",kubeproxy_version="deprecated"}`, 1},
		{`kube_node_status_condition{node="kwok-node-0",condition="Ready",status="true"}`, 1},
		{`kube_node_spec_unschedulable{node="kwok-node-0"}`, 0},
		{`kube_namespace_status_phase{namespace="e2e-families",phase="Active"}`, 1},
	}
	for _, c := range checks {
		eventually(t, 10*time.Second, c.q, func() error { return queryValue(c.q, c.want) })
	}
	// Empty-valued labels are left out: a pod of a deployment has no empty
	// owner labels, and a namespace series carries nothing but its name.
	if res, err := query(`kube_pod_info{` + sel + `,priority_class!=""}`); err != nil || len(res) != 0 {
		t.Errorf("kube_pod_info has a priority_class label: %v %v", res, err)
	}

	node, err := env.client.CoreV1().Nodes().Get(testContext(t), "kwok-node-0", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	nsObj, err := env.client.CoreV1().Namespaces().Get(testContext(t), ns, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deploy, err := env.client.AppsV1().Deployments(ns).Get(testContext(t), "web", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	compareObject(t, "pods", &pod, fmt.Sprintf(`{__name__=~"kube_pod_.*",%s}`, sel))
	compareObject(t, "deployments", deploy, `{__name__=~"kube_deployment_.*",namespace="e2e-families",deployment="web"}`)
	compareObject(t, "nodes", node, `{__name__=~"kube_node_.*",node="kwok-node-0"}`)
	compareObject(t, "namespaces", nsObj, `{__name__=~"kube_namespace_.*",namespace="e2e-families"}`)
}

// compareObject checks that the receiver holds exactly the series the
// collectors produce for obj (re-read until they agree, as status moves on).
func compareObject(t *testing.T, resource string, obj any, selector string) {
	t.Helper()
	rs, err := collectors.Lookup([]string{resource})
	if err != nil {
		t.Fatal(err)
	}
	gen := rs[0].NewGenerator(collectors.Options{})
	var families = map[string]bool{}
	eventually(t, 15*time.Second, resource+" series match", func() error {
		o, ok := gen.Generate(obj)
		if !ok {
			return fmt.Errorf("cannot generate %T", obj)
		}
		var want []string
		for _, s := range o.Series {
			want = append(want, s.String())
			families[s.Labels.Get(collectors.MetricName)] = true
		}
		res, err := query(selector)
		if err != nil {
			return err
		}
		var got []string
		for _, s := range res {
			// What the agent adds as a scrape would (--job, --instance).
			if s.Labels["job"] != "kube-state-metrics" || s.Labels["instance"] != "kube-state-push" {
				return fmt.Errorf("%s: want job=\"kube-state-metrics\", instance=\"kube-state-push\"", s)
			}
			delete(s.Labels, "job")
			delete(s.Labels, "instance")
			got = append(got, s.String())
		}
		sort.Strings(want)
		sort.Strings(got)
		if strings.Join(want, "\n") != strings.Join(got, "\n") {
			obj = refetch(t, resource, obj)
			return fmt.Errorf("receiver has\n%s\ncollectors give\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		return nil
	})
	t.Logf("%s: %d families match", resource, len(families))
}

func refetch(t *testing.T, resource string, obj any) any {
	ctx := testContext(t)
	var (
		got any
		err error
	)
	switch o := obj.(type) {
	case *v1.Pod:
		got, err = env.client.CoreV1().Pods(o.Namespace).Get(ctx, o.Name, metav1.GetOptions{})
	case *v1.Node:
		got, err = env.client.CoreV1().Nodes().Get(ctx, o.Name, metav1.GetOptions{})
	default:
		return obj
	}
	if err != nil {
		return obj
	}
	return got
}

// TestChangesVisibleWithin2s scales a deployment and changes a pod's phase, and
// expects each change to be queryable within two seconds.
func TestChangesVisibleWithin2s(t *testing.T) {
	ns := "e2e-changes"
	createNamespace(t, ns)
	createDeployment(t, ns, "scaled", 1)
	waitAvailable(t, ns, "scaled", 1)
	pending := createPendingPod(t, ns, "waiting")
	a := startAgent(t)
	ctx := testContext(t)

	eventually(t, 10*time.Second, "pending pod seen", func() error {
		return queryValue(`kube_pod_status_phase{namespace="e2e-changes",pod="waiting",phase="Pending"}`, 1)
	})
	eventually(t, 10*time.Second, "deployment seen", func() error {
		return queryValue(`kube_deployment_spec_replicas{namespace="e2e-changes",deployment="scaled"}`, 1)
	})

	// Scale 1 → 3.
	if _, err := env.client.AppsV1().Deployments(ns).Patch(ctx, "scaled", types.MergePatchType,
		[]byte(`{"spec":{"replicas":3}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, changeWithin, "scale visible", func() error {
		return queryValue(`kube_deployment_spec_replicas{namespace="e2e-changes",deployment="scaled"}`, 3)
	})
	t.Logf("scale visible after %s", took)

	// Pending → Running, set through the status subresource.
	if _, err := env.client.CoreV1().Pods(ns).Patch(ctx, pending.Name, types.MergePatchType,
		[]byte(`{"status":{"phase":"Running"}}`), metav1.PatchOptions{}, "status"); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, changeWithin, "phase change visible", func() error {
		if err := queryValue(`kube_pod_status_phase{namespace="e2e-changes",pod="waiting",phase="Running"}`, 1); err != nil {
			return err
		}
		return queryValue(`kube_pod_status_phase{namespace="e2e-changes",pod="waiting",phase="Pending"}`, 0)
	})
	t.Logf("phase change visible after %s", took)

	// Deleted: every series of the pod ends at once.
	zero := int64(0)
	if err := env.client.CoreV1().Pods(ns).Delete(ctx, pending.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil {
		t.Fatal(err)
	}
	took = eventually(t, changeWithin, "deleted pod's series gone", func() error {
		return noSeries(`{namespace="e2e-changes",pod="waiting"}`)
	})
	t.Logf("deleted pod's series gone after %s", took)
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
}

// TestResendKeepsUnchangedSeries checks that a series that does not change gets
// a sample every resend interval.
func TestResendKeepsUnchangedSeries(t *testing.T) {
	ns := "e2e-resend"
	createNamespace(t, ns)
	startAgent(t)
	window := 8 * resendInterval
	q := `kube_namespace_created{namespace="e2e-resend"}`
	eventually(t, 10*time.Second, "namespace seen", func() error {
		res, err := query(q)
		if err != nil || len(res) != 1 {
			return fmt.Errorf("%v %v", res, err)
		}
		return nil
	})
	time.Sleep(window)
	// One sample per resend interval, allowing one interval of slack at either end.
	res, err := query(fmt.Sprintf(`count_over_time(%s[%ds])`, q, int(window.Seconds())))
	if err != nil || len(res) != 1 {
		t.Fatalf("count_over_time: %v %v", res, err)
	}
	if least := float64(window/resendInterval) - 1; res[0].Value < least {
		t.Errorf("%v samples in %s, want at least %v (resend every %s)", res[0].Value, window, least, resendInterval)
	}
	res, err = query(fmt.Sprintf(`changes(%s[%ds])`, q, int(window.Seconds())))
	if err != nil || len(res) != 1 || res[0].Value != 0 {
		t.Errorf("an unchanged series changed value: %v %v", res, err)
	}
}

// TestRestartCausesNoRejects stops and restarts the agent while objects change,
// and checks that the receiver rejected nothing and the agent dropped nothing.
func TestRestartCausesNoRejects(t *testing.T) {
	ns := "e2e-restart"
	createNamespace(t, ns)
	createDeployment(t, ns, "churn", 1)
	ctx := testContext(t)
	scale := func(n int) {
		if _, err := env.client.AppsV1().Deployments(ns).Patch(ctx, "churn", types.MergePatchType,
			[]byte(fmt.Sprintf(`{"spec":{"replicas":%d}}`, n)), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	first := startAgent(t)
	scale(3)
	time.Sleep(2 * time.Second)
	dropped := first.metric("kube_state_push_remote_write_samples_dropped_total")
	first.stop(t)

	second := startAgent(t)
	scale(2)
	eventually(t, 10*time.Second, "scale after restart", func() error {
		return queryValue(`kube_deployment_spec_replicas{namespace="e2e-restart",deployment="churn"}`, 2)
	})
	time.Sleep(2 * resendInterval)
	dropped += second.metric("kube_state_push_remote_write_samples_dropped_total")
	if dropped != 0 {
		t.Errorf("agents dropped %v samples", dropped)
	}
	if v := second.metric("kube_state_push_remote_write_samples_sent_total"); v == 0 {
		t.Errorf("second agent sent nothing")
	}
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
		if v != 0 {
			t.Errorf("receiver: %s = %v, want 0", prefix, v)
		}
	}
}

// TestNamespacesFlag checks that --namespaces limits namespaced resources to the
// listed namespaces, one list/watch each, while cluster-scoped ones stay whole.
func TestNamespacesFlag(t *testing.T) {
	createNamespace(t, "e2e-ns-a")
	createNamespace(t, "e2e-ns-b")
	createNamespace(t, "e2e-ns-c")
	for _, ns := range []string{"e2e-ns-a", "e2e-ns-b", "e2e-ns-c"} {
		createPendingPod(t, ns, "solo")
	}
	a := startAgent(t, "--namespaces", "e2e-ns-a,e2e-ns-c")
	for _, ns := range []string{"e2e-ns-a", "e2e-ns-c"} {
		q := fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="solo",phase="Pending"}`, ns)
		eventually(t, 10*time.Second, q, func() error { return queryValue(q, 1) })
	}
	eventually(t, 10*time.Second, "namespace e2e-ns-b (cluster-scoped) seen", func() error {
		return queryValue(`kube_namespace_status_phase{namespace="e2e-ns-b",phase="Active"}`, 1)
	})
	if res, err := query(`{namespace="e2e-ns-b",pod="solo"}`); err != nil || len(res) != 0 {
		t.Errorf("pod of an unwatched namespace was pushed: %v %v", res, err)
	}
	if v := a.metric(`kube_state_push_watch_total{resource="pods",result="success"}`); v < 2 {
		t.Errorf("pods watches = %v, want one per namespace (2)", v)
	}
}
