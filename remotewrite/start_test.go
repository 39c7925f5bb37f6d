package remotewrite

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/golang/snappy"
	promlabels "github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// wireField is one field of a protobuf message as it is on the wire.
type wireField struct {
	num     uint64
	payload []byte // of a length-delimited field
}

// wireFields splits a protobuf message into its fields.
func wireFields(t *testing.T, b []byte) []wireField {
	t.Helper()
	var out []wireField
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		if n <= 0 {
			t.Fatalf("bad tag in %x", b)
		}
		b = b[n:]
		f := wireField{num: tag >> 3}
		switch tag & 7 {
		case 0: // varint
			_, n = binary.Uvarint(b)
		case 1: // 64-bit
			n = 8
		case 2: // length-delimited
			l, m := binary.Uvarint(b)
			if m <= 0 || uint64(len(b)-m) < l {
				t.Fatalf("bad length in %x", b)
			}
			f.payload, n = b[m:m+int(l)], m+int(l)
		case 5: // 32-bit
			n = 4
		default:
			t.Fatalf("wire type %d", tag&7)
		}
		if n <= 0 || n > len(b) {
			t.Fatalf("field %d cut short", f.num)
		}
		b = b[n:]
		out = append(out, f)
	}
	return out
}

// The 2.0 encoder writes a counter sample's start timestamp, as
// Sample.start_timestamp (field 3), and nothing for gauges and staleness
// markers; 1.0 has no start timestamp and its bytes do not change.
func TestV2StartTimestamp(t *testing.T) {
	info := labels("__name__", "kube_pod_info", "namespace", "ns", "pod", "p", "node", "n1")
	restarts := labels("__name__", "kube_pod_container_status_restarts_total", "namespace", "ns", "pod", "p", "container", "c")
	const start = 1_700_000_000_000
	ss := []series.Sample{
		{Labels: info, T: 1_700_000_100_000, V: 1},
		{Labels: restarts, T: 1_700_000_100_000, V: 2, ST: start},
		{Labels: restarts, T: 1_700_000_160_000, V: 3, ST: start},
		{Labels: info, T: 1_700_000_200_000, V: series.StaleNaN},
		{Labels: restarts, T: 1_700_000_200_000, V: series.StaleNaN},
	}
	body, err := newEncoderV2(testMetadata, nil).encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	pb, err := snappy.Decode(nil, body)
	if err != nil {
		t.Fatal(err)
	}

	var req writev2.Request
	if err := req.Unmarshal(pb); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	b := promlabels.NewScratchBuilder(8)
	for _, ts := range req.Timeseries {
		ls, err := ts.ToLabels(&b, req.Symbols)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range ts.Samples {
			got[ls.Get("__name__")] = append(got[ls.Get("__name__")], fmt.Sprintf("%d st=%d", s.Timestamp, s.StartTimestamp))
		}
	}
	want := map[string][]string{
		"kube_pod_info": {"1700000100000 st=0", "1700000200000 st=0"},
		"kube_pod_container_status_restarts_total": {
			"1700000100000 st=1700000000000", "1700000160000 st=1700000000000", "1700000200000 st=0"},
	}
	for name, w := range want {
		if !slices.Equal(got[name], w) {
			t.Errorf("%s: samples %v, want %v", name, got[name], w)
		}
	}

	// On the wire: Request.timeseries is field 5, TimeSeries.samples field 2,
	// and a Sample has value (1), timestamp (2) and, for counter samples only,
	// start_timestamp (3).
	var fields []string
	for _, f := range wireFields(t, pb) {
		if f.num != 5 {
			continue
		}
		for _, s := range wireFields(t, f.payload) {
			if s.num != 2 {
				continue
			}
			var nums []uint64
			for _, x := range wireFields(t, s.payload) {
				nums = append(nums, x.num)
			}
			fields = append(fields, fmt.Sprint(nums))
		}
	}
	// Series in order of first appearance: info, then restarts.
	if w := []string{"[1 2]", "[1 2]", "[1 2 3]", "[1 2 3]", "[1 2]"}; !slices.Equal(fields, w) {
		t.Errorf("sample fields on the wire %v, want %v", fields, w)
	}

	e1 := newEncoder(nil)
	with, err := e1.encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	with = bytes.Clone(with)
	without := slices.Clone(ss)
	for i := range without {
		without[i].ST = 0
	}
	plain, err := e1.encode(without)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(with, plain) {
		t.Error("a start timestamp changed the 1.0 request")
	}
}

// Prometheus 3.16 reads Sample.start_timestamp (storage/remote/write_handler.go
// passes it to the appender): with created-timestamp-zero-ingestion it writes
// a 0 at a counter's start before its first sample (tsdb/head_append_v2.go,
// bestEffortAppendSTZeroSample); a gauge, without one, gets none.
func TestRealPrometheus3StartTimestamp(t *testing.T) {
	p := startPrometheus(t, prometheus3Binary(t),
		"--web.enable-remote-write-receiver",
		"--web.remote-write-receiver.accepted-protobuf-messages=io.prometheus.write.v2.Request",
		"--enable-feature=created-timestamp-zero-ingestion")
	q, _ := newRealQueue(t, p, MessageV2)
	from := time.Now().Add(-time.Minute).UnixMilli()
	start := from - 30_000
	restarts := labels("__name__", "kube_pod_container_status_restarts_total", "namespace", "ns", "pod", "p", "container", "c")
	info := labels("__name__", "kube_pod_info", "namespace", "ns", "pod", "p", "node", "n1")
	var in []series.Sample
	for i := range int64(10) {
		in = append(in,
			series.Sample{Labels: restarts, T: from + i*1000, V: float64(2 + i/5), ST: start},
			series.Sample{Labels: info, T: from + i*1000, V: 1})
	}
	write(t, q, in)
	want := append(render([]series.Sample{{Labels: restarts, T: start, V: 0}}), render(in)...)
	sameSamples(t, want, p.rawSamples(t, `{namespace="ns"}`, time.Now()))
}
