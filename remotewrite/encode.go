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
	external []series.Label // added to series that lack them
	// blockEncode is the snappy block encoder (snappy.Encode unless set).
	blockEncode func(dst, src []byte) []byte
	req         prompb.WriteRequest
	labels      []prompb.Label
	samples     []prompb.Sample
	groups      *grouping
	pb          []byte
	out         []byte

	clock                                           trimClock
	useLabels, useSamples, useSeries, usePB, useOut usage
}

func newEncoder(external []series.Label) *encoder {
	return &encoder{external: external, blockEncode: snappy.Encode, groups: newGrouping()}
}

// encode returns the snappy-compressed protobuf of a WriteRequest holding ss.
// Samples of one series (one shared label set) go into one TimeSeries, in the
// order given. The result is valid until the next call.
func (e *encoder) encode(ss []series.Sample) ([]byte, error) {
	if e.clock.due() {
		e.trim()
	}
	g := e.groups
	g.group(ss)
	nLabels := 0
	for _, i := range g.first {
		nLabels += ss[i].Labels.Len() + len(e.external)
	}
	// The arenas are sized up front so that they never move while TimeSeries
	// point into them.
	labels := grow(e.labels, nLabels)
	samples := grow(e.samples, len(ss))
	ts := e.req.Timeseries[:0]
	off := 0
	for j, first := range g.first {
		l0, s0 := len(labels), len(samples)
		eachLabel(ss[first].Labels, e.external, func(l series.Label) {
			labels = append(labels, prompb.Label{Name: l.Name, Value: l.Value})
		})
		for _, i := range g.samplesOf(j, off) {
			samples = append(samples, prompb.Sample{Value: ss[i].V, Timestamp: ss[i].T})
		}
		off += g.counts[j]
		ts = append(ts, prompb.TimeSeries{Labels: labels[l0:len(labels):len(labels)], Samples: samples[s0:len(samples):len(samples)]})
	}
	e.req.Timeseries, e.labels, e.samples = ts, labels, samples
	e.useLabels.note(len(labels))
	e.useSamples.note(len(samples))
	e.useSeries.note(len(ts))
	return e.compress(&e.req)
}

// trim lets go of the room the recent requests did not need (see trimEvery).
func (e *encoder) trim() {
	e.labels, e.samples, e.req.Timeseries = trimSlice(e.labels, e.useLabels), trimSlice(e.samples, e.useSamples), trimSlice(e.req.Timeseries, e.useSeries)
	e.pb, e.out = trimSlice(e.pb, e.usePB), trimSlice(e.out, e.useOut)
	for _, u := range []*usage{&e.useLabels, &e.useSamples, &e.useSeries, &e.usePB, &e.useOut} {
		u.next()
	}
	e.groups.trim()
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
	e.out = e.blockEncode(e.out[:cap(e.out)], e.pb[size-n:])
	e.usePB.note(size)
	e.useOut.note(snappy.MaxEncodedLen(size))
	return e.out, nil
}

// grow returns s emptied, with room for at least n elements.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, 0, n)
	}
	return s[:0]
}

// eachLabel calls f with ls's labels and the external ones it lacks, in name
// order; a label of the series wins over an external one of the same name,
// and an external label with an empty value is no label, as in Prometheus.
// (A callback rather than an iterator: nothing escapes, nothing is allocated.)
func eachLabel(ls series.Labels, external []series.Label, f func(series.Label)) {
	i := 0
	for l := range ls.All() {
		for ; i < len(external) && external[i].Name < l.Name; i++ {
			if external[i].Value != "" {
				f(external[i])
			}
		}
		if i < len(external) && external[i].Name == l.Name {
			i++ // the series has it
		}
		f(l)
	}
	for ; i < len(external); i++ {
		if external[i].Value != "" {
			f(external[i])
		}
	}
}
