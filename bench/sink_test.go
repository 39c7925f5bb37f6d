package main

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

var staleMarker = math.Float64frombits(staleNaN)

// v1Series is a 1.0 series of the given labels (name first, then pairs).
func v1Series(name string, pairs []string, samples ...prompb.Sample) prompb.TimeSeries {
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for i := 0; i < len(pairs); i += 2 {
		ls = append(ls, prompb.Label{Name: pairs[i], Value: pairs[i+1]})
	}
	return prompb.TimeSeries{Labels: ls, Samples: samples}
}

func v1Body(t *testing.T, ts ...prompb.TimeSeries) []byte {
	t.Helper()
	pb, err := (&prompb.WriteRequest{Timeseries: ts, Metadata: []prompb.MetricMetadata{{MetricFamilyName: "kube_pod_info", Type: prompb.MetricMetadata_GAUGE}}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, pb)
}

// v2Body encodes series given as label pairs (sorted by name) and samples.
func v2Body(t *testing.T, series [][]string, samples [][]writev2.Sample) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for i, pairs := range series {
		var refs []uint32
		for _, s := range pairs {
			refs = append(refs, st.Symbolize(s))
		}
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{LabelsRefs: refs, Samples: samples[i],
			Metadata: writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: st.Symbolize("help")}})
	}
	req.Symbols = st.Symbols()
	pb, err := req.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, pb)
}

func post(t *testing.T, url, contentType, encoding string, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", contentType)
	if encoding != "" {
		req.Header.Set("Content-Encoding", encoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func newTestSink(t *testing.T) (*sink, *httptest.Server, *sinkClient) {
	s := newSink()
	srv := httptest.NewServer(s.handler())
	t.Cleanup(srv.Close)
	return s, srv, &sinkClient{url: srv.URL}
}

func statsOf(t *testing.T, c *sinkClient, sender string) sinkStats {
	t.Helper()
	st, err := c.stats(context.Background(), sender)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestSinkDecodesV1(t *testing.T) {
	_, srv, c := newTestSink(t)
	url := srv.URL + "/ksm/api/v1/write"
	pod := []string{"namespace", "a", "pod", "p"}
	body := v1Body(t,
		v1Series("kube_pod_info", pod, prompb.Sample{Value: 1, Timestamp: 1000}, prompb.Sample{Value: 1, Timestamp: 2000}),
		v1Series("up", nil, prompb.Sample{Value: 1, Timestamp: 1000}),
		// Labels not sorted by name.
		prompb.TimeSeries{Labels: []prompb.Label{{Name: "__name__", Value: "kube_x"}, {Name: "b", Value: "1"}, {Name: "a", Value: "2"}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: 1000}}},
	)
	resp := post(t, url, "application/x-protobuf", "snappy", body)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %s", resp.Status)
	}
	if h := resp.Header.Get(rwHeaderSamples); h != "" {
		t.Errorf("1.0 answer has %s: %s", rwHeaderSamples, h)
	}
	// Again at the same timestamp, then a staleness marker, and a series
	// that starts stale.
	body2 := v1Body(t,
		v1Series("kube_pod_info", pod, prompb.Sample{Value: 1, Timestamp: 2000}, prompb.Sample{Value: staleMarker, Timestamp: 3000}),
		v1Series("kube_gone", nil, prompb.Sample{Value: staleMarker, Timestamp: 3000}),
	)
	post(t, url, "application/x-protobuf;proto=prometheus.WriteRequest", "snappy", body2)
	got := statsOf(t, c, "ksm")
	want := sinkStats{Requests: 2, V1Requests: 2, Bytes: int64(len(body) + len(body2)), Samples: 7, Stale: 2, Metadata: 2,
		OutOfOrder: 1, Invalid: 1, Series: 3, Live: 1, LiveKube: 0}
	if got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
}

func TestSinkDecodesV2AndAnswersWritten(t *testing.T) {
	_, srv, c := newTestSink(t)
	url := srv.URL + "/ksp/api/v1/write"
	body := v2Body(t,
		[][]string{{"__name__", "kube_pod_info", "namespace", "a", "pod", "p"}, {"__name__", "kube_node_info", "node", "n"}},
		[][]writev2.Sample{{{Value: 1, Timestamp: 1000}}, {{Value: 1, Timestamp: 1000}, {Value: staleMarker, Timestamp: 1500}}})
	resp := post(t, url, "application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", body)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status %s", resp.Status)
	}
	for h, want := range map[string]string{rwHeaderSamples: "3", rwHeaderHistograms: "0", rwHeaderExemplars: "0"} {
		if got := resp.Header.Get(h); got != want {
			t.Errorf("%s: %q, want %q", h, got, want)
		}
	}
	got := statsOf(t, c, "ksp")
	want := sinkStats{Requests: 1, V2Requests: 1, Bytes: int64(len(body)), Samples: 3, Stale: 1, Metadata: 2, Series: 2, Live: 1, LiveKube: 1}
	if got != want {
		t.Errorf("stats\n got %+v\nwant %+v", got, want)
	}
	// The series came back: live again; an older sample is out of order.
	post(t, url, "application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", v2Body(t,
		[][]string{{"__name__", "kube_node_info", "node", "n"}}, [][]writev2.Sample{{{Value: 1, Timestamp: 1400}, {Value: 1, Timestamp: 2000}}}))
	if got := statsOf(t, c, "ksp"); got.Live != 2 || got.LiveKube != 2 || got.OutOfOrder != 1 || got.Series != 2 {
		t.Errorf("after the series came back: %+v", got)
	}
}

func TestSinkRefuses(t *testing.T) {
	_, srv, c := newTestSink(t)
	url := srv.URL + "/x/api/v1/write"
	v1 := v1Body(t, v1Series("up", nil, prompb.Sample{Value: 1, Timestamp: 1}))
	// A 2.0 request whose label ref is past its symbols.
	badRef, _ := (&writev2.Request{Symbols: []string{"", "__name__"}, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{1, 7}}}}).Marshal()
	noEmpty, _ := (&writev2.Request{Symbols: []string{"__name__", "up"}, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{0, 1}}}}).Marshal()
	for _, tc := range []struct {
		name, ct, enc string
		body          []byte
		code          int
	}{
		{"text", "text/plain", "snappy", v1, http.StatusUnsupportedMediaType},
		{"unknown proto", "application/x-protobuf;proto=other.Request", "snappy", v1, http.StatusUnsupportedMediaType},
		{"no encoding", "application/x-protobuf", "", v1, http.StatusUnsupportedMediaType},
		{"gzip", "application/x-protobuf", "gzip", v1, http.StatusUnsupportedMediaType},
		{"not snappy", "application/x-protobuf", "snappy", []byte("plain"), http.StatusBadRequest},
		{"not protobuf", "application/x-protobuf", "snappy", snappy.Encode(nil, []byte{0xff, 0xff, 0xff}), http.StatusBadRequest},
		{"bad ref", "application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", snappy.Encode(nil, badRef), http.StatusBadRequest},
		{"symbols without empty first", "application/x-protobuf;proto=io.prometheus.write.v2.Request", "snappy", snappy.Encode(nil, noEmpty), http.StatusBadRequest},
	} {
		if resp := post(t, url, tc.ct, tc.enc, tc.body); resp.StatusCode != tc.code {
			t.Errorf("%s: status %s, want %d", tc.name, resp.Status, tc.code)
		}
	}
	if got := statsOf(t, c, "x"); got.Refused != 8 || got.Requests != 0 || got.Samples != 0 {
		t.Errorf("stats %+v", got)
	}
}

func TestSinkWatches(t *testing.T) {
	s, srv, c := newTestSink(t)
	now := time.Unix(100, 0)
	s.now = func() time.Time { return now }
	ctx := context.Background()
	url := srv.URL + "/ksp/api/v1/write"
	one, three := 1.0, 3.0
	watches := []*sinkWatch{
		{ID: "phase", Name: "kube_pod_status_phase", Labels: map[string]string{"pod": "p", "phase": "Running"}, Value: &one},
		{ID: "restarts", Name: "kube_pod_container_status_restarts_total", Labels: map[string]string{"pod": "p"}, Value: &three},
		{ID: "gone", Name: "kube_pod_info", Labels: map[string]string{"pod": "p"}, Stale: true},
		{ID: "present", Name: "kube_pod_info", Labels: map[string]string{"pod": "p"}},
	}
	if err := c.watch(ctx, "ksp", watches); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	post(t, url, "application/x-protobuf", "snappy", v1Body(t,
		v1Series("kube_pod_status_phase", []string{"phase", "Running", "pod", "p"}, prompb.Sample{Value: 0, Timestamp: 1}),
		v1Series("kube_pod_status_phase", []string{"phase", "Running", "pod", "q"}, prompb.Sample{Value: 1, Timestamp: 1}),
		v1Series("kube_pod_container_status_restarts_total", []string{"pod", "p"}, prompb.Sample{Value: 3, Timestamp: 1}),
		v1Series("kube_pod_info", []string{"pod", "p"}, prompb.Sample{Value: 1, Timestamp: 1}),
	))
	now = now.Add(time.Second)
	post(t, url, "application/x-protobuf", "snappy", v1Body(t,
		v1Series("kube_pod_status_phase", []string{"phase", "Running", "pod", "p"}, prompb.Sample{Value: 1, Timestamp: 2}),
		v1Series("kube_pod_info", []string{"pod", "p"}, prompb.Sample{Value: staleMarker, Timestamp: 2}),
	))
	got, err := c.delivered(ctx, "ksp")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{"phase": 102e9, "restarts": 101e9, "gone": 102e9, "present": 101e9}
	for id, at := range want {
		if got[id] != at {
			t.Errorf("watch %s delivered at %d, want %d", id, got[id], at)
		}
	}
	// A watch registered after a request does not see it.
	now = now.Add(time.Second)
	if err := c.watch(ctx, "ksp", []*sinkWatch{{ID: "late", Name: "up"}}); err != nil {
		t.Fatal(err)
	}
	s.now = func() time.Time { return now.Add(-time.Millisecond) } // arrived before
	post(t, url, "application/x-protobuf", "snappy", v1Body(t, v1Series("up", nil, prompb.Sample{Value: 1, Timestamp: 3})))
	if got, _ := c.delivered(ctx, "ksp"); got["late"] != 0 {
		t.Errorf("a request that arrived before the watch delivered it: %v", got["late"])
	}
	if err := c.forget(ctx, "ksp"); err != nil {
		t.Fatal(err)
	}
	if got := statsOf(t, c, "ksp"); got != (sinkStats{}) {
		t.Errorf("after forget: %+v", got)
	}
}

func TestSinkRefusesBadWatch(t *testing.T) {
	_, srv, _ := newTestSink(t)
	for _, body := range []string{`[{"id":"x"}]`, `[null]`, `{`} {
		resp, err := http.Post(srv.URL+"/watches/a", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("watch %s: %s", body, resp.Status)
		}
	}
}

// BenchmarkSinkV1 decodes and checks 1.0 requests of 2,000 series of 12
// labels, as the Prometheus agent sends them.
func BenchmarkSinkV1(b *testing.B) {
	s := newSink()
	st := s.sender("b")
	var ts []prompb.TimeSeries
	for i := range 2000 {
		pairs := []string{"container", "app", "namespace", "bench-1", "node", "kwok-node-1", "pod", "web-" + strings.Repeat("x", i%7) + string(rune('a'+i%26))}
		ts = append(ts, v1Series("kube_pod_container_info", pairs, prompb.Sample{Value: 1, Timestamp: 1}))
	}
	pb, _ := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	d := &decodedRequest{}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.reset()
		if err := d.decodeV1(pb); err != nil {
			b.Fatal(err)
		}
		for j := range d.samples {
			d.samples[j].t = int64(i + 2)
		}
		st.observe(d, s.seed, 1)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ts)), "ns/series")
}
