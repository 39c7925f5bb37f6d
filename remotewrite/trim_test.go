package remotewrite

import (
	"bytes"
	"testing"

	"github.com/kube-state-push/kube-state-push/series"
)

// After a burst (the series of 1000 pods in one request), 2×trimEvery small
// requests let the encoders' buffers and maps go back to the small
// requests' size, and each request is encoded as by an encoder that never
// saw the burst, byte for byte.
func TestEncodersTrimAfterBurst(t *testing.T) {
	burst, md := randomIDsWorkload(t, 1000)
	small := burst[:200]
	fresh1, fresh2 := newEncoder(nil), newEncoderV2(md, nil)
	e1, e2 := newEncoder(nil), newEncoderV2(md, nil)
	for _, enc := range []func() ([]byte, error){
		func() ([]byte, error) { return e1.encode(burst) },
		func() ([]byte, error) { return e2.encode(burst) },
	} {
		if _, err := enc(); err != nil {
			t.Fatal(err)
		}
	}
	if cap(e2.refs) < 10*trimFloor || cap(e1.labels) < 10*trimFloor {
		t.Fatalf("after the burst: refs %d, labels %d: the burst is too small to show trimming", cap(e2.refs), cap(e1.labels))
	}
	encode := func(enc interface {
		encode([]series.Sample) ([]byte, error)
	}) []byte {
		body, err := enc.encode(small)
		if err != nil {
			t.Fatal(err)
		}
		return body
	}
	for i := range 2 * trimEvery {
		if !bytes.Equal(encode(e1), encode(fresh1)) || !bytes.Equal(encode(e2), encode(fresh2)) {
			t.Fatalf("request %d after the burst differs from a fresh encoder's", i)
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"2.0 refs", cap(e2.refs), cap(fresh2.refs)},
		{"2.0 samples", cap(e2.samples), cap(fresh2.samples)},
		{"2.0 protobuf", cap(e2.pb), cap(fresh2.pb)},
		{"2.0 symbols (held)", e2.useSymbols.held, fresh2.useSymbols.held},
		{"grouping index (held)", e2.groups.useSeries.held, fresh2.groups.useSeries.held},
		{"1.0 labels", cap(e1.labels), cap(fresh1.labels)},
		{"1.0 protobuf", cap(e1.pb), cap(fresh1.pb)},
	} {
		if c.got > trimSlack*c.want && c.got > trimFloor {
			t.Errorf("%s: room %d after trimming, a fresh encoder %d", c.name, c.got, c.want)
		}
	}
}
