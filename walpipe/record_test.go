package walpipe

import (
	"fmt"
	"math"
	"testing"

	"github.com/golang/snappy"

	"github.com/kube-state-push/kube-state-push/series"
)

func TestSamplesRecordRoundTrip(t *testing.T) {
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	a := series.New("kube_pod_status_phase", &base, []series.Label{{Name: "phase", Value: "Running"}})
	b := series.New("kube_pod_created", &base, nil)
	c := series.New("kube_pod_container_status_restarts_total", &base, []series.Label{{Name: "container", Value: "app"}})
	in := []series.Sample{
		{Labels: a, T: 1000, V: 1}, {Labels: b, T: 1000, V: 1.7e9}, {Labels: c, T: 1000, V: 2, ST: 1_700_000_000_000},
		{Labels: a, T: 1001, V: series.StaleNaN}, {Labels: c, T: 1001, V: series.StaleNaN},
	}
	rec := encodeSamples(in, nil)
	if rec[0] != recSamples || recSamples != 6 {
		t.Fatalf("record type %d, want recSamples (6, format 2)", rec[0])
	}
	out, err := decodeSamples(rec)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		`kube_pod_status_phase{namespace="ns",phase="Running",pod="p"} 1000 1 st=0`,
		`kube_pod_status_phase{namespace="ns",phase="Running",pod="p"} 1001 stale st=0`,
		`kube_pod_created{namespace="ns",pod="p"} 1000 1.7e+09 st=0`,
		`kube_pod_container_status_restarts_total{container="app",namespace="ns",pod="p"} 1000 2 st=1700000000000`,
		`kube_pod_container_status_restarts_total{container="app",namespace="ns",pod="p"} 1001 stale st=0`,
	}
	if len(out) != len(want) {
		t.Fatalf("%d samples, want %d", len(out), len(want))
	}
	for i, s := range out {
		v := fmt.Sprint(s.V)
		if series.IsStaleNaN(s.V) {
			v = "stale"
		}
		if got := fmt.Sprintf("%s %d %s st=%d", s.Labels, s.T, v, s.ST); got != want[i] {
			t.Errorf("sample %d: %s, want %s", i, got, want[i])
		}
	}
	// A handover record is the same format under its own type.
	if h := encodeHandover(in, nil); h[0] != recHandover || !isHandover(h) || isSamples(h) {
		t.Errorf("handover record type %d", h[0])
	} else if hs, err := decodeSamples(h); err != nil || len(hs) != len(in) || hs[3].ST != 1_700_000_000_000 {
		t.Errorf("handover decoded to %v, %v", hs, err)
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

// Only series with a start timestamp pay for it: a record whose counter
// series get a start grows by their start timestamps, nothing else.
func TestSamplesRecordGaugesUnchanged(t *testing.T) {
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	var in []series.Sample
	for i := range 50 {
		ls := series.New("kube_pod_status_ready", &base, []series.Label{{Name: "condition", Value: fmt.Sprint(i)}})
		in = append(in, series.Sample{Labels: ls, T: 1000 + int64(i), V: 1}, series.Sample{Labels: ls, T: 2000 + int64(i), V: 0})
	}
	gauges := encodeSamples(in, nil)
	in[0].ST, in[1].ST = 500, 500
	withStart := encodeSamples(in, nil)
	bg, _ := snappy.Decode(nil, gauges[1:])
	bs, _ := snappy.Decode(nil, withStart[1:])
	// One series with a start: two varints of 500 (2 bytes each) more.
	if len(bs) != len(bg)+4 {
		t.Errorf("body with one counter series is %d bytes, gauges only %d: want 4 more", len(bs), len(bg))
	}
	out, err := decodeSamples(withStart)
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range out {
		if want := map[bool]int64{true: 500}[i < 2]; s.ST != want || s.T != in[i].T || s.V != in[i].V {
			t.Errorf("sample %d: %+v, want st %d", i, s, want)
		}
	}
}
