package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/kube-state-push/kube-state-push/collectors"
)

func TestParseAllowList(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string][]string
		err  string
	}{
		{in: "pods=[app,team-*],*=[*]", want: map[string][]string{"pods": {"app", "team-*"}, "*": {"*"}}},
		{in: " nodes = [ zone , rack ] ", want: map[string][]string{"nodes": {"zone", "rack"}}},
		{in: "pods=[]", want: map[string][]string{"pods": nil}},
		{in: "", want: map[string][]string{}},
		{in: "pods=[app", err: "missing ]"},
		{in: "pods=app", err: "want [key,...]"},
		{in: "pods", err: "want resource=[key,...]"},
		{in: "pods=[a]nodes=[b]", err: "want , between entries"},
		{in: "pods=[a*b*]", err: "more than one *"},
	} {
		got, err := ParseAllowList(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseAllowList(%q) error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseAllowList(%q): %v", c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("ParseAllowList(%q) (-want +got):\n%s", c.in, diff)
		}
	}
}

func TestResolveAllowList(t *testing.T) {
	enabled, _ := collectors.Lookup([]string{"pods", "nodes"})
	got, err := resolveAllowList("f", map[string][]string{"pods": {"app"}, "*": {"team"}}, enabled)
	if err != nil {
		t.Fatal(err)
	}
	// "*" takes precedence over every other entry, as in kube-state-metrics.
	if diff := cmp.Diff(map[string][]string{"pods": {"team"}, "nodes": {"team"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := resolveAllowList("--metric-labels-allowlist", map[string][]string{"podz": {"a"}}, enabled); err == nil ||
		!strings.Contains(err.Error(), `--metric-labels-allowlist: unknown resource "podz"`) {
		t.Errorf("unknown resource: %v", err)
	}
}

// --series-labels resolves as the allowlists do, "*" for every enabled
// resource, into each generator's Options.SeriesLabels; an unknown resource,
// or a wildcard in a resource name, is a configuration error.
func TestSeriesLabelsOptions(t *testing.T) {
	enabled, _ := collectors.Lookup([]string{"pods", "nodes", "deployments"})
	byName := func(name string) collectors.Resource {
		rs, _ := collectors.Lookup([]string{name})
		return rs[0]
	}
	opts, err := generatorOptions(&Config{
		LabelsAllowlist: map[string][]string{"pods": {"app"}},
		SeriesLabels:    map[string][]string{"pods": {"team", "app.kubernetes.io/*"}, "deployments": {"team"}},
	}, enabled)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]string{"pods": {"team", "app.kubernetes.io/*"}, "deployments": {"team"}, "nodes": nil} {
		if got := opts(byName(name)).SeriesLabels; !cmp.Equal(got, want) {
			t.Errorf("%s: SeriesLabels %q, want %q", name, got, want)
		}
	}
	if got := opts(byName("pods")).AllowLabels; !cmp.Equal(got, []string{"app"}) {
		t.Errorf("pods: AllowLabels %q, want [app]", got)
	}
	opts, err = generatorOptions(&Config{SeriesLabels: map[string][]string{"*": {"team"}}}, enabled)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range enabled {
		if got := opts(r).SeriesLabels; !cmp.Equal(got, []string{"team"}) {
			t.Errorf("*=[team]: %s gets %q", r.Name(), got)
		}
	}
	if got := opts(byName("secrets")).SeriesLabels; got != nil {
		t.Errorf("*=[team]: a resource not enabled gets %q", got)
	}
	for _, bad := range []string{"podz", "pod*"} {
		_, err := generatorOptions(&Config{SeriesLabels: map[string][]string{bad: {"team"}}}, enabled)
		if _, ok := errors.AsType[*ConfigError](err); !ok || !strings.Contains(err.Error(), `--series-labels: unknown resource "`+bad+`"`) {
			t.Errorf("%s=[team]: error %v, want a ConfigError naming it", bad, err)
		}
	}
}

func TestFamilyFilter(t *testing.T) {
	fam := func(name string, optIn bool) collectors.FamilyInfo {
		return collectors.FamilyInfo{Name: name, OptIn: optIn}
	}
	for _, c := range []struct {
		cfg  Config
		fam  collectors.FamilyInfo
		want bool
	}{
		{Config{}, fam("kube_pod_info", false), true},
		{Config{}, fam("kube_pod_nodeselectors", true), false},
		{Config{MetricOptInList: []string{"kube_pod_nodeselectors"}}, fam("kube_pod_nodeselectors", true), true},
		{Config{MetricAllowlist: []string{"^kube_pod_"}}, fam("kube_pod_info", false), true},
		{Config{MetricAllowlist: []string{"^kube_pod_"}}, fam("kube_node_info", false), false},
		{Config{MetricAllowlist: []string{"pod_info"}}, fam("kube_pod_info", false), true}, // unanchored
		{Config{MetricDenylist: []string{"kube_pod_(?!info)"}}, fam("kube_pod_info", false), true},
		{Config{MetricDenylist: []string{"kube_pod_(?!info)"}}, fam("kube_pod_owner", false), false},
	} {
		f, err := familyFilter(&c.cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := f(c.fam); got != c.want {
			t.Errorf("%+v: %s kept = %v, want %v", c.cfg, c.fam.Name, got, c.want)
		}
	}
	if _, err := familyFilter(&Config{MetricAllowlist: []string{"a"}, MetricDenylist: []string{"b"}}); err == nil {
		t.Error("allowlist and denylist together are accepted")
	}
	if _, err := familyFilter(&Config{MetricDenylist: []string{"kube_(("}}); err == nil || !strings.Contains(err.Error(), "--metric-denylist") {
		t.Errorf("bad regex: %v", err)
	}
}

func TestWatchNamespaces(t *testing.T) {
	ns, sel := watchNamespaces(&Config{NamespacesDenylist: []string{"kube-system", "secret"}})
	if fmt.Sprint(ns) != "[]" || sel != "metadata.namespace!=kube-system,metadata.namespace!=secret" {
		t.Errorf("denylist only: %q %q", ns, sel)
	}
	ns, sel = watchNamespaces(&Config{Namespaces: []string{"a", "b"}, NamespacesDenylist: []string{"b"}})
	if fmt.Sprint(ns) != "[a]" || sel != "" {
		t.Errorf("both: %q %q", ns, sel)
	}
}

func TestLoadFile(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		p := filepath.Join(dir, fmt.Sprintf("c%d.yaml", time.Now().UnixNano()))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p := write(`
resources: [pods, nodes]
namespaces: a,b
labels_allow_list: {pods: [app, team-*]}
annotations_allow_list: "*=[*]"
series_labels: "pods=[team,app.kubernetes.io/name],deployments=[team]"
metric_opt_in_list: [kube_pod_nodeselectors]
use_api_server_cache: true
resend_interval: 15s
remote_write_url: http://x/api/v1/write
`)
	c := Config{ResendInterval: time.Minute}
	if err := LoadFile(p, &c); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Resources: []string{"pods", "nodes"}, Namespaces: []string{"a", "b"},
		LabelsAllowlist:      map[string][]string{"pods": {"app", "team-*"}},
		AnnotationsAllowlist: map[string][]string{"*": {"*"}},
		SeriesLabels:         map[string][]string{"pods": {"team", "app.kubernetes.io/name"}, "deployments": {"team"}},
		MetricOptInList:      []string{"kube_pod_nodeselectors"},
		UseAPIServerCache:    true, ResendInterval: 15 * time.Second, RemoteWriteURL: "http://x/api/v1/write",
	}
	if diff := cmp.Diff(want, c, cmp.AllowUnexported(Config{})); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for body, wantErr := range map[string]string{
		"resources: [pods]\nresorces: [nodes]\n":    `:2: unknown key "resorces"`,
		"resend_interval: 30s\nflush_interval: x\n": `:2: flush_interval: time: invalid duration "x"`,
		"use_api_server_cache: maybe\n":             `:1: use_api_server_cache: cannot unmarshal !!str`,
		"labels_allow_list: pods=[a\n":              `:1: labels_allow_list: "pods=[a": missing ]`,
		"series_labels: [team]\n":                   `:1: series_labels: want a mapping such as {pods: [app, team-*]}`,
		"resources: [pods]\nresources: [nodes]\n":   `:2: resources: also set on line 1`,
		"- just\n- a list\n":                        `:1: want a mapping`,
		"max_samples_per_send: {a: 1}\n":            `:1: max_samples_per_send: cannot unmarshal`,
		"namespaces:\n  - a\n  - {b: c}\n":          `:2: namespaces: line 3: want a string`,
		"resources: [pods\n":                        `yaml: line 1`,
	} {
		err := LoadFile(write(body), &Config{})
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("%q: error %v, want %q", body, err, wantErr)
		}
	}
}
