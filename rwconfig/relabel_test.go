package rwconfig

import (
	"testing"

	"github.com/prometheus/prometheus/model/relabel"

	"github.com/kube-state-push/kube-state-push/series"
)

// rules parses write_relabel_configs given as YAML lines.
func rules(t testing.TB, lines ...string) []*relabel.Config {
	t.Helper()
	doc := y(append([]string{
		"remote_write:",
		"  - url: https://a.example.com/push",
		"    write_relabel_configs:",
	}, lines...)...)
	cfg, err := load(t, doc)
	if err != nil {
		t.Fatal(err)
	}
	return cfg.RemoteWrite[0].Relabel
}

// podLabels is a series of a pod as the collectors build it: object labels
// shared through base, the family's own labels in extra.
func podLabels(name, namespace, pod string) series.Labels {
	base := []series.Label{{Name: "namespace", Value: namespace}, {Name: "pod", Value: pod}, {Name: "uid", Value: "0c6d-41"}}
	return series.New(name, &base, []series.Label{{Name: "node", Value: "node-1"}})
}

func TestRelabel(t *testing.T) {
	pod := podLabels("kube_pod_info", "default", "web-7")
	system := podLabels("kube_pod_info", "kube-system", "coredns-1")
	for _, tc := range []struct {
		name  string
		rules []string
		in    series.Labels
		want  string // "" for dropped
	}{
		{
			"drop keeps a series that does not match",
			[]string{"      - {source_labels: [namespace], regex: kube-system, action: drop}"},
			pod, pod.String(),
		},
		{
			"drop",
			[]string{"      - {source_labels: [namespace], regex: kube-system, action: drop}"},
			system, "",
		},
		{
			"keep by metric name",
			[]string{"      - {source_labels: [__name__], regex: 'kube_pod_.*', action: keep}"},
			pod, pod.String(),
		},
		{
			"keep drops the others",
			[]string{"      - {source_labels: [__name__], regex: 'kube_node_.*', action: keep}"},
			pod, "",
		},
		{
			"replace adds a label",
			[]string{
				"      - source_labels: [pod]",
				"        regex: '(.+)-[0-9]+'",
				"        target_label: workload",
				"        replacement: $1",
			},
			pod, `kube_pod_info{namespace="default",node="node-1",pod="web-7",uid="0c6d-41",workload="web"}`,
		},
		{
			"replace with an empty value deletes",
			[]string{"      - {target_label: node, replacement: ''}"},
			pod, `kube_pod_info{namespace="default",pod="web-7",uid="0c6d-41"}`,
		},
		{
			"labeldrop",
			[]string{"      - {regex: uid, action: labeldrop}"},
			pod, `kube_pod_info{namespace="default",node="node-1",pod="web-7"}`,
		},
		{
			"labelmap then labeldrop renames",
			[]string{
				"      - {regex: 'node', replacement: 'host', action: labelmap}",
				"      - {regex: 'node', action: labeldrop}",
			},
			pod, `kube_pod_info{host="node-1",namespace="default",pod="web-7",uid="0c6d-41"}`,
		},
		{
			"rename the metric",
			[]string{"      - {source_labels: [__name__], regex: 'kube_(.*)', target_label: __name__, replacement: 'k8s_$1'}"},
			pod, `k8s_pod_info{namespace="default",node="node-1",pod="web-7",uid="0c6d-41"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, keep := Relabel(rules(t, tc.rules...), tc.in)
			switch {
			case tc.want == "" && keep:
				t.Errorf("kept %s, want it dropped", got)
			case tc.want != "" && !keep:
				t.Errorf("dropped, want %s", tc.want)
			case keep && got.String() != tc.want:
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func TestRelabelerExternalLabels(t *testing.T) {
	ext := []series.Label{{Name: "cluster", Value: "prod"}, {Name: "region", Value: "eu"}}
	pod := podLabels("kube_pod_info", "default", "web-7")

	r := NewRelabeler(ext, nil)
	got, keep := r.Process(pod)
	if want := `kube_pod_info{cluster="prod",namespace="default",node="node-1",pod="web-7",region="eu",uid="0c6d-41"}`; !keep || got.String() != want {
		t.Errorf("got %s (keep %v), want %s", got, keep, want)
	}
	if got.Base() != pod.Base() {
		t.Error("adding external labels copied the shared object labels")
	}

	// A series' own label wins over an external label of the same name.
	own := series.New("kube_node_info", nil, []series.Label{{Name: "cluster", Value: "staging"}, {Name: "node", Value: "n"}})
	got, _ = r.Process(own)
	if want := `kube_node_info{cluster="staging",node="n",region="eu"}`; got.String() != want {
		t.Errorf("got %s, want %s", got, want)
	}

	// Rules see the external labels, as in Prometheus.
	r = NewRelabeler(ext, rules(t, "      - {source_labels: [cluster], regex: prod, action: drop}"))
	if got, keep := r.Process(pod); keep {
		t.Errorf("kept %s, want it dropped on its external label", got)
	}
	if _, keep := r.Process(own); !keep {
		t.Error("dropped a series whose own cluster label is not prod")
	}
}

func TestRelabelerUnchangedCostsNothing(t *testing.T) {
	pod := podLabels("kube_pod_info", "default", "web-7")
	for name, r := range map[string]*Relabeler{
		"no rules":                      NewRelabeler(nil, nil),
		"external labels already there": NewRelabeler([]series.Label{{Name: "namespace", Value: "x"}}, nil),
		"rules that change nothing": NewRelabeler(nil, rules(t,
			"      - {source_labels: [namespace], regex: kube-system, action: drop}",
			"      - {regex: 'absent_.*', action: labeldrop}",
		)),
	} {
		r.Process(pod) // size the buffers
		var got series.Labels
		allocs := testing.AllocsPerRun(100, func() { got, _ = r.Process(pod) })
		if allocs != 0 {
			t.Errorf("%s: %v allocations per call, want 0", name, allocs)
		}
		if got.Key() != pod.Key() {
			t.Errorf("%s: got a copy of the labels, want the same set", name)
		}
	}
}

func TestRelabelerReusesBuffersSafely(t *testing.T) {
	// Results must not alias the Relabeler's reused input buffer.
	r := NewRelabeler(nil, rules(t, "      - {source_labels: [pod], target_label: copy}"))
	a, _ := r.Process(podLabels("kube_pod_info", "default", "aaaa-1"))
	b, _ := r.Process(podLabels("kube_pod_info", "default", "bbbb-2"))
	if got := a.Get("copy") + "," + a.Get("pod") + "," + b.Get("copy"); got != "aaaa-1,aaaa-1,bbbb-2" {
		t.Errorf("got %s: results share a buffer", got)
	}
}

func BenchmarkRelabeler(b *testing.B) {
	pod := podLabels("kube_pod_container_status_restarts_total", "default", "web-7")
	ext := []series.Label{{Name: "cluster", Value: "prod"}}
	for _, bc := range []struct {
		name     string
		external []series.Label
		rules    []string
	}{
		{"none", nil, nil},
		{"external", ext, nil},
		{"keep-unchanged", nil, []string{"      - {source_labels: [__name__], regex: 'kube_pod_.*', action: keep}"}},
		{"labeldrop", nil, []string{"      - {regex: uid, action: labeldrop}"}},
		{"external+replace", ext, []string{"      - {source_labels: [pod], regex: '(.+)-[0-9]+', target_label: workload}"}},
	} {
		var cfgs []*relabel.Config
		if bc.rules != nil {
			cfgs = rules(b, bc.rules...)
		}
		r := NewRelabeler(bc.external, cfgs)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				r.Process(pod)
			}
		})
	}
}
