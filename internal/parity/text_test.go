package parity

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// oursText is ksmText as kube-state-push writes it: the same blocks, lines in
// another order within them.
const oursText = `# HELP kube_pod_info [STABLE] Information about pod.
# TYPE kube_pod_info gauge
kube_pod_info{namespace="ns",pod="b",priority_class="",node="n2"} 1
kube_pod_info{namespace="ns",pod="a",priority_class="",node="n1"} 1
# HELP kube_pod_created [STABLE] Unix creation timestamp
# TYPE kube_pod_created gauge
kube_pod_created{namespace="ns",pod="a"} 1.7e+09
# HELP kube_pod_container_status_restarts_total [STABLE] restarts
# TYPE kube_pod_container_status_restarts_total counter
kube_pod_container_status_restarts_total{namespace="ns",pod="a",container="c"} 3
# HELP kube_pod_owner [STABLE] owner
# TYPE kube_pod_owner gauge
kube_pod_owner{namespace="ns",pod="a",owner_kind="",owner_name="",owner_is_controller=""} 1
kube_pod_owner{namespace="ns",pod="a",owner_kind="",owner_name=""} 1
# HELP kube_pod_labels [STABLE] labels
# TYPE kube_pod_labels gauge
# HELP kube_node_info [STABLE] node
# TYPE kube_node_info gauge
kube_node_info{node="n1",kubeproxy_version="deprecated"} 1
`

func TestCompareTextParity(t *testing.T) {
	r := CompareText([]byte(ksmText), []byte(oursText))
	if !r.OK() || r.KSMLines != 7 || r.Matched != 7 || r.KSMFamilies != 6 {
		var b strings.Builder
		_ = r.Write(&b, 3)
		t.Fatalf("want parity of 7 lines in 6 blocks:\n%s", b.String())
	}
}

func TestCompareTextDifferences(t *testing.T) {
	for _, c := range []struct {
		name, ours string
		want       []string // in the report
	}{
		{"an empty label dropped", strings.Replace(oursText, `pod="b",priority_class="",`, `pod="b",`, 1),
			[]string{"text parity 85.71%", "family kube_pod_info: 1 missing, 1 extra lines",
				`missing kube_pod_info{namespace="ns",pod="b",priority_class="",node="n2"} 1`}},
		{"labels in another order", strings.Replace(oursText, `{node="n1",kubeproxy_version="deprecated"}`, `{kubeproxy_version="deprecated",node="n1"}`, 1),
			[]string{"family kube_node_info: 1 missing, 1 extra lines"}},
		{"value format", strings.Replace(oursText, "1.7e+09", "1700000000", 1), []string{"family kube_pod_created: 1 missing, 1 extra"}},
		{"help", strings.Replace(oursText, "[STABLE] node", "node", 1), []string{"family kube_node_info: 0 missing, 0 extra", "header KSM"}},
		{"family order", strings.ReplaceAll(strings.ReplaceAll(oursText, "kube_pod_created", "kube_pod_xcreated"), "kube_pod_info", "kube_pod_created"),
			[]string{"order differs: family block 1: KSM writes kube_pod_info, kube-state-push kube_pod_created"}},
		{"a family without headers", strings.Replace(oursText, "# HELP kube_pod_labels [STABLE] labels\n# TYPE kube_pod_labels gauge\n", "", 1),
			[]string{"family kube_pod_labels: written by KSM only (0 lines)", "order differs"}},
		{"eof", oursText + "# EOF\n", []string{"end differs"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := CompareText([]byte(ksmText), []byte(c.ours))
			var b strings.Builder
			_ = r.Write(&b, 3)
			if r.OK() {
				t.Fatalf("parity reported:\n%s", b.String())
			}
			for _, w := range c.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("report lacks %q:\n%s", w, b.String())
				}
			}
		})
	}
}

func TestRunTextRetriesAndContentType(t *testing.T) {
	ksm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		fmt.Fprint(w, ksmText)
	}))
	defer ksm.Close()
	calls := 0
	ours := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		calls++
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		if calls == 1 { // an object not yet seen, the first time
			fmt.Fprint(w, strings.Replace(oursText, "kube_pod_created{namespace=\"ns\",pod=\"a\"} 1.7e+09\n", "", 1))
			return
		}
		fmt.Fprint(w, oursText)
	}))
	defer ours.Close()
	r, err := RunText(context.Background(), TextOptions{KSMURL: ksm.URL, MetricsURL: ours.URL, Tries: 3, Interval: time.Millisecond})
	if err != nil || !r.OK() || r.Tries != 2 {
		t.Fatalf("RunText: %v, ok %v after %d tries", err, r.OK(), r.Tries)
	}

	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, oursText)
	}))
	defer plain.Close()
	r, _ = RunText(context.Background(), TextOptions{KSMURL: ksm.URL, MetricsURL: plain.URL})
	if r.OK() || len(r.ContentType) != 2 {
		t.Errorf("a different Content-Type was not reported: %+v", r.ContentType)
	}
}

func TestCompareTextIntendedDifference(t *testing.T) {
	const head = "# HELP kube_secret_annotations Kubernetes annotations converted to Prometheus labels.\n# TYPE kube_secret_annotations gauge\n"
	ksm := head + `kube_secret_annotations{namespace="ns",secret="s",annotation_kubectl_kubernetes_io_last_applied_configuration="{\"data\":{\"k\":\"c2VjcmV0\"}}\n",annotation_team="a"} 1` + "\n"
	ours := head + `kube_secret_annotations{namespace="ns",secret="s",annotation_team="a"} 1` + "\n"
	r := CompareText([]byte(ksm), []byte(ours))
	var b strings.Builder
	_ = r.Write(&b, 3)
	if !r.OK() || r.Intended != 1 || !strings.Contains(b.String(), "note: 1 KSM lines compared without") {
		t.Fatalf("want parity with one intended difference:\n%s", b.String())
	}
	if got, ok := dropTextLabel(`m{a="1"} 1`, lastAppliedLabel); ok || got != `m{a="1"} 1` {
		t.Errorf("dropTextLabel without the label: %q, %v", got, ok)
	}
}
