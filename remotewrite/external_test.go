package remotewrite

import (
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// External labels are added as the series are encoded, in name order, to the
// series that lack them; a series' own label of the same name wins.
func TestEncodersAddExternalLabels(t *testing.T) {
	ext := []series.Label{{Name: "a_first", Value: "x"}, {Name: "cluster", Value: "prod"}, {Name: "empty", Value: ""}, {Name: "zone", Value: "eu-1"}}
	base := []series.Label{{Name: "namespace", Value: "ns"}, {Name: "pod", Value: "p"}}
	ss := []series.Sample{
		{Labels: series.New("kube_pod_info", &base, []series.Label{{Name: "node", Value: "n1"}}), T: 1, V: 1},
		{Labels: series.New("kube_node_info", nil, []series.Label{{Name: "cluster", Value: "own"}, {Name: "node", Value: "n1"}}), T: 2, V: 1},
		{Labels: series.New("up", nil, nil), T: 3, V: 1},
	}
	want := []string{
		`__name__=kube_pod_info,a_first=x,cluster=prod,namespace=ns,node=n1,pod=p,zone=eu-1`,
		`__name__=kube_node_info,a_first=x,cluster=own,node=n1,zone=eu-1`,
		`__name__=up,a_first=x,cluster=prod,zone=eu-1`,
	}

	out, err := newEncoder(ext).encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	var v1 prompb.WriteRequest
	if err := decodeSnappy(out, v1.Unmarshal); err != nil {
		t.Fatal(err)
	}
	for i, ts := range v1.Timeseries {
		var got []string
		for _, l := range ts.Labels {
			got = append(got, l.Name+"="+l.Value)
		}
		if g := strings.Join(got, ","); g != want[i] {
			t.Errorf("1.0 series %d: %s, want %s", i, g, want[i])
		}
	}

	out, err = newEncoderV2(nil, ext).encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	var v2 writev2.Request
	if err := decodeSnappy(out, v2.Unmarshal); err != nil {
		t.Fatal(err)
	}
	for i, ts := range v2.Timeseries {
		var got []string
		for j := 0; j+1 < len(ts.LabelsRefs); j += 2 {
			got = append(got, v2.Symbols[ts.LabelsRefs[j]]+"="+v2.Symbols[ts.LabelsRefs[j+1]])
		}
		if g := strings.Join(got, ","); g != want[i] {
			t.Errorf("2.0 series %d: %s, want %s", i, g, want[i])
		}
	}
}

func decodeSnappy(b []byte, unmarshal func([]byte) error) error {
	pb, err := snappy.Decode(nil, b)
	if err != nil {
		return err
	}
	return unmarshal(pb)
}
