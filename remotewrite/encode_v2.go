package remotewrite

import (
	"fmt"

	"github.com/klauspost/compress/s2"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// encoderV2 builds compressed Remote-Write 2.0 requests, reusing its buffers
// (symbols table, label refs, samples, output) between calls. It is not safe
// for concurrent use: each shard has its own.
type encoderV2 struct {
	metadata MetadataFunc
	external []series.Label // added to series that lack them

	// blockEncode is the snappy block encoder: s2.EncodeSnappyBetter,
	// which finds more of a request's repeats than snappy.Encode does, in a
	// format every snappy decoder reads (see encode).
	blockEncode func(dst, src []byte) []byte

	req       writev2.Request
	symbols   map[string]uint32
	families  map[string]int          // per request: the index of a family in fams
	bases     map[*[]series.Label]int // per request: an object's labels' refs in baseArena
	baseArena []uint32
	fams      []family
	famOf     []int // per series of the grouping, its family in fams
	refs      []uint32
	samples   []writev2.Sample
	groups    *grouping
	pb        []byte
	out       []byte

	clock                                    trimClock
	useSymbols, useFamilies, useBases        usage // maps, and their slices
	useArena, useRefs, useSamples, useSeries usage
	usePB, useOut                            usage
}

// family is what a request holds of one metric family: its metadata and the
// refs of its name, each once looked up.
type family struct {
	meta     writev2.Metadata
	resolved bool
	nameRefs [2]uint32
	named    bool
}

func newEncoderV2(metadata MetadataFunc, external []series.Label) *encoderV2 {
	return &encoderV2{
		metadata:    metadata,
		external:    external,
		blockEncode: s2.EncodeSnappyBetter,
		symbols:     make(map[string]uint32),
		families:    make(map[string]int),
		bases:       make(map[*[]series.Label]int),
		groups:      newGrouping(),
	}
}

// encode returns the snappy-compressed protobuf of an
// io.prometheus.write.v2.Request holding ss. Samples of one series (one shared
// label set) go into one TimeSeries, in the order given, with the family's
// metadata when the MetadataFunc knows it. The symbols table is per request and
// starts with "", as the spec requires. The result is valid until the next call.
//
// The body is in snappy's block format, the one Content-Encoding the spec
// allows (and Prometheus, Mimir, Cortex, Thanos, VictoriaMetrics and the
// OpenTelemetry Collector take): s2's encoder only looks harder for repeats,
// as far back as the request goes, which snappy's copy elements can point to.
func (e *encoderV2) encode(ss []series.Sample) ([]byte, error) {
	if e.clock.due() {
		e.trim()
	}
	clear(e.symbols)
	clear(e.families)
	clear(e.bases)
	e.baseArena = e.baseArena[:0]
	e.fams = e.fams[:0]
	e.req.Symbols = append(e.req.Symbols[:0], "")
	e.symbols[""] = 0
	g := e.groups
	g.group(ss)
	nRefs := 0
	e.famOf = grow(e.famOf, len(g.first))
	for _, i := range g.first {
		nRefs += 2 * (ss[i].Labels.Len() + len(e.external))
		e.famOf = append(e.famOf, e.familyOf(ss[i].Labels.Name()))
	}
	// The arenas are sized up front so that they never move while TimeSeries
	// point into them.
	refs := grow(e.refs, nRefs)
	samples := grow(e.samples, len(ss))
	ts := e.req.Timeseries[:0]
	off := 0
	for j, first := range g.first {
		f := e.famOf[j]
		r0, s0 := len(refs), len(samples)
		refs = e.labelRefs(refs, ss[first].Labels, f)
		for _, i := range g.samplesOf(j, off) {
			// A counter's start timestamp (0, left out of the wire, for
			// gauges and staleness markers).
			samples = append(samples, writev2.Sample{Value: ss[i].V, Timestamp: ss[i].T, StartTimestamp: ss[i].ST})
		}
		off += g.counts[j]
		ts = append(ts, writev2.TimeSeries{
			LabelsRefs: refs[r0:len(refs):len(refs)],
			Samples:    samples[s0:len(samples):len(samples)],
			Metadata:   e.metadataOf(f, ss[first].Labels.Name()),
		})
	}
	e.req.Timeseries, e.refs, e.samples = ts, refs, samples

	size := e.req.Size()
	e.pb = grow(e.pb, size)[:size]
	n, err := e.req.OptimizedMarshalToSizedBuffer(e.pb)
	if err != nil {
		return nil, fmt.Errorf("marshal 2.0 request: %w", err)
	}
	e.out = e.blockEncode(e.out[:cap(e.out)], e.pb[size-n:])
	e.useSymbols.note(len(e.req.Symbols))
	e.useFamilies.note(len(e.fams))
	e.useBases.note(len(e.bases))
	e.useArena.note(len(e.baseArena))
	e.useRefs.note(len(e.refs))
	e.useSamples.note(len(e.samples))
	e.useSeries.note(len(ts))
	e.usePB.note(size)
	e.useOut.note(s2.MaxEncodedLen(size))
	return e.out, nil
}

// trim lets go of the room the recent requests did not need (see trimEvery).
func (e *encoderV2) trim() {
	e.symbols, e.families, e.bases = trimMap(e.symbols, &e.useSymbols), trimMap(e.families, &e.useFamilies), trimMap(e.bases, &e.useBases)
	e.req.Symbols, e.fams = trimSlice(e.req.Symbols, e.useSymbols), trimSlice(e.fams, e.useFamilies)
	e.baseArena, e.refs, e.samples = trimSlice(e.baseArena, e.useArena), trimSlice(e.refs, e.useRefs), trimSlice(e.samples, e.useSamples)
	e.req.Timeseries, e.famOf = trimSlice(e.req.Timeseries, e.useSeries), trimSlice(e.famOf, e.useSeries)
	e.pb, e.out = trimSlice(e.pb, e.usePB), trimSlice(e.out, e.useOut)
	for _, u := range []*usage{&e.useSymbols, &e.useFamilies, &e.useBases, &e.useArena, &e.useRefs, &e.useSamples, &e.useSeries, &e.usePB, &e.useOut} {
		u.next()
	}
	e.groups.trim()
}

// familyOf returns the index in e.fams of family name in this request,
// adding it.
func (e *encoderV2) familyOf(name string) int {
	if f, ok := e.families[name]; ok {
		return f
	}
	f := len(e.fams)
	e.fams = append(e.fams, family{})
	e.families[name] = f
	return f
}

// labelRefs appends to refs the refs of the names and values of ls's labels
// and of the external ones it lacks, in name order. Those of the metric name
// (the same for the series of family f) and of the object's labels
// (Labels.Base, shared by its series) are looked up once per request: most
// of the lookups of symbols.
func (e *encoderV2) labelRefs(refs []uint32, ls series.Labels, f int) []uint32 {
	var base []series.Label
	var baseRefs []uint32
	if p := ls.Base(); p != nil && len(*p) > 0 {
		base, baseRefs = *p, e.baseRefs(p)
	}
	named := ls.Name() == ""
	i := 0
	eachLabel(ls, e.external, func(l series.Label) {
		// Names are unique in a label set, and an external label of the
		// same name as one of the series is left out.
		switch {
		case !named && l.Name == series.MetricName:
			refs = append(refs, e.nameRefs(f, l.Value)...)
			named = true
		case i < len(base) && l.Name == base[i].Name:
			refs = append(refs, baseRefs[2*i], baseRefs[2*i+1])
			i++
		default:
			refs = append(refs, e.symbol(l.Name), e.symbol(l.Value))
		}
	})
	return refs
}

// nameRefs returns the refs of __name__ and of family f's name, adding them
// to this request's symbols on first use.
func (e *encoderV2) nameRefs(f int, name string) []uint32 {
	fam := &e.fams[f]
	if !fam.named {
		fam.nameRefs = [2]uint32{e.symbol(series.MetricName), e.symbol(name)}
		fam.named = true
	}
	return fam.nameRefs[:]
}

// baseRefs returns the refs of the names and values of an object's labels,
// adding them to this request's symbols on first use.
func (e *encoderV2) baseRefs(p *[]series.Label) []uint32 {
	if off, ok := e.bases[p]; ok {
		return e.baseArena[off : off+2*len(*p)]
	}
	off := len(e.baseArena)
	for _, l := range *p {
		e.baseArena = append(e.baseArena, e.symbol(l.Name), e.symbol(l.Value))
	}
	e.bases[p] = off
	return e.baseArena[off:]
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

// metadataOf returns the metadata of family f, name, asking the
// MetadataFunc once per request.
func (e *encoderV2) metadataOf(f int, name string) writev2.Metadata {
	if e.metadata == nil || name == "" {
		return writev2.Metadata{}
	}
	fam := &e.fams[f]
	if !fam.resolved {
		if typ, help, unit, ok := e.metadata(name); ok {
			fam.meta = writev2.Metadata{Type: metricTypeV2(typ), HelpRef: e.symbol(help), UnitRef: e.symbol(unit)}
		}
		fam.resolved = true
	}
	return fam.meta
}
