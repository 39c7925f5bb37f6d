package parity

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// ksmText is a small KSM exposition: a family with no series, empty-valued
// labels, a time-valued family, a counter and two series that become one once
// empty labels are dropped.
const ksmText = `# HELP kube_pod_info [STABLE] Information about pod.
# TYPE kube_pod_info gauge
kube_pod_info{namespace="ns",pod="a",priority_class="",node="n1"} 1
kube_pod_info{namespace="ns",pod="b",priority_class="",node="n2"} 1
# HELP kube_pod_created [STABLE] Unix creation timestamp
# TYPE kube_pod_created gauge
kube_pod_created{namespace="ns",pod="a"} 1.7e+09
# HELP kube_pod_container_status_restarts_total [STABLE] restarts
# TYPE kube_pod_container_status_restarts_total counter
kube_pod_container_status_restarts_total{namespace="ns",pod="a",container="c"} 3
# HELP kube_pod_owner [STABLE] owner
# TYPE kube_pod_owner gauge
kube_pod_owner{namespace="ns",pod="a",owner_kind="",owner_name=""} 1
kube_pod_owner{namespace="ns",pod="a",owner_kind="",owner_name="",owner_is_controller=""} 1
# HELP kube_pod_labels [STABLE] labels
# TYPE kube_pod_labels gauge
# HELP kube_node_info [STABLE] node
# TYPE kube_node_info gauge
kube_node_info{node="n1",kubeproxy_version="deprecated"} 1
`

// promVector renders series as Prometheus's /api/v1/query answer.
func promVector(ss ...string) string {
	return `{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(ss, ",") + `]}}`
}

func promSeries(labels, value string) string {
	return fmt.Sprintf(`{"metric":{%s},"value":[1700000000.123,%q]}`, labels, value)
}

// matchingVector is what Prometheus holds when it agrees with ksmText.
var matchingVector = []string{
	promSeries(`"__name__":"kube_pod_info","namespace":"ns","pod":"a","node":"n1"`, "1"),
	promSeries(`"__name__":"kube_pod_info","namespace":"ns","pod":"b","node":"n2"`, "1"),
	promSeries(`"__name__":"kube_pod_created","namespace":"ns","pod":"a"`, "1700000001"),
	promSeries(`"__name__":"kube_pod_container_status_restarts_total","namespace":"ns","pod":"a","container":"c"`, "3"),
	promSeries(`"__name__":"kube_pod_owner","namespace":"ns","pod":"a"`, "1"),
	promSeries(`"__name__":"kube_node_info","node":"n1","kubeproxy_version":"deprecated"`, "1"),
}

func mustParse(t *testing.T, text string) Exposition {
	t.Helper()
	e, err := ParseExposition(strings.NewReader(text))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func mustDecode(t *testing.T, body string) []Series {
	t.Helper()
	ss, err := decodeVector(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func TestParseExpositionDropsEmptyLabelsAndKeepsEmptyFamilies(t *testing.T) {
	e := mustParse(t, ksmText)
	got := map[string][]string{}
	for name, ss := range e.Families {
		got[name] = []string{}
		for _, s := range ss {
			got[name] = append(got[name], s.String())
		}
	}
	want := map[string][]string{
		"kube_pod_info":    {`kube_pod_info{namespace="ns",node="n1",pod="a"} 1`, `kube_pod_info{namespace="ns",node="n2",pod="b"} 1`},
		"kube_pod_created": {`kube_pod_created{namespace="ns",pod="a"} 1.7e+09`},
		"kube_pod_container_status_restarts_total": {
			`kube_pod_container_status_restarts_total{container="c",namespace="ns",pod="a"} 3`},
		"kube_pod_owner":  {`kube_pod_owner{namespace="ns",pod="a"} 1`, `kube_pod_owner{namespace="ns",pod="a"} 1`},
		"kube_pod_labels": {},
		"kube_node_info":  {`kube_node_info{kubeproxy_version="deprecated",node="n1"} 1`},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("families (-want +got):\n%s", d)
	}
	if n := e.Series(); n != 7 {
		t.Errorf("Series() = %d, want 7", n)
	}
}

func TestParseExpositionRejectsGarbage(t *testing.T) {
	if _, err := ParseExposition(strings.NewReader("kube_pod_info{namespace=\"ns\" 1\n")); err == nil {
		t.Error("no error for a broken line")
	}
}

func TestDecodeVector(t *testing.T) {
	got := mustDecode(t, promVector(
		promSeries(`"__name__":"kube_a_b","x":"1"`, "NaN"),
		promSeries(`"__name__":"kube_a_c"`, "+Inf"),
		promSeries(`"__name__":"kube_a_d"`, "0.25")))
	if len(got) != 3 || !math.IsNaN(got[0].Value) || !math.IsInf(got[1].Value, 1) || got[2].Value != 0.25 {
		t.Fatalf("decoded %v", got)
	}
	if s := got[0].Key(); s != `kube_a_b{x="1"}` {
		t.Errorf("labels %s", s)
	}
	for _, bad := range []string{
		`{"status":"error","errorType":"bad_data","error":"parse error"}`,
		`{"status":"success","data":{"resultType":"matrix","result":[]}}`,
		promVector(promSeries(`"__name__":"kube_a_b"`, "one")),
		`not json`,
	} {
		if _, err := decodeVector(strings.NewReader(bad)); err == nil {
			t.Errorf("no error for %s", bad)
		}
	}
}

func TestScopeQuery(t *testing.T) {
	e := mustParse(t, ksmText+"# TYPE kube_state_metrics_x gauge\n# TYPE kube_persistentvolumeclaim_info gauge\n# TYPE kube_limitrange gauge\n")
	q, err := ScopeQuery(e)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{__name__=~"kube_(limitrange|node|persistentvolumeclaim|pod)(_.+)?"}`; q != want {
		t.Errorf("ScopeQuery = %s, want %s", q, want)
	}
	if _, err := ScopeQuery(mustParse(t, "# TYPE up gauge\nup 1\n")); err == nil {
		t.Error("no error for an exposition without kube_ families")
	}
}

func TestIsTimeFamily(t *testing.T) {
	for name, want := range map[string]bool{
		"kube_pod_created": true, "kube_pod_deletion_timestamp": true, "kube_pod_start_time": true,
		"kube_job_status_completion_time": true, "kube_lease_renew_time": true,
		"kube_pod_container_state_started": true, "kube_serviceaccount_deleted": true,
		"kube_cronjob_spec_starting_deadline_seconds": false, "kube_pod_info": false,
		"kube_pod_container_status_restarts_total": false,
	} {
		if got := IsTimeFamily(name); got != want {
			t.Errorf("IsTimeFamily(%s) = %v, want %v", name, got, want)
		}
	}
}

func TestCompareFullParity(t *testing.T) {
	r := Compare(mustParse(t, ksmText), mustDecode(t, promVector(matchingVector...)), 2*time.Second)
	if !r.OK() || r.KSMSeries != 6 || r.Matched != 6 || r.Percent() != 100 {
		t.Fatalf("report %+v", r)
	}
	if len(r.DuplicateKSM) != 1 {
		t.Errorf("duplicates %v, want the second kube_pod_owner", r.DuplicateKSM)
	}
}

func TestCompareFindsEveryKindOfDifference(t *testing.T) {
	prom := []string{
		// kube_pod_info{pod="b"} missing; kube_pod_info{pod="c"} extra.
		promSeries(`"__name__":"kube_pod_info","namespace":"ns","pod":"a","node":"n1"`, "1"),
		promSeries(`"__name__":"kube_pod_info","namespace":"ns","pod":"c","node":"n2"`, "1"),
		// A time 3 s off is outside a 2 s tolerance.
		promSeries(`"__name__":"kube_pod_created","namespace":"ns","pod":"a"`, "1700000003"),
		// A count is never compared with tolerance.
		promSeries(`"__name__":"kube_pod_container_status_restarts_total","namespace":"ns","pod":"a","container":"c"`, "4"),
		// An empty owner label that Prometheus would not hold makes another series.
		promSeries(`"__name__":"kube_pod_owner","namespace":"ns","pod":"a","owner_kind":"X"`, "1"),
		promSeries(`"__name__":"kube_node_info","node":"n1","kubeproxy_version":"deprecated"`, "1"),
		// A family KSM does not announce, of a covered resource: extra family.
		promSeries(`"__name__":"kube_pod_bogus","namespace":"ns","pod":"a"`, "1"),
		// Other resources and self-metrics are out of scope.
		promSeries(`"__name__":"kube_deployment_bogus","namespace":"ns"`, "1"),
		promSeries(`"__name__":"kube_state_push_ready"`, "1"),
	}
	r := Compare(mustParse(t, ksmText), mustDecode(t, promVector(prom...)), 2*time.Second)
	if r.OK() {
		t.Fatal("OK despite differences")
	}
	if r.KSMSeries != 6 || r.Matched != 2 {
		t.Errorf("matched %d of %d, want 2 of 6", r.Matched, r.KSMSeries)
	}
	got := map[string]string{}
	for name, d := range r.Families {
		got[name] = fmt.Sprintf("missing=%v differing=%v extra=%v", d.Missing, d.Differing, d.Extra)
	}
	want := map[string]string{
		"kube_pod_info": `missing=[kube_pod_info{namespace="ns",node="n2",pod="b"} 1] differing=[] ` +
			`extra=[kube_pod_info{namespace="ns",node="n2",pod="c"} 1]`,
		"kube_pod_created":                         `missing=[] differing=[{kube_pod_created{namespace="ns",pod="a"} 1.7e+09 1.700000003e+09}] extra=[]`,
		"kube_pod_container_status_restarts_total": `missing=[] differing=[{kube_pod_container_status_restarts_total{container="c",namespace="ns",pod="a"} 3 4}] extra=[]`,
		"kube_pod_owner": `missing=[kube_pod_owner{namespace="ns",pod="a"} 1] differing=[] ` +
			`extra=[kube_pod_owner{namespace="ns",owner_kind="X",pod="a"} 1]`,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("differences (-want +got):\n%s", d)
	}
	if len(r.ExtraFamilies) != 1 || len(r.ExtraFamilies["kube_pod_bogus"]) != 1 {
		t.Errorf("extra families %v, want kube_pod_bogus only", r.ExtraFamilies)
	}
}

func TestCompareToleranceAppliesToTimeFamiliesOnly(t *testing.T) {
	e := mustParse(t, "# TYPE kube_pod_created gauge\nkube_pod_created{pod=\"a\"} 100\n# TYPE kube_pod_x gauge\nkube_pod_x{pod=\"a\"} NaN\n")
	prom := mustDecode(t, promVector(
		promSeries(`"__name__":"kube_pod_created","pod":"a"`, "102"),
		promSeries(`"__name__":"kube_pod_x","pod":"a"`, "NaN")))
	if r := Compare(e, prom, 2*time.Second); !r.OK() {
		t.Errorf("2 s apart within 2 s tolerance, NaN = NaN: %+v", r)
	}
	if r := Compare(e, prom, time.Second); r.OK() {
		t.Error("2 s apart passed a 1 s tolerance")
	}
}

func TestCompareEmptyKSMIsNotParity(t *testing.T) {
	r := Compare(mustParse(t, "# TYPE kube_pod_info gauge\n"), nil, time.Second)
	if r.OK() || r.Percent() != 0 {
		t.Errorf("an empty exposition passed: %+v", r)
	}
}

func TestReportWrite(t *testing.T) {
	prom := append([]string{}, matchingVector[1:]...)
	prom = append(prom, promSeries(`"__name__":"kube_pod_bogus","pod":"z"`, "1"))
	r := Compare(mustParse(t, ksmText), mustDecode(t, promVector(prom...)), 2*time.Second)
	r.Tries = 5
	var b strings.Builder
	if err := r.Write(&b, 1); err != nil {
		t.Fatal(err)
	}
	want := `parity 83.33%: 5 of 6 KSM series matched (1 missing, 0 differing); 0 extra series, 1 extra families; 5 tries
family kube_pod_info: 1 missing, 0 differing, 0 extra
  missing   kube_pod_info{namespace="ns",node="n1",pod="a"} 1
extra family kube_pod_bogus (not exposed by KSM): 1 series
  extra     kube_pod_bogus{pod="z"} 1
note: 1 KSM series repeat another's labels once empty labels are dropped (not counted)
  duplicate kube_pod_owner{namespace="ns",pod="a"} 1
note: 1 KSM families have no series, so nothing of them was compared: kube_pod_labels
`
	if d := cmp.Diff(want, b.String()); d != "" {
		t.Errorf("report (-want +got):\n%s", d)
	}
}

func TestFormatPercentNeverRoundsUpTo100(t *testing.T) {
	if got := formatPercent(100 * 99999.0 / 100000); got != "99.99%" {
		t.Errorf("formatPercent = %s, want 99.99%%", got)
	}
}

// fakeServers serves ksmText and answers queries with the vector vec(n) for
// the n-th query, recording the query and lookback it got.
func fakeServers(t *testing.T, vec func(n int) string) (ksmURL, promURL string, queries *atomic.Int32, lastQuery *atomic.Value) {
	t.Helper()
	ksm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprint(w, ksmText)
	}))
	t.Cleanup(ksm.Close)
	queries, lastQuery = &atomic.Int32{}, &atomic.Value{}
	prom := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/query" || r.ParseForm() != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		lastQuery.Store(r.Form.Get("query") + " lookback=" + r.Form.Get("lookback_delta"))
		fmt.Fprint(w, vec(int(queries.Add(1))))
	}))
	t.Cleanup(prom.Close)
	return ksm.URL + "/metrics", prom.URL, queries, lastQuery
}

func TestRunRetriesUntilParity(t *testing.T) {
	ksmURL, promURL, queries, last := fakeServers(t, func(n int) string {
		if n < 3 {
			return promVector(matchingVector[1:]...)
		}
		return promVector(matchingVector...)
	})
	r, err := Run(context.Background(), Options{KSMURL: ksmURL, PrometheusURL: promURL, Tolerance: 2 * time.Second,
		Lookback: 15 * time.Second, Tries: 5, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if !r.OK() || r.Tries != 3 || queries.Load() != 3 {
		t.Errorf("report %+v after %d queries, want parity at try 3", r, queries.Load())
	}
	if got, want := last.Load(), `{__name__=~"kube_(node|pod)(_.+)?"} lookback=15s`; got != want {
		t.Errorf("query %q, want %q", got, want)
	}
}

func TestRunReportsTheLastTryAfterAllFail(t *testing.T) {
	ksmURL, promURL, queries, _ := fakeServers(t, func(int) string { return promVector(matchingVector[1:]...) })
	r, err := Run(context.Background(), Options{KSMURL: ksmURL, PrometheusURL: promURL, Tolerance: 2 * time.Second,
		Tries: 4, Interval: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.OK() || r.Tries != 4 || queries.Load() != 4 || r.Matched != 5 {
		t.Errorf("report %+v after %d queries", r, queries.Load())
	}
}

func TestRunFailsWhenUnreachable(t *testing.T) {
	ksmURL, _, _, _ := fakeServers(t, func(int) string { return promVector() })
	_, err := Run(context.Background(), Options{KSMURL: ksmURL, PrometheusURL: "http://127.0.0.1:1", Tries: 2, Interval: time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "query") {
		t.Errorf("error %v, want a query error", err)
	}
	_, err = Run(context.Background(), Options{KSMURL: "http://127.0.0.1:1/metrics", PrometheusURL: "http://127.0.0.1:1"})
	if err == nil || !strings.Contains(err.Error(), "scrape") {
		t.Errorf("error %v, want a scrape error", err)
	}
}

// KSM's kube_secret_annotations with the last-applied annotation matches the
// agent's series without it, counted as an intended difference; in any other
// family the label is compared as usual.
func TestCompareIntendedDifference(t *testing.T) {
	ksm := `# TYPE kube_secret_annotations gauge
kube_secret_annotations{namespace="ns",secret="s",annotation_kubectl_kubernetes_io_last_applied_configuration="{\"data\":{}}",annotation_team="a"} 1
# TYPE kube_configmap_annotations gauge
kube_configmap_annotations{namespace="ns",configmap="c",annotation_kubectl_kubernetes_io_last_applied_configuration="{}"} 1
`
	prom := promVector(
		promSeries(`"__name__":"kube_secret_annotations","namespace":"ns","secret":"s","annotation_team":"a"`, "1"),
		promSeries(`"__name__":"kube_configmap_annotations","namespace":"ns","configmap":"c"`, "1"),
	)
	r := Compare(mustParse(t, ksm), mustDecode(t, prom), 0)
	if r.Intended != 1 || r.Matched != 1 || r.KSMSeries != 2 {
		t.Fatalf("report %+v", r)
	}
	if d := r.Families["kube_configmap_annotations"]; d == nil || len(d.Missing) != 1 {
		t.Errorf("the configmap's last-applied label was not compared: %+v", r.Families)
	}
	var out strings.Builder
	if err := r.Write(&out, 5); err != nil || !strings.Contains(out.String(), "1 KSM series compared without") {
		t.Errorf("report does not name the intended difference:\n%s", out.String())
	}
}

// One receiver's series as the reference for another's: equal sets match,
// and a series missing, changed or added on the other side is found.
func TestFromSeriesAsReference(t *testing.T) {
	ref := mustDecode(t, promVector(matchingVector...))
	if r := Compare(FromSeries(ref), ref, 0); !r.OK() || r.Matched != len(ref) {
		t.Fatalf("same series: %+v", r)
	}
	other := mustDecode(t, promVector(append(matchingVector[1:],
		promSeries(`"__name__":"kube_pod_info","namespace":"ns","pod":"z","node":"n1"`, "1"),
		promSeries(`"__name__":"kube_pod_extra","namespace":"ns","pod":"a"`, "1"))...))
	other[len(other)-3].Value = 5 // kube_node_info
	r := Compare(FromSeries(ref), other, 0)
	missing, differing, extra, extraFamilies := r.Counts()
	if r.OK() || missing != 1 || differing != 1 || extra != 1 || extraFamilies != 1 {
		t.Errorf("missing %d, differing %d, extra %d, extra families %d: %+v", missing, differing, extra, extraFamilies, r)
	}
}
