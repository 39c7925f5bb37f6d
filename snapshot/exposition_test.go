package snapshot

import (
	"strings"
	"testing"

	"github.com/kube-state-push/kube-state-push/collectors"
)

// The TYPE line of each metric type as KSM writes it (pkg/metrics_store's
// rewriteTypeLine): info and stateset are OpenMetrics-only, gauge in 0.0.4.
func TestAppendHeadersTypes(t *testing.T) {
	for _, c := range []struct {
		typ         collectors.Type
		text, openM string
	}{
		{collectors.Gauge, "gauge", "gauge"},
		{collectors.Counter, "counter", "counter"},
		{collectors.Info, "gauge", "info"},
		{collectors.StateSet, "gauge", "stateset"},
	} {
		f := collectors.FamilyInfo{Name: "kube_customresource_x", Help: "", Type: c.typ}
		want := "# HELP kube_customresource_x \n# TYPE kube_customresource_x "
		if got := string(appendHeaders(nil, f, false)); got != want+c.text+"\n" {
			t.Errorf("%s text: %q", c.typ, got)
		}
		if got := string(appendHeaders(nil, f, true)); got != want+c.openM+"\n" {
			t.Errorf("%s OpenMetrics: %q", c.typ, got)
		}
	}
}

// A Sorted exposition writes every line's labels in name order, the object's
// (base) and the family's merged, empty values as "" where the layout says.
func TestSortedExposition(t *testing.T) {
	s, _, _ := newTestSnapshot(t)
	set := s.NewSet("example.com/v1/widgets", nil)
	s.DescribeSet(set, &Exposition{Families: []collectors.FamilyInfo{{Name: "w", Type: collectors.Gauge}}, Sorted: true})
	base := &[]collectors.Label{{Name: "customresource_group", Value: "example.com"}, {Name: "customresource_kind", Value: "Widget"}}
	var b collectors.SeriesBuilder
	o := collectors.Object{UID: "u", ResourceVersion: "1", Series: []collectors.Series{
		b.Series("w", base, collectors.Metric{Keys: []string{"a", "condition", "empty", "name"}, Values: []string{"1", "Ready", "", "one"}, Value: 1}),
		b.Series("w", base, collectors.Metric{Keys: []string{"zone"}, Values: []string{"eu"}, Value: 2}),
	}}
	s.Replace(set, []collectors.Object{o})
	var out strings.Builder
	if err := s.WriteExposition(&out, false, nil); err != nil {
		t.Fatal(err)
	}
	want := "# HELP w \n# TYPE w gauge\n" +
		`w{a="1",condition="Ready",customresource_group="example.com",customresource_kind="Widget",empty="",name="one"} 1` + "\n" +
		`w{customresource_group="example.com",customresource_kind="Widget",zone="eu"} 2` + "\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
