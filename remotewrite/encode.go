package remotewrite

import (
	"fmt"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/kube-state-push/kube-state-push/series"
)

// encoder builds compressed Remote-Write 1.0 WriteRequests, reusing its buffers between calls.
// It is not safe for concurrent use: each shard has its own.
type encoder struct {
	req     prompb.WriteRequest
	labels  []prompb.Label
	samples []prompb.Sample
	counts  []int
	index   map[series.Key]int
	pb      []byte
	out     []byte
}

func newEncoder() *encoder {
	return &encoder{index: make(map[series.Key]int)}
}

// encode returns the snappy-compressed protobuf of a WriteRequest holding ss.
// Samples of one series (one shared label set) go into one TimeSeries, in the
// order given. The result is valid until the next call.
func (e *encoder) encode(ss []series.Sample) ([]byte, error) {
	clear(e.index)
	nLabels := 0
	for _, s := range ss {
		nLabels += s.Labels.Len()
	}
	// The arenas are sized up front so that they never move while TimeSeries
	// point into them.
	labels := grow(e.labels, nLabels)
	samples := grow(e.samples, len(ss))[:len(ss)]
	ts, counts := e.req.Timeseries[:0], e.counts[:0]
	for _, s := range ss {
		if s.Labels.IsEmpty() {
			continue
		}
		key := s.Labels.Key()
		if i, ok := e.index[key]; ok {
			counts[i]++
			continue
		}
		e.index[key] = len(ts)
		start := len(labels)
		for l := range s.Labels.All() {
			labels = append(labels, prompb.Label{Name: l.Name, Value: l.Value})
		}
		ts = append(ts, prompb.TimeSeries{Labels: labels[start:len(labels):len(labels)]})
		counts = append(counts, 1)
	}
	off := 0
	for i := range ts {
		ts[i].Samples = samples[off : off : off+counts[i]]
		off += counts[i]
	}
	for _, s := range ss {
		if s.Labels.IsEmpty() {
			continue
		}
		i := e.index[s.Labels.Key()]
		ts[i].Samples = append(ts[i].Samples, prompb.Sample{Value: s.V, Timestamp: s.T})
	}
	e.req.Timeseries, e.labels, e.samples, e.counts = ts, labels, samples, counts
	return e.compress(&e.req)
}

// encodeMetadata returns the snappy-compressed protobuf of a WriteRequest that
// holds only md, as Prometheus sends 1.0 metadata. The result is valid until
// the next call.
func (e *encoder) encodeMetadata(md []prompb.MetricMetadata) ([]byte, error) {
	return e.compress(&prompb.WriteRequest{Metadata: md})
}

func (e *encoder) compress(req *prompb.WriteRequest) ([]byte, error) {
	size := req.Size()
	e.pb = grow(e.pb, size)[:size]
	n, err := req.MarshalToSizedBuffer(e.pb)
	if err != nil {
		return nil, fmt.Errorf("marshal 1.0 request: %w", err)
	}
	e.out = snappy.Encode(e.out[:cap(e.out)], e.pb[size-n:])
	return e.out, nil
}

// grow returns s emptied, with room for at least n elements.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}
