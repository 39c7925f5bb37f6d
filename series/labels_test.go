package series

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestLabelsMergeAndCompare(t *testing.T) {
	base := []Label{{"namespace", "ns"}, {"pod", "p"}, {"uid", "u"}}
	ls := New("kube_pod_info", &base, []Label{{"container", "c"}, {"node", "n"}, {"zone", "z"}})
	var names []string
	for l := range ls.All() {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, ","); got != "__name__,container,namespace,node,pod,uid,zone" {
		t.Errorf("order %s", got)
	}
	if ls.Len() != 7 || ls.Get("pod") != "p" || ls.Get("zone") != "z" || ls.Get(MetricName) != "kube_pod_info" || ls.Get("x") != "" {
		t.Errorf("Len/Get wrong: %d", ls.Len())
	}
	if s := ls.String(); s != `kube_pod_info{container="c",namespace="ns",node="n",pod="p",uid="u",zone="z"}` {
		t.Errorf("String %s", s)
	}
	if s := FromPairs([]Label{{MetricName, "up"}}).String(); s != "up" {
		t.Errorf("String without labels %q", s)
	}
}

// Compare of two sets sharing object labels agrees with the comparison of the
// same labels stored apart.
func TestLabelsCompareFastPathAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	names := []string{"a", "container", "namespace", "node", "phase", "pod", "uid", "zone"}
	randomExtra := func(base []Label) []Label {
		var out []Label
		for _, n := range names {
			if r.IntN(3) == 0 && !slices.ContainsFunc(base, func(l Label) bool { return l.Name == n }) {
				out = append(out, Label{n, string(rune('a' + r.IntN(3)))})
			}
		}
		return out
	}
	for range 2000 {
		base := []Label{{"namespace", "ns"}, {"pod", "p"}}
		x := New([]string{"m1", "m2"}[r.IntN(2)], &base, randomExtra(base))
		y := New([]string{"m1", "m2"}[r.IntN(2)], &base, randomExtra(base))
		flat := func(ls Labels) Labels { return FromPairs(slices.Collect(ls.All())) }
		if got, want := sign(x.Compare(y)), sign(flat(x).Compare(flat(y))); got != want {
			t.Fatalf("Compare(%v, %v) = %d, stored apart %d", x, y, got, want)
		}
	}
}

func sign(c int) int {
	switch {
	case c < 0:
		return -1
	case c > 0:
		return 1
	}
	return 0
}
