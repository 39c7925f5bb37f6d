package snapshot

import (
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
