package remotewrite

import (
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/series"
)

// Labels copied by --series-labels are part of each series as sent: they
// count toward max_label_names_per_series. With a limit that every series of
// a pod fits without them, the series that only the copied labels take over
// it are dropped, their staleness markers too, and counted by family and
// reason as any other; the rest arrive with the copied labels.
func TestLabelLimitsCountSeriesLabels(t *testing.T) {
	rs, err := collectors.Lookup([]string{"pods"})
	if err != nil {
		t.Fatal(err)
	}
	pod := benchPod(0)
	pod.Labels["cost-center"] = "cc-1"
	plain, _ := rs[0].NewGenerator(collectors.Options{}).Generate(pod)
	copied, _ := rs[0].NewGenerator(collectors.Options{SeriesLabels: []string{"team", "env", "cost-center"}}).Generate(pod)
	if len(plain.Series) != len(copied.Series) {
		t.Fatalf("%d series with copied labels, %d without", len(copied.Series), len(plain.Series))
	}
	ext := []series.Label{{Name: "cluster", Value: "prod"}}
	widest := 0
	for _, s := range plain.Series {
		widest = max(widest, s.Labels.Len()+len(ext))
	}
	limits := LabelLimits{MaxLabelNamesPerSeries: widest}

	rcv := &receiver{t: t}
	var logs syncBuffer
	q, reg := startQueueLogging(t, rcv, QueueConfig{MinShards: 1, MaxShards: 1, LabelLimits: limits, External: ext},
		slog.New(slog.NewTextHandler(&logs, nil)))
	var batch []series.Sample
	var want []got
	wantDropped := map[string]float64{}
	for _, at := range []struct {
		t     int64
		stale bool
	}{{1000, false}, {2000, true}} {
		for _, s := range copied.Series {
			v := s.Value
			if at.stale {
				v = series.StaleNaN
			}
			x := series.Sample{Labels: s.Labels, T: at.t, V: v}
			batch = append(batch, x)
			if s.Labels.Len()+len(ext) > widest {
				wantDropped[s.Labels.Name()]++
				continue
			}
			ls := series.FromPairs(append(slices.Collect(s.Labels.All()), ext...))
			want = append(want, render([]series.Sample{{Labels: ls, T: x.T, V: x.V}})...)
		}
	}
	if len(wantDropped) == 0 || len(want) == 0 {
		t.Fatalf("the test drops %d families and keeps %d samples: want some of each", len(wantDropped), len(want))
	}
	write(t, q, batch)

	reqs, _ := rcv.requests()
	have := samplesV1(reqs)
	sameSamples(t, want, have)
	for _, h := range have {
		if !strings.Contains(h.series, `label_team="a"`) || !strings.Contains(h.series, `label_cost_center="cc-1"`) {
			t.Errorf("arrived without the copied labels: %s", h.series)
		}
	}
	var total float64
	for family, n := range wantDropped {
		total += n
		if got := familyDropped(t, reg, family, reasonLabelCount); got != n {
			t.Errorf("label_limit_samples_dropped_total{family=%s,reason=label_count} = %v, want %v", family, got, n)
		}
		if !strings.Contains(logs.String(), fmt.Sprintf("family=%s reason=label_count limit=%d labels=", family, widest)) {
			t.Errorf("no log line for %s:\n%s", family, logs.String())
		}
	}
	if got := metricValue(t, reg, "kube_state_push_remote_write_samples_dropped_total", reasonLabelCount); got != total {
		t.Errorf("samples_dropped_total{reason=label_count} = %v, want %v", got, total)
	}
	t.Logf("limit %d labels: %d of %d samples dropped (%d families), only for the copied labels", widest, int(total), len(batch), len(wantDropped))
}

// familyDropped is label_limit_samples_dropped_total of family and reason.
func familyDropped(t *testing.T, reg *prometheus.Registry, family, reason string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "kube_state_push_remote_write_label_limit_samples_dropped_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			lv := map[string]string{}
			for _, l := range m.GetLabel() {
				lv[l.GetName()] = l.GetValue()
			}
			if lv["family"] == family && lv["reason"] == reason {
				return m.GetCounter().GetValue()
			}
		}
	}
	return 0
}
