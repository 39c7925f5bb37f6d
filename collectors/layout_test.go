package collectors

import (
	"testing"

	v1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kube-state-push/kube-state-push/series"
)

func TestLayouts(t *testing.T) {
	var c layoutCache
	base := []Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	a := c.layout(base, []string{"owner_kind", "owner_name", "owner_is_controller"}, []string{"", "", ""})
	if got := a.String(); got != `[owner_kind="" owner_name="" owner_is_controller=""]` {
		t.Errorf("all empty: %s", got)
	}
	b := c.layout(base, []string{"owner_kind", "owner_name", "owner_is_controller"}, []string{"ReplicaSet", "rs", "true"})
	if b == a || b.String() != "[owner_kind owner_name owner_is_controller]" {
		t.Errorf("none empty: %s (same as all empty: %v)", b, a == b)
	}
	// Keys in generator order index the family labels, which are sorted.
	for i, want := range []int{1, 2, 0} {
		if _, at := b.Key(i); at != want {
			t.Errorf("key %d at %d, want %d", i, at, want)
		}
	}
	// Found again without building, and interned across families.
	if again := c.layout(base, []string{"owner_kind", "owner_name", "owner_is_controller"}, []string{"Job", "j", "false"}); again != b {
		t.Error("the same keys and empties made another layout")
	}
	var other layoutCache
	if o := other.layout(base, []string{"owner_kind", "owner_name", "owner_is_controller"}, []string{"", "", ""}); o != a {
		t.Error("another family's equal layout is not the same one")
	}
	if es := c.entries.Load(); es == nil || len(*es) != 2 {
		t.Errorf("cached %v, want 2 entries", es)
	}
	for _, tc := range []struct {
		name         string
		keys, values []string
		want         string
	}{
		{"no keys", nil, nil, "[]"},
		{"object label wins", []string{"namespace", "reason"}, []string{"other", ""}, `[reason=""]`},
		{"reserved and empty names", []string{"__name__", "", "a"}, []string{"x", "y", "z"}, "[a]"},
		{"repeated key, first place", []string{"a", "b", "a"}, []string{"", "1", "2"}, "[a b]"},
		{"missing values", []string{"a", "b"}, []string{"1"}, "[a]"},
	} {
		var c layoutCache
		if got := c.layout(base, tc.keys, tc.values).String(); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
		if tc.name == "object label wins" || tc.name == "missing values" {
			if es := c.entries.Load(); es != nil {
				t.Errorf("%s: cached, but depends on more than the keys", tc.name)
			}
		}
	}
	var nilLayout *series.Layout
	if nilLayout.Len() != 0 || nilLayout.ID() != 0 {
		t.Error("a nil layout is not empty")
	}
}

// Every series a generator makes has a layout that indexes its family labels.
func TestGeneratedLayoutsIndexTheirLabels(t *testing.T) {
	// Two keys that become one label: kube_pod_labels takes one, --series-labels
	// copies the other, which its family keeps apart from the object's labels.
	shadowing := runningPod()
	shadowing.Labels = map[string]string{"team-x": "a", "team_x": "b", "app": "web"}
	for _, c := range []struct {
		resource string
		obj      any
		opts     Options
	}{
		{"pods", runningPod(), Options{AllowLabels: []string{"*"}}},
		{"nodes", &v1.Node{ObjectMeta: metav1.ObjectMeta{Name: "n", UID: "u", Labels: map[string]string{"a": "b"}}}, Options{AllowLabels: []string{"*"}}},
		{"pods", shadowing, Options{AllowLabels: []string{"team-x", "app"}, SeriesLabels: []string{"team_x", "app"}}},
	} {
		rs, _ := Lookup([]string{c.resource})
		o, _ := rs[0].NewGenerator(c.opts).Generate(c.obj)
		for _, s := range o.Series {
			extra := s.Labels.Extra()
			nonEmpty := 0
			for i := range s.Layout.Len() {
				k, at := s.Layout.Key(i)
				if at < 0 {
					continue
				}
				nonEmpty++
				if at >= len(extra) || extra[at].Name != k {
					t.Fatalf("%s: layout %s does not index %v", s.Labels, s.Layout, extra)
				}
			}
			if nonEmpty != len(extra) {
				t.Fatalf("%s: layout %s has %d labels, the series %d", s.Labels, s.Layout, nonEmpty, len(extra))
			}
		}
	}
}

// A SeriesBuilder keeps a family's labels as Generate does and writes the
// empty ones in its layout.
func TestSeriesBuilder(t *testing.T) {
	var b SeriesBuilder
	s := b.Series("kube_customresource_x", nil, Metric{Keys: []string{"a", "b", "c"}, Values: []string{"1", "", "3"}, Value: 2})
	if got := s.String(); got != `kube_customresource_x{a="1",c="3"} 2` {
		t.Errorf("series %s", got)
	}
	if got := s.Layout.String(); got != `[a b="" c]` {
		t.Errorf("layout %s", got)
	}
	again := b.Series("kube_customresource_x", nil, Metric{Keys: []string{"a", "b", "c"}, Values: []string{"4", "", "5"}})
	if again.Layout != s.Layout {
		t.Error("layout not remembered")
	}
}
