package remotewrite

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/golang/snappy"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// encodedV2 is one decoded 2.0 sample: its labels, metadata and sample.
type encodedV2 struct {
	labels, meta string
	t, st        int64
	v            float64
}

// decodeV2Samples decodes a compressed 2.0 request into its samples, per
// series in the order sent, checking that its symbols start with "" and hold
// every ref.
func decodeV2Samples(t *testing.T, body []byte) []encodedV2 {
	t.Helper()
	var req writev2.Request
	if err := decodeSnappy(body, req.Unmarshal); err != nil {
		t.Fatal(err)
	}
	if len(req.Symbols) == 0 || req.Symbols[0] != "" {
		t.Fatalf("symbols must start with \"\": %q", req.Symbols)
	}
	seen := map[string]bool{}
	for _, s := range req.Symbols {
		if seen[s] {
			t.Fatalf("symbol %q twice", s)
		}
		seen[s] = true
	}
	var out []encodedV2
	for _, ts := range req.Timeseries {
		var ls []string
		for j := 0; j+1 < len(ts.LabelsRefs); j += 2 {
			n, v := ts.LabelsRefs[j], ts.LabelsRefs[j+1]
			if int(max(n, v)) >= len(req.Symbols) {
				t.Fatalf("ref outside the %d symbols: %v", len(req.Symbols), ts.LabelsRefs)
			}
			ls = append(ls, req.Symbols[n]+"="+req.Symbols[v])
		}
		m := ts.Metadata
		meta := fmt.Sprintf("%v %q %q", m.Type, req.Symbols[m.HelpRef], req.Symbols[m.UnitRef])
		for _, s := range ts.Samples {
			out = append(out, encodedV2{strings.Join(ls, ","), meta, s.Timestamp, s.StartTimestamp, s.Value})
		}
	}
	return out
}

// wantV2Samples is what a 2.0 request of ss must hold, per series in the
// order given: the series' labels with the external ones they lack, in name
// order, and testMetadata's metadata.
func wantV2Samples(ss []series.Sample, external []series.Label) []encodedV2 {
	var out []encodedV2
	for _, s := range ss {
		var ls []string
		eachLabel(s.Labels, external, func(l series.Label) { ls = append(ls, l.Name+"="+l.Value) })
		m := writev2.Metadata{}
		help, unit := "", ""
		if typ, h, u, ok := testMetadata(s.Labels.Name()); ok {
			m.Type, help, unit = metricTypeV2(typ), h, u
		}
		meta := fmt.Sprintf("%v %q %q", m.Type, help, unit)
		out = append(out, encodedV2{strings.Join(ls, ","), meta, s.T, s.ST, s.V})
	}
	return out
}

// sameV2Samples compares the samples of each series, in order, and the
// series' metadata.
func sameV2Samples(t *testing.T, want, got []encodedV2) {
	t.Helper()
	bySeries := func(es []encodedV2) map[string][]encodedV2 {
		m := map[string][]encodedV2{}
		for _, e := range es {
			m[e.labels] = append(m[e.labels], e)
		}
		return m
	}
	w, g := bySeries(want), bySeries(got)
	if len(w) != len(g) {
		t.Errorf("got %d series, want %d", len(g), len(w))
	}
	for k, ws := range w {
		if fmt.Sprint(g[k]) != fmt.Sprint(ws) {
			t.Errorf("%s:\n got %v\nwant %v", k, g[k], ws)
		}
	}
}

// randomObjectSeries returns samples of the series of objects sharing their
// labels (Labels.Base) as the collectors' do, of series built from pairs (as
// write_relabel_configs leave them), and of a series without a name, in a
// random order, some series with several samples.
func randomObjectSeries(r *rand.Rand) []series.Sample {
	fams := []string{"kube_pod_info", "kube_pod_container_status_restarts_total", "kube_pod_start_time", "kube_pod_unknown_family"}
	var ls []series.Labels
	for o := range 1 + r.IntN(20) {
		base := []series.Label{{Name: "namespace", Value: fmt.Sprint("ns-", r.IntN(3))}, {Name: "pod", Value: fmt.Sprint("p-", o)}, {Name: "uid", Value: fmt.Sprint(r.Uint64())}}
		for _, f := range fams {
			if r.IntN(4) == 0 {
				continue
			}
			var extra []series.Label
			if r.IntN(2) == 0 {
				extra = append(extra, series.Label{Name: "container", Value: fmt.Sprint("c-", r.IntN(2))})
			}
			if r.IntN(3) == 0 {
				extra = append(extra, series.Label{Name: "zone", Value: "z"})
			}
			ls = append(ls, series.New(f, &base, extra))
		}
	}
	ls = append(ls,
		series.FromPairs([]series.Label{{Name: "__name__", Value: fams[0]}, {Name: "namespace", Value: "ns-0"}, {Name: "pod", Value: "relabelled"}}),
		series.FromPairs([]series.Label{{Name: "job", Value: "x"}}))
	var ss []series.Sample
	for i := range 2 * len(ls) {
		st := int64(0)
		if i%3 == 0 {
			st = 500
		}
		ss = append(ss, series.Sample{Labels: ls[r.IntN(len(ls))], T: int64(1000 + i), ST: st, V: r.Float64()})
	}
	return ss
}

// The 2.0 encoder's requests hold every sample of ss with its series' labels,
// the external labels they lack and the family's metadata, whatever the
// series and the external labels, also in the next request.
func TestEncoderV2Requests(t *testing.T) {
	externals := [][]series.Label{
		nil,
		{{Name: "cluster", Value: "c1"}},
		// Before __name__, over an object's label, empty (no label), last.
		{{Name: "A", Value: "a"}, {Name: "namespace", Value: "other"}, {Name: "region", Value: ""}, {Name: "zz", Value: "z"}},
	}
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 300 {
		ext := externals[i%len(externals)]
		e := newEncoderV2(testMetadata, ext)
		// Several requests: nothing of one may leak into the next.
		for range 3 {
			ss := randomObjectSeries(r)
			body, err := e.encode(ss)
			if err != nil {
				t.Fatal(err)
			}
			sameV2Samples(t, wantV2Samples(ss, ext), decodeV2Samples(t, body))
			if t.Failed() {
				t.Fatalf("external labels %v", ext)
			}
		}
	}
}

// A large 2.0 request (the series of 1000 pods, 2 MB of protobuf: s2's
// copies reach back past snappy's 64 KiB blocks) decodes with
// golang/snappy, which Prometheus, Mimir, Cortex, Thanos, VictoriaMetrics
// and the OpenTelemetry Collector decode with, to the protobuf encoded.
func TestEncoderV2LargeRequestDecodes(t *testing.T) {
	ss, md := randomIDsWorkload(t, 1000)
	e := newEncoderV2(md, nil)
	body, err := e.encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pb, e.pb) || len(pb) < 1<<20 {
		t.Fatalf("decoded %d bytes, want the %d encoded (over 1 MiB)", len(pb), len(e.pb))
	}
	if len(body) >= len(snappy.Encode(nil, pb)) {
		t.Errorf("%d bytes, no fewer than snappy.Encode's", len(body))
	}
}
