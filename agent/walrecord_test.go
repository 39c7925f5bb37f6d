package agent

import (
	"fmt"
	"math"
	"testing"

	"github.com/kube-state-push/kube-state-push/series"
)

func TestSamplesRecordRoundTrip(t *testing.T) {
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	a := series.New("kube_pod_status_phase", &base, []series.Label{{Name: "phase", Value: "Running"}})
	b := series.New("kube_pod_created", &base, nil)
	in := []series.Sample{
		{Labels: a, T: 1000, V: 1}, {Labels: b, T: 1000, V: 1.7e9},
		{Labels: a, T: 1001, V: series.StaleNaN},
	}
	rec := encodeSamples(in, nil)
	out, err := decodeSamples(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`kube_pod_status_phase{namespace="ns",phase="Running",pod="p"} 1000 1`,
		`kube_pod_status_phase{namespace="ns",phase="Running",pod="p"} 1001 stale`,
		`kube_pod_created{namespace="ns",pod="p"} 1000 1.7e+09`,
	}
	if len(out) != len(want) {
		t.Fatalf("%d samples, want %d", len(out), len(want))
	}
	for i, s := range out {
		v := fmt.Sprint(s.V)
		if series.IsStaleNaN(s.V) {
			v = "stale"
		}
		if got := fmt.Sprintf("%s %d %s", s.Labels, s.T, v); got != want[i] {
			t.Errorf("sample %d: %s, want %s", i, got, want[i])
		}
	}
	if math.Float64bits(out[1].V) != series.StaleNaNBits {
		t.Errorf("staleness marker bits lost")
	}
	for _, bad := range [][]byte{nil, {recSamples}, {recSamples, 1, 2, 3}, append([]byte{recSamples}, rec[1:len(rec)-3]...)} {
		if _, err := decodeSamples(bad); err == nil {
			t.Errorf("decoded a malformed record %x", bad)
		}
	}
}
