package remotewrite

import (
	"fmt"

	"github.com/golang/snappy"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// encoderV2 builds compressed Remote-Write 2.0 requests, reusing its buffers
// (symbols table, label refs, samples, output) between calls. It is not safe
// for concurrent use: each shard has its own.
type encoderV2 struct {
	metadata MetadataFunc
	external []series.Label // added to series that lack them

	req     writev2.Request
	symbols map[string]uint32
	meta    map[string]writev2.Metadata // per request, by metric name
	refs    []uint32
	samples []writev2.Sample
	groups  *grouping
	pb      []byte
	out     []byte
}

func newEncoderV2(metadata MetadataFunc, external []series.Label) *encoderV2 {
	return &encoderV2{
		metadata: metadata,
		external: external,
		symbols:  make(map[string]uint32),
		meta:     make(map[string]writev2.Metadata),
		groups:   newGrouping(),
	}
}

// encode returns the snappy-compressed protobuf of an
// io.prometheus.write.v2.Request holding ss. Samples of one series (one shared
// label set) go into one TimeSeries, in the order given, with the family's
// metadata when the MetadataFunc knows it. The symbols table is per request and
// starts with "", as the spec requires. The result is valid until the next call.
func (e *encoderV2) encode(ss []series.Sample) ([]byte, error) {
	clear(e.symbols)
	clear(e.meta)
	e.req.Symbols = append(e.req.Symbols[:0], "")
	e.symbols[""] = 0
	g := e.groups
	g.group(ss)
	nRefs := 0
	for _, i := range g.first {
		nRefs += 2 * (ss[i].Labels.Len() + len(e.external))
	}
	// The arenas are sized up front so that they never move while TimeSeries
	// point into them.
	refs := grow(e.refs, nRefs)
	samples := grow(e.samples, len(ss))
	ts := e.req.Timeseries[:0]
	off := 0
	for j, first := range g.first {
		r0, s0 := len(refs), len(samples)
		eachLabel(ss[first].Labels, e.external, func(l series.Label) {
			refs = append(refs, e.symbol(l.Name), e.symbol(l.Value))
		})
		for _, i := range g.samplesOf(j, off) {
			// A counter's start timestamp (0, left out of the wire, for
			// gauges and staleness markers).
			samples = append(samples, writev2.Sample{Value: ss[i].V, Timestamp: ss[i].T, StartTimestamp: ss[i].ST})
		}
		off += g.counts[j]
		ts = append(ts, writev2.TimeSeries{
			LabelsRefs: refs[r0:len(refs):len(refs)],
			Samples:    samples[s0:len(samples):len(samples)],
			Metadata:   e.metadataOf(ss[first].Labels.Name()),
		})
	}
	e.req.Timeseries, e.refs, e.samples = ts, refs, samples

	size := e.req.Size()
	e.pb = grow(e.pb, size)[:size]
	n, err := e.req.OptimizedMarshalToSizedBuffer(e.pb)
	if err != nil {
		return nil, fmt.Errorf("marshal 2.0 request: %w", err)
	}
	e.out = snappy.Encode(e.out[:cap(e.out)], e.pb[size-n:])
	return e.out, nil
}

// symbol returns the ref of s in this request's symbols table, adding it.
func (e *encoderV2) symbol(s string) uint32 {
	if ref, ok := e.symbols[s]; ok {
		return ref
	}
	ref := uint32(len(e.req.Symbols))
	e.req.Symbols = append(e.req.Symbols, s)
	e.symbols[s] = ref
	return ref
}

// metadataOf returns the metadata of family name, asking the MetadataFunc once
// per request.
func (e *encoderV2) metadataOf(name string) writev2.Metadata {
	if e.metadata == nil || name == "" {
		return writev2.Metadata{}
	}
	if m, ok := e.meta[name]; ok {
		return m
	}
	var m writev2.Metadata
	if typ, help, unit, ok := e.metadata(name); ok {
		m = writev2.Metadata{Type: metricTypeV2(typ), HelpRef: e.symbol(help), UnitRef: e.symbol(unit)}
	}
	e.meta[name] = m
	return m
}
