package walpipe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/golang/snappy"

	"github.com/kube-state-push/kube-state-push/series"
)

// WAL record types: the first byte of every record the agent writes. The
// type of a record of samples also gives its format version: format 2 (types
// 6 and 7) adds start timestamps to format 1 (types 1 and 4). The agent
// writes format 2 only and reads both, so that the backlog of a WAL written
// before start timestamps is still sent (without them) after an upgrade.
const (
	// recSamples holds a batch of samples in format 2, self-contained: its own
	// symbol table and label sets, so that any record can be read, compacted
	// or dropped alone.
	recSamples byte = 6
	// recResendBegin and recResendEnd bracket a full resend: the samples between
	// them cover every series that was live, which is how a restart learns them.
	recResendBegin byte = 2
	recResendEnd   byte = 3
	// recHandover is encoded like recSamples and never sent: it lists the
	// series of objects that left this shard, which another shard sends from
	// then on, so that a restart does not take them for live and end them.
	recHandover byte = 7
	// recShard holds the shard assignment, as "shard/total", written at start
	// and on each change, so that a restart knows the one its state is from.
	recShard byte = 5
	// recSamplesV1 and recHandoverV1 are recSamples and recHandover in format
	// 1, without start timestamps: read, no longer written.
	recSamplesV1  byte = 1
	recHandoverV1 byte = 4
)

// isSamples reports whether rec holds samples to send (a recSamples record
// of either format).
func isSamples(rec []byte) bool {
	return len(rec) > 0 && (rec[0] == recSamples || rec[0] == recSamplesV1)
}

// isHandover reports whether rec is a handover record of either format.
func isHandover(rec []byte) bool {
	return len(rec) > 0 && (rec[0] == recHandover || rec[0] == recHandoverV1)
}

// encodeHandover encodes the series of ss as a recHandover record.
func encodeHandover(ss []series.Sample, buf []byte) []byte {
	buf = encodeSamples(ss, buf)
	buf[0] = recHandover
	return buf
}

// encodeSamples encodes a batch as a recSamples record: type byte, then snappy of
//
//	uvarint #symbols, each uvarint length + bytes
//	uvarint #series, each: uvarint #labels, each uvarint name ref + uvarint value ref,
//	                       uvarint #samples<<1 | starts,
//	                       each sample: varint timestamp, varint start timestamp if starts is 1,
//	                                    8 bytes float bits
//
// starts is 1 for a series of which some sample has a start timestamp (a
// counter), so that the samples of every other series cost nothing more. This
// is format 2; format 1 (recSamplesV1, recHandoverV1) is the same without the
// starts bit and without start timestamps: uvarint #samples, each varint
// timestamp + 8 bytes float bits. Samples of one series stay in their order;
// series are in order of first appearance.
func encodeSamples(ss []series.Sample, buf []byte) []byte {
	symbols := map[string]uint64{}
	var symList []string
	sym := func(s string) uint64 {
		if i, ok := symbols[s]; ok {
			return i
		}
		i := uint64(len(symList))
		symbols[s] = i
		symList = append(symList, s)
		return i
	}
	type group struct {
		labels  series.Labels
		samples []series.Sample
	}
	index := map[series.Key]int{}
	var groups []group
	for _, s := range ss {
		k := s.Labels.Key()
		i, ok := index[k]
		if !ok {
			i = len(groups)
			index[k] = i
			groups = append(groups, group{labels: s.Labels})
		}
		groups[i].samples = append(groups[i].samples, s)
	}
	var body []byte
	var refs []uint64
	for _, g := range groups {
		for l := range g.labels.All() {
			refs = append(refs, sym(l.Name), sym(l.Value))
		}
	}
	body = binary.AppendUvarint(body, uint64(len(symList)))
	for _, s := range symList {
		body = binary.AppendUvarint(body, uint64(len(s)))
		body = append(body, s...)
	}
	body = binary.AppendUvarint(body, uint64(len(groups)))
	r := 0
	for _, g := range groups {
		n := g.labels.Len()
		body = binary.AppendUvarint(body, uint64(n))
		for range n {
			body = binary.AppendUvarint(body, refs[r])
			body = binary.AppendUvarint(body, refs[r+1])
			r += 2
		}
		starts := slices.ContainsFunc(g.samples, func(s series.Sample) bool { return s.ST != 0 })
		n = len(g.samples) << 1
		if starts {
			n |= 1
		}
		body = binary.AppendUvarint(body, uint64(n))
		for _, s := range g.samples {
			body = binary.AppendVarint(body, s.T)
			if starts {
				body = binary.AppendVarint(body, s.ST)
			}
			body = binary.LittleEndian.AppendUint64(body, math.Float64bits(s.V))
		}
	}
	buf = append(buf[:0], recSamples)
	return append(buf, snappy.Encode(nil, body)...)
}

var errBadRecord = errors.New("malformed samples record")

// decodeSamples decodes a recSamples or recHandover record of either format.
// Each series gets one label set shared by its samples.
func decodeSamples(rec []byte) ([]series.Sample, error) {
	if !isSamples(rec) && !isHandover(rec) {
		return nil, errBadRecord
	}
	format2 := rec[0] == recSamples || rec[0] == recHandover
	body, err := snappy.Decode(nil, rec[1:])
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadRecord, err)
	}
	d := decoder{b: body}
	nsym := d.uvarint()
	if nsym > uint64(len(body)) {
		return nil, errBadRecord
	}
	symbols := make([]string, 0, nsym)
	for range nsym {
		symbols = append(symbols, d.str())
	}
	sym := func() string {
		i := d.uvarint()
		if i >= uint64(len(symbols)) {
			d.err = errBadRecord
			return ""
		}
		return symbols[i]
	}
	nser := d.uvarint()
	var out []series.Sample
	for i := uint64(0); i < nser && d.err == nil; i++ {
		nl := d.uvarint()
		if nl > uint64(len(body)) {
			return nil, errBadRecord
		}
		ls := make([]series.Label, 0, nl)
		for range nl {
			name := sym()
			ls = append(ls, series.Label{Name: name, Value: sym()})
		}
		labels := series.FromPairs(ls)
		ns := d.uvarint()
		starts := false
		if format2 {
			ns, starts = ns>>1, ns&1 == 1
		}
		if ns > uint64(len(body)) {
			return nil, errBadRecord
		}
		for range ns {
			t := d.varint()
			var st int64
			if starts {
				st = d.varint()
			}
			v := math.Float64frombits(d.uint64())
			out = append(out, series.Sample{Labels: labels, T: t, V: v, ST: st})
		}
	}
	if d.err != nil {
		return nil, d.err
	}
	return out, nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errBadRecord
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) uint64() uint64 {
	if d.err != nil || len(d.b) < 8 {
		d.err = errBadRecord
		return 0
	}
	v := binary.LittleEndian.Uint64(d.b)
	d.b = d.b[8:]
	return v
}

func (d *decoder) str() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.b)) {
		d.err = errBadRecord
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}
