package collectors

import (
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-state-push/kube-state-push/series"
)

// Every resource: with --series-labels each series is the one
// kube-state-metrics gives plus the copied labels, and all the object's series
// share one base holding them.
func TestSeriesLabelsEveryResource(t *testing.T) {
	everything := func(FamilyInfo) bool { return true }
	for _, r := range All() {
		t.Run(r.Name(), func(t *testing.T) {
			obj := r.ExpectedType()
			m, err := meta.Accessor(obj)
			if err != nil {
				t.Fatal(err)
			}
			m.SetName("x")
			m.SetUID("uid-x")
			if r.Namespaced() {
				m.SetNamespace("ns")
			}
			m.SetLabels(map[string]string{"team": "payments", "app.kubernetes.io/name": "web", "empty": "", "other": "o"})
			plainOpts := Options{AllowLabels: []string{"*"}, AllowAnnotations: []string{"*"}, Family: everything}
			plain, _ := r.NewGenerator(plainOpts).Generate(obj)
			copyOpts := plainOpts
			copyOpts.SeriesLabels = []string{"team", "app.kubernetes.io/*", "empty"}
			copied, _ := r.NewGenerator(copyOpts).Generate(obj)
			if len(plain.Series) == 0 && len(copied.Series) == 0 {
				t.Skip("no series for an empty object")
			}
			checkSorted(t, copied.Series)
			var want, got []string
			for _, s := range plain.Series {
				pairs := slices.Collect(s.Labels.All())
				for _, l := range []Label{{Name: "label_team", Value: "payments"}, {Name: "label_app_kubernetes_io_name", Value: "web"}} {
					if s.Labels.Get(l.Name) == "" {
						pairs = append(pairs, l)
					}
				}
				want = append(want, Series{Labels: series.FromPairs(pairs), Value: s.Value}.String())
			}
			slices.Sort(want)
			for _, s := range copied.Series {
				got = append(got, s.String())
				if s.Labels.Base() != copied.Series[0].Labels.Base() {
					t.Errorf("%v: not the object's shared base", s)
				}
				if len(s.Labels.Extra()) > 0 && strings.HasPrefix(s.Labels.Extra()[0].Name, "label_team") {
					t.Errorf("%v: the copied label is stored per series", s)
				}
			}
			slices.Sort(got)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("series with --series-labels (-KSM's plus the copied labels +got):\n%s", diff)
			}
			if base := *copied.Series[0].Labels.Base(); !slices.Contains(base, Label{Name: "label_team", Value: "payments"}) {
				t.Errorf("base %v lacks label_team", base)
			}
		})
	}
}

// Without --series-labels, and with a list that selects nothing the object
// has, the series are exactly kube-state-metrics'.
func TestSeriesLabelsOffIsUnchanged(t *testing.T) {
	rs, _ := Lookup([]string{"pods"})
	pod := runningPod()
	render := func(o Options) string {
		obj, _ := rs[0].NewGenerator(o).Generate(pod)
		var b strings.Builder
		for _, s := range obj.Series {
			b.WriteString(s.String() + "\n")
		}
		return b.String()
	}
	want := render(Options{AllowLabels: []string{"team"}})
	for _, o := range []Options{
		{AllowLabels: []string{"team"}, SeriesLabels: []string{}},
		{AllowLabels: []string{"team"}, SeriesLabels: []string{"no-such-label"}},
	} {
		if got := render(o); got != want {
			t.Errorf("SeriesLabels %q changed the series:\n%s", o.SeriesLabels, cmp.Diff(want, got))
		}
	}
}

// A copied label whose name a family also has: the family's own label wins.
// With the same value (the same key in both lists) it is carried once; with
// another value (two keys that sanitise to one name, chosen differently by
// the two lists) that family's series keeps its own value and every other
// series carries the copied one.
func TestSeriesLabelsCollisions(t *testing.T) {
	rs, _ := Lookup([]string{"pods"})
	pod := &v1.Pod{ObjectMeta: metav1.ObjectMeta{
		Name: "p", Namespace: "ns", UID: "u",
		Labels: map[string]string{"team": "payments", "team.name": "dotted", "team_name": "underscored"},
	}}
	only := func(names ...string) func(FamilyInfo) bool {
		return func(f FamilyInfo) bool { return slices.Contains(names, f.Name) }
	}
	for _, tc := range []struct {
		name string
		opts Options
		want []string
	}{
		{
			name: "same value once",
			opts: Options{AllowLabels: []string{"team"}, SeriesLabels: []string{"team"}, Family: only("kube_pod_labels", "kube_pod_info")},
			want: []string{
				`kube_pod_info{host_network="false",label_team="payments",namespace="ns",pod="p",uid="u"} 1`,
				`kube_pod_labels{label_team="payments",namespace="ns",pod="p",uid="u"} 1`,
			},
		},
		{
			name: "another value: the family's wins",
			opts: Options{AllowLabels: []string{"team_name"}, SeriesLabels: []string{"team.name", "team"}, Family: only("kube_pod_labels", "kube_pod_info")},
			want: []string{
				`kube_pod_info{host_network="false",label_team="payments",label_team_name="dotted",namespace="ns",pod="p",uid="u"} 1`,
				`kube_pod_labels{label_team="payments",label_team_name="underscored",namespace="ns",pod="p",uid="u"} 1`,
			},
		},
		{
			name: "conflicts renamed in each list on its own",
			opts: Options{AllowLabels: []string{"team.name"}, SeriesLabels: []string{"team*"}, Family: only("kube_pod_labels", "kube_pod_info")},
			want: []string{
				`kube_pod_info{host_network="false",label_team="payments",label_team_name_conflict1="dotted",label_team_name_conflict2="underscored",namespace="ns",pod="p",uid="u"} 1`,
				`kube_pod_labels{label_team="payments",label_team_name="dotted",label_team_name_conflict1="dotted",label_team_name_conflict2="underscored",namespace="ns",pod="p",uid="u"} 1`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, _ := rs[0].NewGenerator(tc.opts).Generate(pod)
			checkSorted(t, o.Series)
			var got []string
			for _, s := range o.Series {
				got = append(got, s.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// BenchmarkPodGenerateSeriesLabels is BenchmarkPodGenerate with
// --series-labels=pods=[team,app]: the cost of copying two labels.
func BenchmarkPodGenerateSeriesLabels(b *testing.B) {
	rs, err := Lookup([]string{"pods"})
	if err != nil {
		b.Fatal(err)
	}
	pod := runningPod()
	g := rs[0].NewGenerator(Options{SeriesLabels: []string{"team", "app"}})
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := g.Generate(pod); !ok {
			b.Fatal("generator refused the pod")
		}
	}
}
