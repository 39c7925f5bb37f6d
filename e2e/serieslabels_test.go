package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

// TestSeriesLabels runs one agent with --series-labels=pods=[team],
// deployments=[team] and one without, on namespaces of their own, both pushing
// to the cluster's Prometheus: a sum by label_team needs no join with the flag
// and agrees with the join without it; relabelling a pod ends its old series
// with a staleness marker and starts the new ones at once, so that a range
// query of the pod's series count is 1 at every step, never 0 (a gap) nor 2
// (an overlap); nothing is dropped or refused as out of order; without the
// flag no series but kube_pod_labels carries label_team.
func TestSeriesLabels(t *testing.T) {
	ns, off := "e2e-serieslabels", "e2e-serieslabels-off"
	createNamespace(t, ns)
	createNamespace(t, off)
	createDeployment(t, ns, "web", 2) // pods and deployment labelled team=e2e
	createDeployment(t, off, "web", 1)
	waitAvailable(t, ns, "web", 2)
	waitAvailable(t, off, "web", 1)
	rejectsBefore := receiverRejects(t)

	// Only namespaced resources, so that the two agents send disjoint series.
	on := startAgentFlags(t, "--resources", "pods,deployments", "--namespaces", ns,
		"--series-labels=pods=[team],deployments=[team]", "--metric-labels-allowlist=pods=[team]")
	plain := startAgentFlags(t, "--resources", "pods,deployments", "--namespaces", off,
		"--metric-labels-allowlist=pods=[team]")

	requests := func(ns string) string {
		return fmt.Sprintf(`kube_pod_container_resource_requests{namespace=%q,resource="cpu"}`, ns)
	}
	direct := func(ns string) string { return `sum by (label_team) (` + requests(ns) + `)` }
	join := func(ns string) string {
		return fmt.Sprintf(`sum by (label_team) (%s * on (namespace, pod) group_left (label_team) kube_pod_labels{namespace=%q})`, requests(ns), ns)
	}
	byTeam := func(q string, want map[string]float64) func() error {
		return func() error {
			res, err := query(q)
			if err != nil {
				return err
			}
			got := map[string]float64{}
			for _, s := range res {
				got[s.Labels["label_team"]] = math.Round(s.Value*1000) / 1000
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				return fmt.Errorf("%s = %v, want %v", q, got, want)
			}
			return nil
		}
	}
	// Two pods of 100m + 250m each.
	eventually(t, 15*time.Second, "sum by label_team without a join", byTeam(direct(ns), map[string]float64{"e2e": 0.7}))
	eventually(t, 15*time.Second, "the same with the join", byTeam(join(ns), map[string]float64{"e2e": 0.7}))
	eventually(t, 15*time.Second, "deployment series carry label_team", func() error {
		return queryValue(fmt.Sprintf(`kube_deployment_spec_replicas{namespace=%q,deployment="web",label_team="e2e"}`, ns), 2)
	})
	// kube_pod_labels, whose own label_team is the copied one, carries it once
	// (Prometheus would refuse a series with a repeated name).
	eventually(t, 15*time.Second, "kube_pod_labels", func() error {
		res, err := query(fmt.Sprintf(`kube_pod_labels{namespace=%q}`, ns))
		if err != nil || len(res) != 2 || res[0].Labels["label_team"] != "e2e" {
			return fmt.Errorf("%v %v", res, err)
		}
		return nil
	})

	// Without the flag: the join works, the direct sum has no label_team.
	eventually(t, 15*time.Second, "without the flag, the join", byTeam(join(off), map[string]float64{"e2e": 0.35}))
	eventually(t, 15*time.Second, "without the flag, no label_team", byTeam(direct(off), map[string]float64{"": 0.35}))
	if res, err := query(fmt.Sprintf(`count by (__name__) ({namespace=%q,__name__!="kube_pod_labels",label_team!=""})`, off)); err != nil || len(res) != 0 {
		t.Errorf("without --series-labels, series carry label_team: %v %v", res, err)
	}

	// Relabel one pod.
	ctx := testContext(t)
	pods, err := env.client.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	if err != nil || len(pods.Items) != 2 {
		t.Fatalf("pods: %v %d", err, len(pods.Items))
	}
	pod := pods.Items[0].Name
	one := fmt.Sprintf(`kube_pod_container_resource_requests{namespace=%q,pod=%q,container="app",resource="cpu"}`, ns, pod)
	// A few resends of the old series first, so that the window before the
	// change is filled.
	eventually(t, 4*resendInterval, "three samples of the old series", func() error {
		raw, err := rawSamples(one, time.Minute)
		if err != nil || len(raw["e2e"]) < 3 {
			return fmt.Errorf("%v %v", raw, err)
		}
		return nil
	})
	if _, err := env.client.CoreV1().Pods(ns).Patch(ctx, pod, types.MergePatchType,
		[]byte(`{"metadata":{"labels":{"team":"e2e-new"}}}`), metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, changeWithin, "relabelled pod counted under its new team",
		byTeam(direct(ns), map[string]float64{"e2e": 0.35, "e2e-new": 0.35}))
	t.Logf("relabel visible after %s", took)
	// A few resends of the new series, so that the window after the change
	// is filled.
	time.Sleep(2*resendInterval + time.Second)

	raw, err := rawSamples(one, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	oldTs, newTs := raw["e2e"], raw["e2e-new"]
	if len(raw) != 2 || len(oldTs) == 0 || len(newTs) == 0 {
		t.Fatalf("want the old and the new series, got %v", raw)
	}
	lastOld, firstNew := oldTs[len(oldTs)-1], newTs[0]
	t.Logf("old series: %d samples, last at %s; new series: first at %s (%s later), %d samples",
		len(oldTs), lastOld.Format(time.StampMilli), firstNew.Format(time.StampMilli), firstNew.Sub(lastOld), len(newTs))
	if !firstNew.After(lastOld) {
		t.Errorf("the new series starts at %s, before the old one's last sample at %s", firstNew, lastOld)
	}
	if d := firstNew.Sub(lastOld); d > resendInterval+time.Second {
		t.Errorf("%s between the old series' last sample and the new one's first, want at most the resend interval %s (and scheduling)", d, resendInterval)
	}
	// The old series ends at the new one's start: a staleness marker, not the
	// 5-minute lookback.
	if res, err := queryAt(strings.Replace(one, "}", `,label_team="e2e"}`, 1), firstNew); err != nil || len(res) != 0 {
		t.Errorf("the old series still answers at the new one's first sample: %v %v", res, err)
	}
	// At every 10 ms from before the old series' last sample to after the new
	// series' first, exactly one series answers.
	start, end, step := lastOld.Add(-resendInterval), firstNew.Add(resendInterval), 10*time.Millisecond
	if start.Before(oldTs[0]) {
		start = oldTs[0]
	}
	points, err := queryRange(`count(`+one+`)`, start, end, step)
	if err != nil {
		t.Fatal(err)
	}
	want := int(end.Sub(start)/step) + 1
	bad := 0
	for _, p := range points {
		if p.v != 1 {
			bad++
			if bad <= 5 {
				t.Errorf("at %s, %v series answer", p.t.Format(time.StampMilli), p.v)
			}
		}
	}
	t.Logf("count of the pod's series: %d points from %s to %s by %s, %d not 1", len(points),
		start.Format(time.StampMilli), end.Format(time.StampMilli), step, bad)
	if len(points) != want || bad > 0 {
		t.Errorf("count of the pod's series over [%s, %s] by %s: %d points (want %d; a missing one is a gap), %d not 1",
			start.Format(time.StampMilli), end.Format(time.StampMilli), step, len(points), want, bad)
	}

	for _, a := range []*agentProc{on, plain} {
		if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
			t.Errorf("agent dropped %v samples", v)
		}
		if v := a.metric("kube_state_push_events_out_of_order_total"); v != 0 {
			t.Errorf("agent saw %v events out of order", v)
		}
		if ok, other := requestResults(t, a); ok == 0 || other != 0 {
			t.Errorf("agent requests: %v succeeded, %v not (retried, split, dropped...)", ok, other)
		}
	}
	for name, v := range receiverRejects(t) {
		if v != rejectsBefore[name] {
			t.Errorf("receiver: %s went from %v to %v", name, rejectsBefore[name], v)
		}
	}
}

// receiverRejects reads Prometheus's counters of samples and requests it refused.
func receiverRejects(t *testing.T) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
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
		out[prefix] = v
	}
	return out
}

// requestResults sums the agent's remote-write requests that succeeded and
// those with another result.
func requestResults(t *testing.T, a *agentProc) (ok, other float64) {
	t.Helper()
	resp, err := http.Get("http://" + a.telemetry + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "kube_state_push_remote_write_requests_total{") {
			continue
		}
		f := strings.Fields(line)
		v, _ := strconv.ParseFloat(f[len(f)-1], 64)
		if strings.Contains(line, `result="success"`) {
			ok += v
		} else {
			other += v
		}
	}
	return ok, other
}

// rawSamples returns the raw sample times of the series selector matches over
// the window before now, by their label_team.
func rawSamples(selector string, window time.Duration) (map[string][]time.Time, error) {
	var r struct {
		Result []struct {
			Metric map[string]string `json:"metric"`
			Values [][2]any          `json:"values"`
		} `json:"result"`
	}
	if err := promAPI("/api/v1/query?query="+url.QueryEscape(fmt.Sprintf("%s[%ds]", selector, int(window.Seconds()))), &r); err != nil {
		return nil, err
	}
	out := map[string][]time.Time{}
	for _, s := range r.Result {
		for _, v := range s.Values {
			f, _ := v[0].(float64)
			out[s.Metric["label_team"]] = append(out[s.Metric["label_team"]], time.UnixMilli(int64(math.Round(f*1000))))
		}
		slices.SortFunc(out[s.Metric["label_team"]], func(a, b time.Time) int { return a.Compare(b) })
	}
	return out, nil
}

type point struct {
	t time.Time
	v float64
}

// queryRange runs a range query of an expression that gives at most one
// series, and returns its points.
func queryRange(q string, start, end time.Time, step time.Duration) ([]point, error) {
	ts := func(t time.Time) string { return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64) }
	var r struct {
		Result []struct {
			Values [][2]any `json:"values"`
		} `json:"result"`
	}
	if err := promAPI(fmt.Sprintf("/api/v1/query_range?query=%s&start=%s&end=%s&step=%s",
		url.QueryEscape(q), ts(start), ts(end), strconv.FormatFloat(step.Seconds(), 'f', 3, 64)), &r); err != nil {
		return nil, err
	}
	if len(r.Result) > 1 {
		return nil, fmt.Errorf("%s: %d series, want at most 1", q, len(r.Result))
	}
	var out []point
	for _, s := range r.Result {
		for _, v := range s.Values {
			f, _ := v[0].(float64)
			str, _ := v[1].(string)
			val, err := strconv.ParseFloat(str, 64)
			if err != nil {
				return nil, fmt.Errorf("%s: value %q: %w", q, str, err)
			}
			out = append(out, point{time.UnixMilli(int64(math.Round(f * 1000))), val})
		}
	}
	return out, nil
}

// promAPI gets path from the cluster's Prometheus and decodes its data.
func promAPI(path string, data any) error {
	resp, err := http.Get(env.promURL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if r.Status != "success" {
		return fmt.Errorf("%s: %s", path, r.Error)
	}
	return json.Unmarshal(r.Data, data)
}
