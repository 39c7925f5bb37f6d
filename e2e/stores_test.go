package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/kube-state-push/kube-state-push/internal/parity"
)

// remoteStore is a remote-write receiver started by hack/receivers.sh: Mimir,
// Cortex, Thanos receive, VictoriaMetrics, an OpenTelemetry Collector or
// Prometheus 2.42, read back through its own Prometheus-compatible query API.
type remoteStore struct {
	name     string
	push     string // remote-write URL
	queryURL string // base of the query API
	metrics  string // the receiver's own /metrics
	protocol string // "2.0" or "1.0": the best it takes
	stateDir string // hack/receivers.sh's state dir: logs/
	client   *http.Client
}

// startStore starts the receiver name with the environment settings given
// (KSP_RECEIVER_*, see hack/receivers.sh) and stops it, by pid, when the test
// ends. Its logs are shown if the test failed.
func startStore(t *testing.T, name string, settings ...string) *remoteStore {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	script := filepath.Join("..", "hack", "receivers.sh")
	up := exec.Command(script, "up", name, dir)
	up.Env = append(os.Environ(), settings...)
	up.Stderr = os.Stderr
	if _, err := up.Output(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := filepath.Glob(filepath.Join(dir, "logs", "*.log"))
			for _, l := range logs {
				b, _ := os.ReadFile(l)
				t.Logf("%s (last 4 KiB):\n%s", l, b[max(0, len(b)-4096):])
			}
		}
		down := exec.Command(script, "down", dir)
		down.Stdout, down.Stderr = os.Stderr, os.Stderr
		if err := down.Run(); err != nil {
			t.Errorf("stop %s: %v", name, err)
		}
	})
	vars, err := readEnvFile(filepath.Join(dir, "env"))
	if err != nil {
		t.Fatal(err)
	}
	return &remoteStore{
		name: name, push: vars["RECEIVER_PUSH_URL"], queryURL: vars["RECEIVER_QUERY_URL"],
		metrics: vars["RECEIVER_METRICS_URL"], protocol: vars["RECEIVER_PROTOCOL"], stateDir: dir, client: http.DefaultClient,
	}
}

// tenant returns a view of the store that reads as the tenant given.
func (s *remoteStore) tenant(id string) *remoteStore {
	c := *s
	c.client = &http.Client{Transport: headerTransport{"X-Scope-OrgID": id}}
	return &c
}

type headerTransport map[string]string

func (h headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	for k, v := range h {
		r.Header.Set(k, v)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func (s *remoteStore) query(q string) ([]promSample, error) {
	return queryURL(s.client, s.queryURL, "", "", q, time.Now())
}

// addedLabels are the labels a receiver puts on every series it stores:
// Thanos receive names the tenant, the Collector's remote-write exporter the
// instrumentation scope (the Collector's build).
var addedLabels = map[string][]string{
	"thanos":  {"tenant_id"},
	"otelcol": {"otel_scope_name", "otel_scope_version"},
}

// series reads every series the selector matches now, without the labels the
// receiver added itself.
func (s *remoteStore) series(ctx context.Context, selector string) ([]parity.Series, error) {
	ss, err := parity.QueryPrometheus(ctx, s.client, s.queryURL, selector, 0)
	if err != nil {
		return nil, err
	}
	drop := addedLabels[s.name]
	for i := range ss {
		ss[i].Labels = slices.DeleteFunc(slices.Clone(ss[i].Labels), func(l parity.Label) bool {
			return slices.Contains(drop, l.Name)
		})
	}
	return ss, nil
}

// rejections are each receiver's counters of samples or requests it refused or
// dropped, as metric name and the label values that must all match (none: every
// series of the metric).
var rejections = map[string][]metricMatch{
	"mimir": {
		{name: "cortex_discarded_samples_total"},
		{name: "cortex_request_duration_seconds", labels: map[string]string{"route": "api_v1_push"}, notStatus: "2"},
	},
	"cortex": {
		{name: "cortex_discarded_samples_total"},
		{name: "cortex_request_duration_seconds", labels: map[string]string{"route": "api_v1_push"}, notStatus: "2"},
	},
	"thanos": {
		{name: "prometheus_tsdb_out_of_order_samples_total"},
		{name: "prometheus_tsdb_out_of_bound_samples_total"},
		{name: "prometheus_tsdb_too_old_samples_total"},
		{name: "http_requests_total", labels: map[string]string{"handler": "receive"}, notStatus: "2"},
	},
	"victoria-metrics": {
		{name: "vm_rows_ignored_total"},
		{name: "vm_http_request_errors_total", labels: map[string]string{"path": "/api/v1/write"}},
	},
	"otelcol": {
		{name: "otelcol_receiver_refused_metric_points_total"},
		{name: "otelcol_exporter_send_failed_metric_points_total"},
	},
}

// metricMatch selects series of one metric family on a /metrics page. With
// notStatus, only series whose code or status_code label does not start with
// it count (non-2xx answers).
type metricMatch struct {
	name      string
	labels    map[string]string
	notStatus string
}

// rejected sums the receiver's rejection and discard counters, by metric.
func (s *remoteStore) rejected(t *testing.T) map[string]float64 {
	t.Helper()
	fams, err := scrapeFamilies(s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, m := range rejections[s.name] {
		f, ok := fams[m.name]
		if !ok {
			continue
		}
		for _, sm := range f.GetMetric() {
			if !m.matches(sm) {
				continue
			}
			switch {
			case sm.GetCounter() != nil:
				out[m.name] += sm.GetCounter().GetValue()
			case sm.GetHistogram() != nil:
				out[m.name] += float64(sm.GetHistogram().GetSampleCount())
			default:
				out[m.name] += sm.GetUntyped().GetValue() + sm.GetGauge().GetValue()
			}
		}
	}
	return out
}

func (m metricMatch) matches(sm *dto.Metric) bool {
	labels := map[string]string{}
	for _, l := range sm.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	for k, v := range m.labels {
		if labels[k] != v {
			return false
		}
	}
	if m.notStatus != "" {
		code := labels["code"] + labels["status_code"]
		return code != "" && !strings.HasPrefix(code, m.notStatus)
	}
	return true
}

// checkNoRejections fails the test when the receiver refused or dropped anything.
func (s *remoteStore) checkNoRejections(t *testing.T) {
	t.Helper()
	for name, v := range s.rejected(t) {
		if v != 0 {
			t.Errorf("%s: %s = %v, want 0", s.name, name, v)
		}
	}
}

// scrapeFamilies reads a /metrics page in the text format.
func scrapeFamilies(url string) (map[string]*dto.MetricFamily, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain;version=0.0.4")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return fams, nil
}

// writeStoreConfig writes an agent config file that pushes to the cluster's
// Prometheus 3.16 (the reference, endpoint "reference") and to each of the
// extra remote_write entries given (YAML list items), every series labelled
// e2e_store=<label>, asking every endpoint for Remote-Write 2.0.
func writeStoreConfig(t *testing.T, ns, label string, extra ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "namespaces: [%s]\nlabels_allow_list: {pods: ['*']}\nexternal_labels:\n  e2e_store: %s\nremote_write:\n", ns, label)
	fmt.Fprintf(&b, "  - name: reference\n    url: %s/api/v1/write\n    protobuf_message: io.prometheus.write.v2.Request\n", env.promURL)
	for _, e := range extra {
		b.WriteString(e)
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func storeEndpoint(name, url string) string {
	return fmt.Sprintf("  - name: %s\n    url: %s\n    protobuf_message: io.prometheus.write.v2.Request\n", name, url)
}

// checkSameSeries waits until the store holds exactly the series the
// reference Prometheus holds for the selector (names, labels, values).
func checkSameSeries(t *testing.T, s *remoteStore, selector string, within time.Duration) int {
	t.Helper()
	var matched int
	eventually(t, within, s.name+": the same series as Prometheus 3.16", func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		ref, err := parity.QueryPrometheus(ctx, http.DefaultClient, env.promURL, selector, 0)
		if err != nil {
			return err
		}
		got, err := s.series(ctx, selector)
		if err != nil {
			return err
		}
		r := parity.Compare(parity.FromSeries(ref), got, 0)
		if !r.OK() || r.Matched != len(ref) || len(ref) == 0 {
			var b strings.Builder
			_ = r.Write(&b, 3)
			return fmt.Errorf("%d reference series, %d in %s:\n%s", len(ref), len(got), s.name, b.String())
		}
		matched = r.Matched
		return nil
	})
	return matched
}

// sampleCount is the number of raw samples of the one series q selects over
// the window ending at at, read with count_over_time.
func sampleCount(c *http.Client, base, q string, window time.Duration, at time.Time) (float64, error) {
	res, err := queryURL(c, base, "", "", fmt.Sprintf("count_over_time(%s[%ds])", q, int(window.Seconds())), at)
	if err != nil {
		return 0, err
	}
	if len(res) != 1 {
		return 0, fmt.Errorf("count_over_time(%s): %d series", q, len(res))
	}
	return res[0].Value, nil
}

// storeBounds are how long a change may take to be queryable in each store:
// the agent's bound on the real path (2 s, as TestChangesVisibleWithin2s)
// plus what the store itself takes to make a pushed sample queryable
// (VictoriaMetrics flushes its in-memory parts each second and caches new
// series' index entries; the Collector's exporter batches).
var storeBounds = map[string]time.Duration{
	"mimir": 2 * time.Second, "cortex": 2 * time.Second, "thanos": 2 * time.Second,
	"victoria-metrics": 10 * time.Second, "otelcol": 5 * time.Second,
}

// TestRemoteStores pushes to each remote storage users run, with the protocol
// each takes best (Remote-Write 2.0 asked for everywhere; Thanos receive and
// VictoriaMetrics get 1.0 by the automatic fallback), side by side with the
// cluster's Prometheus 3.16 in the same agent, and checks on each: the same
// series as Prometheus, a change queryable and a deleted pod's series gone
// within the bounds, the fallback (or none), and nothing refused or dropped by
// the store across a restart and a kill -9 of the agent with its WAL.
func TestRemoteStores(t *testing.T) {
	for _, name := range []string{"mimir", "cortex", "thanos", "victoria-metrics", "otelcol"} {
		t.Run(name, func(t *testing.T) { testStore(t, name) })
	}
}

func testStore(t *testing.T, name string) {
	ns := "e2e-store-" + name
	createNamespace(t, ns)
	createDeployment(t, ns, "web", 2)
	createPendingPod(t, ns, "waiting")
	createPendingPod(t, ns, "doomed")
	createLabelledPod(t, ns, "wide", 32) // kube_pod_labels over the default 30 labels
	createLabelledPod(t, ns, "narrow", 3)
	// The Collector logs the data points it gets, to show their start timestamps.
	s := startStore(t, name, "KSP_RECEIVER_OTEL_DEBUG=1")
	cfg := writeStoreConfig(t, ns, name, storeEndpoint("store", s.push))
	wal := t.TempDir()
	started := time.Now()
	a := startAgentFlags(t, "--config", cfg, "--wal-dir", wal)
	waitAvailable(t, ns, "web", 2)

	selector := fmt.Sprintf(`{e2e_store=%q}`, name)
	n := checkSameSeries(t, s, selector, 60*time.Second)
	t.Logf("%s: %d series equal to Prometheus 3.16's", name, n)

	// The series over the label count limit was dropped before sending, on
	// both endpoints, so the store refused nothing; the narrow one arrived.
	if err := valueIn(s, fmt.Sprintf(`kube_pod_labels{namespace=%q,pod="narrow"}`, ns), 1); err != nil {
		t.Error(err)
	}
	if res, err := s.query(fmt.Sprintf(`kube_pod_labels{namespace=%q,pod="wide"}`, ns)); err != nil || len(res) != 0 {
		t.Errorf("%s: the series over the label limit arrived: %v %v", name, res, err)
	}
	if v := a.metric(`kube_state_push_remote_write_label_limit_samples_dropped_total{endpoint="store",family="kube_pod_labels",reason="label_count"}`); v < 1 {
		t.Errorf("%s: no sample counted as dropped for the label count", name)
	}
	if name == "otelcol" {
		checkCollectorStartTimestamps(t, s)
	}

	// The protocol: 2.0 where taken, else 1.0 after one fallback, logged once.
	wantMsg, wantFallback := "io.prometheus.write.v2.Request", 0.0
	if s.protocol == "1.0" {
		wantMsg, wantFallback = "prometheus.WriteRequest", 1
	}
	if v := a.metric(fmt.Sprintf(`kube_state_push_remote_write_protobuf_message{endpoint="store",protobuf_message=%q}`, wantMsg)); v != 1 {
		t.Errorf("%s: not sending %s", name, wantMsg)
	}
	if v := a.metric(`kube_state_push_remote_write_requests_total{endpoint="store",result="fallback"}`); v != wantFallback {
		t.Errorf("%s: %v fallbacks, want %v", name, v, wantFallback)
	}
	if got := strings.Count(a.out.String(), "sending 1.0 from now on"); got != int(wantFallback) {
		t.Errorf("%s: fallback logged %d times, want %v", name, got, wantFallback)
	}

	// A change, and a delete.
	bound := storeBounds[name]
	changed := scaleDeployment(t, ns, "web", 3)
	took := eventually(t, bound+5*time.Second, name+": replicas 3", func() error {
		return valueIn(s, fmt.Sprintf(`kube_deployment_spec_replicas{namespace=%q,deployment="web"}`, ns), 3)
	})
	if took > bound {
		t.Errorf("%s: change queryable after %s, bound %s", name, took.Round(time.Millisecond), bound)
	}
	t.Logf("%s: change queryable %s after the update", name, time.Since(changed).Round(time.Millisecond))
	deletePod(t, ns, "doomed")
	took = eventually(t, bound+5*time.Second, name+": deleted pod's series gone", func() error {
		res, err := s.query(fmt.Sprintf(`{namespace=%q,pod="doomed"}`, ns))
		if err == nil && len(res) > 0 {
			err = fmt.Errorf("%d series still answer, e.g. %v", len(res), res[0])
		}
		return err
	})
	if took > bound {
		t.Errorf("%s: deleted series gone after %s, bound %s", name, took.Round(time.Millisecond), bound)
	}

	// A clean restart, then a kill -9, each with changes while the agent is down.
	a.stop(t)
	scaleDeployment(t, ns, "web", 1)
	patchPhase(t, ns, "waiting", "Running")
	a = startAgentFlags(t, "--config", cfg, "--wal-dir", wal)
	scaleDeployment(t, ns, "web", 2)
	time.Sleep(time.Second)
	a.kill9(t)
	deletePod(t, ns, "waiting")
	a = startAgentFlags(t, "--config", cfg, "--wal-dir", wal)
	waitAvailable(t, ns, "web", 2)
	eventually(t, 30*time.Second, "WAL backlog delivered", func() error {
		for _, ep := range []string{"reference", "store"} {
			if v := a.metric(fmt.Sprintf(`kube_state_push_wal_backlog_records{endpoint=%q}`, ep)); v != 0 {
				return fmt.Errorf("%s: %v records not delivered", ep, v)
			}
		}
		return nil
	})
	checkSameSeries(t, s, selector, 60*time.Second)

	// Every sample the reference holds, the store holds: also those sent before
	// a fallback, across the restarts, and the deleted pods' markers.
	q := fmt.Sprintf(`kube_namespace_created{namespace=%q,e2e_store=%q}`, ns, name)
	eventually(t, bound+5*time.Second, name+": the same samples as Prometheus", func() error {
		at := time.Now().Add(-bound)
		window := at.Sub(started) + 10*time.Second
		want, err := sampleCount(http.DefaultClient, env.promURL, q, window, at)
		if err != nil {
			return err
		}
		got, err := sampleCount(s.client, s.queryURL, q, window, at)
		if err != nil {
			return err
		}
		if got != want {
			return fmt.Errorf("%s holds %v samples of %s, Prometheus %v", name, got, q, want)
		}
		return nil
	})
	for _, p := range []string{"waiting", "doomed"} {
		if res, err := s.query(fmt.Sprintf(`{namespace=%q,pod=%q}`, ns, p)); err != nil || len(res) > 0 {
			t.Errorf("%s: deleted pod %s still answers: %v %v", name, p, res, err)
		}
	}
	s.checkNoRejections(t)
	if v := a.metric("kube_state_push_wal_dropped_samples_total"); v != 0 {
		t.Errorf("%s: the WAL dropped %v samples", name, v)
	}
	// The only samples dropped are the wide pod's kube_pod_labels.
	dropped := a.metric("kube_state_push_remote_write_samples_dropped_total")
	if limited := a.metric(`kube_state_push_remote_write_samples_dropped_total{endpoint="store",reason="label_count"}`) +
		a.metric(`kube_state_push_remote_write_samples_dropped_total{endpoint="reference",reason="label_count"}`); dropped != limited {
		t.Errorf("%s: %v samples dropped, %v of them for the label limit", name, dropped, limited)
	}
}

// createLabelledPod creates a pending pod with n Kubernetes labels.
func createLabelledPod(t *testing.T, ns, name string, n int) {
	t.Helper()
	createPendingPod(t, ns, name)
	labels := map[string]string{}
	for i := range n {
		labels[fmt.Sprintf("label-%02d", i)] = "v"
	}
	patch, _ := json.Marshal(map[string]any{"metadata": map[string]any{"labels": labels}})
	if _, err := env.client.CoreV1().Pods(ns).Patch(testContext(t), name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
}

// checkCollectorStartTimestamps reads the Collector's debug exporter output:
// its restart counters' data points have the pods' start timestamps, not the
// zero (unknown) start of a counter sent without one.
func checkCollectorStartTimestamps(t *testing.T, s *remoteStore) {
	t.Helper()
	log := filepath.Join(s.stateDir, "logs", "otelcol.log")
	eventually(t, 10*time.Second, "restart counters with a start timestamp at the Collector", func() error {
		b, err := os.ReadFile(log)
		if err != nil {
			return err
		}
		text := string(b)
		i := strings.Index(text, "Name: kube_pod_container_status_restarts_total")
		if i < 0 {
			return fmt.Errorf("no restart counter in %s yet", log)
		}
		j := strings.Index(text[i:], "StartTimestamp: ")
		if j < 0 {
			return fmt.Errorf("no data point of the restart counter in %s", log)
		}
		line, _, _ := strings.Cut(text[i+j+len("StartTimestamp: "):], "\n")
		if strings.HasPrefix(line, "1970-01-01") {
			return fmt.Errorf("restart counter with start %s", line)
		}
		return nil
	})
}

// valueIn expects q to give one series with value want in the store.
func valueIn(s *remoteStore, q string, want float64) error {
	res, err := s.query(q)
	if err != nil {
		return err
	}
	if len(res) != 1 || res[0].Value != want {
		return fmt.Errorf("%s: %v, want one series = %v", q, res, want)
	}
	return nil
}

// TestMimirHATracker runs two agents in --ha-mode=replica-labels behind one
// Mimir with its HA tracker on: the samples of one replica are kept, the
// other's deduplicated; after a kill -9 of the elected replica the other is
// elected within Mimir's failover timeout. Mimir elects on the first request of
// the other replica that comes more than the failover timeout after the killed
// one's last (up to a resend interval after that), and may drop that request
// while its replicas' view catches up with the election, keeping the samples of
// the next (another resend interval): an unchanged series resumes within the
// failover timeout plus two resend intervals after the kill, and its longest gap
// is at most that plus the age of the killed replica's last sample (a third), as
// for any sender that sends each series once per interval.
func TestMimirHATracker(t *testing.T) {
	const failover = 5 * time.Second
	ns := "e2e-store-ha"
	createNamespace(t, ns)
	createPendingPod(t, ns, "p")
	s := startStore(t, "mimir", "KSP_RECEIVER_HA_TRACKER=1", "KSP_RECEIVER_HA_FAILOVER="+failover.String())
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("namespaces: [%s]\nresources: [pods, namespaces]\nremote_write:\n%s",
		ns, storeEndpoint("store", s.push))), 0o600); err != nil {
		t.Fatal(err)
	}
	agents := map[string]*agentProc{}
	for _, r := range []string{"r1", "r2"} {
		agents[r] = startAgentFlags(t, "--config", cfg, "--ha-mode", "replica-labels", "--ha-cluster", "e2e-ha", "--ha-replica", r)
	}
	q := fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="p",phase="Pending",cluster="e2e-ha"}`, ns)
	eventually(t, 20*time.Second, "series of the elected replica", func() error { return valueIn(s, q, 1) })
	if res, err := s.query(q); err != nil || len(res) != 1 || res[0].Labels["__replica__"] != "" {
		t.Fatalf("want one series without __replica__: %v %v", res, err)
	}

	elected := func() (string, error) {
		fams, err := scrapeFamilies(s.metrics)
		if err != nil {
			return "", err
		}
		// A counter that Mimir resets to 1 for the elected replica.
		for _, m := range fams["cortex_ha_tracker_elected_replica_status"].GetMetric() {
			if m.GetCounter().GetValue() != 1 {
				continue
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == "replica" {
					return l.GetValue(), nil
				}
			}
		}
		return "", fmt.Errorf("no elected replica in %s", s.metrics)
	}
	var first string
	eventually(t, 10*time.Second, "a replica elected", func() (err error) { first, err = elected(); return err })
	other := map[string]string{"r1": "r2", "r2": "r1"}[first]
	// Both send; only one replica's samples are kept: as many samples per
	// series as one agent sends, not twice as many, and the rest deduplicated.
	time.Sleep(4 * resendInterval)
	kept, err := sampleCount(s.client, s.queryURL, q, 4*resendInterval, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if kept < 3 || kept > 5 {
		t.Errorf("%v samples kept over 4 resend intervals, want one replica's 4", kept)
	}
	dedup, err := scrapeFamilies(s.metrics)
	if err != nil {
		t.Fatal(err)
	}
	var deduped float64
	for _, m := range dedup["cortex_distributor_deduped_samples_total"].GetMetric() {
		deduped += m.GetCounter().GetValue()
	}
	if deduped == 0 {
		t.Errorf("no sample of replica %s deduplicated", other)
	}

	killed := time.Now()
	agents[first].kill9(t)
	eventually(t, failover+resendInterval+5*time.Second, "the other replica elected", func() error {
		r, err := elected()
		if err == nil && r != other {
			err = fmt.Errorf("elected %s", r)
		}
		return err
	})
	t.Logf("replica %s elected %s after the kill of %s", other, time.Since(killed).Round(time.Millisecond), first)
	time.Sleep(2 * resendInterval)
	ts, err := rawTimes(s, q, time.Since(killed)+2*resendInterval)
	if err != nil {
		t.Fatal(err)
	}
	var gap time.Duration
	for i := 1; i < len(ts); i++ {
		gap = max(gap, ts[i].Sub(ts[i-1]))
	}
	var resumed time.Time
	for _, at := range ts {
		if at.After(killed) {
			resumed = at
			break
		}
	}
	t.Logf("%s resumed %s after the kill; longest gap across the failover %s", q, resumed.Sub(killed).Round(time.Millisecond), gap)
	switch {
	case resumed.IsZero():
		t.Errorf("no sample of replica %s after the kill: %v", other, ts)
	case resumed.Sub(killed) > failover+2*resendInterval+time.Second:
		t.Errorf("resumed %s after the kill, want within the failover timeout %s + two resend intervals", resumed.Sub(killed), failover)
	}
	if gap > failover+3*resendInterval+time.Second {
		t.Errorf("gap %s across the failover, want at most the failover timeout %s + three resend intervals", gap, failover)
	}
	s.checkNoRejections(t)
}

// rawTimes returns the timestamps of the raw samples of the one series q
// selects over the window before now.
func rawTimes(s *remoteStore, q string, window time.Duration) ([]time.Time, error) {
	res, err := queryMatrix(s.client, s.queryURL, fmt.Sprintf("%s[%ds]", q, int(window.Seconds()+1)))
	if err != nil {
		return nil, err
	}
	if len(res) != 1 {
		return nil, fmt.Errorf("%s: %d series", q, len(res))
	}
	return res[0], nil
}

// TestMimirTenants sends to one Mimir with multitenancy on through two
// endpoints with different X-Scope-OrgID headers: each tenant holds what its
// endpoint sent, and a third tenant nothing.
func TestMimirTenants(t *testing.T) {
	ns := "e2e-store-tenants"
	createNamespace(t, ns)
	createPendingPod(t, ns, "p")
	s := startStore(t, "mimir", "KSP_RECEIVER_TENANTS=1")
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`namespaces: [%[1]s]
resources: [pods, namespaces]
remote_write:
  - name: team-a
    url: %[2]s
    headers: {X-Scope-OrgID: team-a}
  - name: team-b
    url: %[2]s
    headers: {X-Scope-OrgID: team-b}
    protobuf_message: io.prometheus.write.v2.Request
    write_relabel_configs:
      - {source_labels: [__name__], regex: kube_pod_.+, action: keep}
`, ns, s.push)), 0o600); err != nil {
		t.Fatal(err)
	}
	startAgentFlags(t, "--config", cfg)
	podQ := fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="p",phase="Pending"}`, ns)
	nsQ := fmt.Sprintf(`kube_namespace_created{namespace=%q}`, ns)
	for _, c := range []struct {
		tenant   string
		pod, nss int
	}{{"team-a", 1, 1}, {"team-b", 1, 0}, {"team-c", 0, 0}} {
		v := s.tenant(c.tenant)
		eventually(t, 20*time.Second, "tenant "+c.tenant, func() error {
			for q, want := range map[string]int{podQ: c.pod, nsQ: c.nss} {
				res, err := v.query(q)
				if err != nil {
					return err
				}
				if len(res) != want {
					return fmt.Errorf("%s: %d series, want %d", q, len(res), want)
				}
			}
			return nil
		})
	}
	s.checkNoRejections(t)
}

// TestMimirRefusesOneSeries turns the label limits off, so that a series over
// Mimir's 30 labels reaches it among valid ones. Mimir stores the rest of the
// request and answers 400; the agent sends the request again in halves until
// only the refused series is left, and counts exactly its samples as dropped:
// as many as the reference Prometheus (which takes it) holds.
func TestMimirRefusesOneSeries(t *testing.T) {
	ns := "e2e-store-refused"
	createNamespace(t, ns)
	createPendingPod(t, ns, "p")
	createLabelledPod(t, ns, "wide", 32)
	s := startStore(t, "mimir")
	unlimited := "    label_limits: {max_label_names_per_series: 0}\n"
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`namespaces: [%s]
resources: [pods]
labels_allow_list: {pods: ['*']}
external_labels: {e2e_store: refused}
remote_write:
%s%s%s%s`, ns, storeEndpoint("reference", env.promURL+"/api/v1/write"), unlimited, storeEndpoint("store", s.push), unlimited)), 0o600); err != nil {
		t.Fatal(err)
	}
	started := time.Now()
	a := startAgentFlags(t, "--config", cfg)
	wide := fmt.Sprintf(`kube_pod_labels{namespace=%q,pod="wide",e2e_store="refused"}`, ns)
	eventually(t, 30*time.Second, "the refused series' samples counted as dropped, no more", func() error {
		sent, err := sampleCount(http.DefaultClient, env.promURL, wide, time.Since(started)+5*time.Second, time.Now())
		if err != nil {
			return err
		}
		dropped := a.metric(`kube_state_push_remote_write_samples_dropped_total{endpoint="store",reason="http_400"}`)
		all := a.metric(`kube_state_push_remote_write_samples_dropped_total`)
		if dropped != sent || all != dropped || sent < 2 {
			return fmt.Errorf("%v samples of the refused series sent to the reference, %v counted as refused by Mimir, %v dropped in all",
				sent, dropped, all)
		}
		return nil
	})
	// Everything else of the pods reached Mimir.
	checkSameSeries(t, s, `{e2e_store="refused",__name__!="kube_pod_labels"}`, 30*time.Second)
	if err := valueIn(s, fmt.Sprintf(`kube_pod_labels{namespace=%q,pod="p"}`, ns), 1); err != nil {
		t.Error(err)
	}
	if got := a.metric(`kube_state_push_remote_write_requests_total{endpoint="store",result="split"}`); got == 0 {
		t.Error("no request was sent again in halves")
	}
}
