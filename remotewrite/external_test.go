package remotewrite

import (
	"slices"
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

	var v1 prompb.WriteRequest
	decodeRequest(t, newEncoder(ext).encode, ss, v1.Unmarshal)
	var got1 []string
	for _, ts := range v1.Timeseries {
		var ls []string
		for _, l := range ts.Labels {
			ls = append(ls, l.Name+"="+l.Value)
		}
		got1 = append(got1, strings.Join(ls, ","))
	}
	var v2 writev2.Request
	decodeRequest(t, newEncoderV2(nil, ext).encode, ss, v2.Unmarshal)
	var got2 []string
	for _, ts := range v2.Timeseries {
		var ls []string
		for j := 0; j+1 < len(ts.LabelsRefs); j += 2 {
			ls = append(ls, v2.Symbols[ts.LabelsRefs[j]]+"="+v2.Symbols[ts.LabelsRefs[j+1]])
		}
		got2 = append(got2, strings.Join(ls, ","))
	}
	for format, got := range map[string][]string{"1.0": got1, "2.0": got2} {
		if !slices.Equal(got, want) {
			t.Errorf("%s series:\n%s\nwant:\n%s", format, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

// decodeRequest encodes ss and decodes the request with unmarshal.
func decodeRequest(t *testing.T, encode func([]series.Sample) ([]byte, error), ss []series.Sample, unmarshal func([]byte) error) {
	t.Helper()
	out, err := encode(ss)
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeSnappy(out, unmarshal); err != nil {
		t.Fatal(err)
	}
}

func decodeSnappy(b []byte, unmarshal func([]byte) error) error {
	pb, err := snappy.Decode(nil, b)
	if err != nil {
		return err
	}
	return unmarshal(pb)
}
