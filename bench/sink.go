package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/golang/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// The sink is the receiver of the largest sizes, where a Prometheus holding
// both sides' series would cost more than the apiserver and the two agents
// together (2.8 M series took 5.7 GB at 50,000 pods). It takes Remote-Write
// 1.0 and 2.0, decodes every request fully and checks it, and stores nothing
// but the last timestamp of each series: its cost is small, and the same
// whichever side writes. The bench runs it as a process of its own
// (bench -serve-sink ADDR), so that neither the bench's work nor the sink's
// lands on a side, and the window can measure the sink apart.
//
// Each sender writes to its own path, /{sender}/api/v1/write, and has its own
// counters and series. The bench reads them from GET /stats, and measures
// change → delivered latency with watches: POST /watches/{sender} registers a
// series and a value to look for, GET /watches/{sender} says when a request
// first carried it.

// staleNaN is the bit pattern of Prometheus's staleness marker.
const staleNaN = 0x7ff0000000000002

// maxSinkBody bounds a request body, compressed and decoded.
const maxSinkBody = 64 << 20

// Remote-Write headers the sink reads and answers (the remotewrite package's
// own are unexported).
const (
	rwHeaderSamples    = "X-Prometheus-Remote-Write-Samples-Written"
	rwHeaderHistograms = "X-Prometheus-Remote-Write-Histograms-Written"
	rwHeaderExemplars  = "X-Prometheus-Remote-Write-Exemplars-Written"
	protoV1            = "prometheus.WriteRequest"
	protoV2            = "io.prometheus.write.v2.Request"
)

// sinkStats are one sender's counters.
type sinkStats struct {
	Requests   int64 `json:"requests"`
	V1Requests int64 `json:"v1Requests"`
	V2Requests int64 `json:"v2Requests"`
	Refused    int64 `json:"refused"` // requests answered 4xx: not decodable, wrong type or encoding
	Bytes      int64 `json:"bytes"`   // compressed bodies
	Samples    int64 `json:"samples"` // float samples, staleness markers included
	Stale      int64 `json:"staleMarkers"`
	Histograms int64 `json:"histograms"`
	Exemplars  int64 `json:"exemplars"`
	Metadata   int64 `json:"metadata"` // 1.0 metadata entries and 2.0 series with metadata
	// OutOfOrder counts samples whose timestamp is not after the last one of
	// their series: a storage would refuse them.
	OutOfOrder int64 `json:"outOfOrder"`
	// Invalid counts series whose labels are not sorted by name, repeat a
	// name or have no __name__.
	Invalid  int64 `json:"invalidSeries"`
	Series   int64 `json:"series"`   // distinct series seen
	Live     int64 `json:"live"`     // of them, those whose last sample is not a staleness marker
	LiveKube int64 `json:"liveKube"` // of those, the kube_* ones
}

// sinkWatch is a series and a condition on its samples that a probe waits for.
type sinkWatch struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels,omitempty"` // besides __name__; others may be there too
	// Value is the value to look for; nil is any sample but a staleness
	// marker. Stale looks for a staleness marker instead.
	Value *float64 `json:"value,omitempty"`
	Stale bool     `json:"stale,omitempty"`
	// Delivered is when a request that carried the first matching sample had
	// arrived, in Unix nanoseconds; 0 until then. Requests that arrived before
	// the watch was registered do not count.
	Delivered  int64 `json:"delivered,omitempty"`
	registered int64
}

// matches reports whether a sample of value v meets the watch's condition.
func (w *sinkWatch) matches(v float64) bool {
	stale := math.Float64bits(v) == staleNaN
	switch {
	case w.Stale:
		return stale
	case w.Value == nil:
		return !stale
	default:
		return !stale && v == *w.Value
	}
}

// sinkSender is what the sink keeps of one sender.
type sinkSender struct {
	mu    sync.Mutex
	stats sinkStats
	// last is each series' last timestamp in milliseconds, negated after a
	// staleness marker; the key is a hash of its labels.
	last    map[uint64]int64
	watches []*sinkWatch
	pending map[string][]*sinkWatch // not yet delivered, by metric name
}

// sink is the receiver's state: its senders.
type sink struct {
	mu      sync.Mutex
	senders map[string]*sinkSender
	seed    maphash.Seed
	now     func() time.Time
	bufs    sync.Pool // *sinkBuffers
}

func newSink() *sink {
	return &sink{senders: map[string]*sinkSender{}, seed: maphash.MakeSeed(), now: time.Now}
}

// sender returns the sender's state, new if it has none.
func (s *sink) sender(name string) *sinkSender {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.senders[name]
	if st == nil {
		st = &sinkSender{last: map[uint64]int64{}, pending: map[string][]*sinkWatch{}}
		s.senders[name] = st
	}
	return st
}

// handler serves the write paths and the bench's endpoints.
func (s *sink) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /{sender}/api/v1/write", s.serveWrite)
	mux.HandleFunc("GET /stats", s.serveStats)
	mux.HandleFunc("POST /watches/{sender}", s.serveAddWatch)
	mux.HandleFunc("GET /watches/{sender}", s.serveWatches)
	mux.HandleFunc("DELETE /senders/{sender}", s.serveForget)
	return mux
}

// requestError is a request the sink refuses, with its status.
type requestError struct {
	code int
	msg  string
}

func (e *requestError) Error() string { return e.msg }

func badRequest(format string, args ...any) error {
	return &requestError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

// messageOf returns the protobuf message a request's Content-Type names; a
// bare application/x-protobuf is 1.0's.
func messageOf(contentType string) (string, error) {
	if contentType == "" {
		return protoV1, nil
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "application/x-protobuf" {
		return "", &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Type %q", contentType)}
	}
	switch p := params["proto"]; p {
	case "", protoV1:
		return protoV1, nil
	case protoV2:
		return protoV2, nil
	default:
		return "", &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported proto %q", p)}
	}
}

func (s *sink) serveWrite(w http.ResponseWriter, r *http.Request) {
	st := s.sender(r.PathValue("sender"))
	written, err := s.write(st, r)
	if err != nil {
		code := http.StatusBadRequest
		var re *requestError
		if errors.As(err, &re) {
			code = re.code
		}
		st.mu.Lock()
		st.stats.Refused++
		st.mu.Unlock()
		http.Error(w, err.Error(), code)
		return
	}
	if written != nil { // 2.0: what was written, as its spec requires
		h := w.Header()
		h.Set(rwHeaderSamples, strconv.FormatInt(written.Samples, 10))
		h.Set(rwHeaderHistograms, strconv.FormatInt(written.Histograms, 10))
		h.Set(rwHeaderExemplars, strconv.FormatInt(written.Exemplars, 10))
	}
	w.WriteHeader(http.StatusNoContent)
}

// write reads, decodes and checks one request; for a 2.0 request it returns
// what it wrote (everything it decoded: it refuses nothing it can read).
func (s *sink) write(st *sinkSender, r *http.Request) (*sinkStats, error) {
	msg, err := messageOf(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, err
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "snappy" {
		return nil, &requestError{http.StatusUnsupportedMediaType, fmt.Sprintf("unsupported Content-Encoding %q", enc)}
	}
	bufs, _ := s.bufs.Get().(*sinkBuffers)
	if bufs == nil {
		bufs = &sinkBuffers{}
	}
	defer s.bufs.Put(bufs)
	bufs.body.Reset()
	if _, err := bufs.body.ReadFrom(io.LimitReader(r.Body, maxSinkBody+1)); err != nil {
		return nil, badRequest("read body: %v", err)
	}
	at := s.now().UnixNano() // arrived; decoding is the sink's own time
	body := bufs.body.Bytes()
	if len(body) > maxSinkBody {
		return nil, badRequest("body over %d bytes", maxSinkBody)
	}
	if n, err := snappy.DecodedLen(body); err != nil || n > maxSinkBody {
		return nil, badRequest("snappy: bad or too long block")
	}
	pb, err := snappy.Decode(bufs.pb[:cap(bufs.pb)], body)
	if err != nil {
		return nil, badRequest("snappy: %v", err)
	}
	bufs.pb = pb
	d := &bufs.req
	d.reset()
	if msg == protoV2 {
		err = d.decodeV2(pb)
	} else {
		err = d.decodeV1(pb)
	}
	if err != nil {
		return nil, badRequest("decode %s: %v", msg, err)
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	st.stats.Requests++
	st.stats.Bytes += int64(len(body))
	if msg == protoV2 {
		st.stats.V2Requests++
	} else {
		st.stats.V1Requests++
	}
	st.stats.Histograms += int64(d.histograms)
	st.stats.Exemplars += int64(d.exemplars)
	st.stats.Metadata += int64(d.metadata)
	st.observe(d, s.seed, at)
	if msg != protoV2 {
		return nil, nil
	}
	return &sinkStats{Samples: int64(len(d.samples)), Histograms: int64(d.histograms), Exemplars: int64(d.exemplars)}, nil
}

// observe checks each series of d against what the sender sent before, and
// the pending watches against its samples. The caller holds st.mu.
func (st *sinkSender) observe(d *decodedRequest, seed maphash.Seed, at int64) {
	var h maphash.Hash
	h.SetSeed(seed)
	for _, ws := range d.series {
		ls, ss := d.labels[ws.l0:ws.l1], d.samples[ws.s0:ws.s1]
		st.stats.Samples += int64(len(ss))
		name, ok := checkLabels(ls)
		if !ok {
			st.stats.Invalid++
			continue
		}
		h.Reset()
		for _, l := range ls {
			_, _ = h.Write(l.name)
			_ = h.WriteByte(0xff)
			_, _ = h.Write(l.value)
			_ = h.WriteByte(0xff)
		}
		key, kube := h.Sum64(), bytes.HasPrefix(name, []byte("kube_"))
		for _, smp := range ss {
			st.sample(key, kube, smp)
		}
		if len(st.pending[string(name)]) > 0 {
			st.match(string(name), ls, ss, at)
		}
	}
}

// checkLabels returns the metric name of a series, and false if its labels
// are not sorted by name, repeat one or lack __name__.
func checkLabels(ls []wireLabel) ([]byte, bool) {
	var name []byte
	for i, l := range ls {
		if i > 0 && bytes.Compare(ls[i-1].name, l.name) >= 0 {
			return nil, false
		}
		if string(l.name) == "__name__" {
			name = l.value
		}
	}
	return name, len(name) > 0
}

// sample checks one sample against its series' last and keeps its timestamp.
func (st *sinkSender) sample(key uint64, kube bool, smp wireSample) {
	stale := math.Float64bits(smp.v) == staleNaN
	if stale {
		st.stats.Stale++
	}
	last, seen := st.last[key]
	if seen && smp.t <= max(last, -last) {
		st.stats.OutOfOrder++
		return
	}
	wasLive := seen && last > 0
	if !seen {
		st.stats.Series++
	}
	if stale {
		st.last[key] = -smp.t
	} else {
		st.last[key] = smp.t
	}
	delta := int64(0)
	switch {
	case wasLive && stale:
		delta = -1
	case !wasLive && !stale:
		delta = 1
	}
	st.stats.Live += delta
	if kube {
		st.stats.LiveKube += delta
	}
}

// match marks the pending watches of name that the series meets as delivered
// at at. The caller holds st.mu.
func (st *sinkSender) match(name string, ls []wireLabel, ss []wireSample, at int64) {
	ws := st.pending[name]
	kept := ws[:0]
	for _, w := range ws {
		if at >= w.registered && hasLabels(ls, w.Labels) && anyMatches(w, ss) {
			w.Delivered = at
			continue
		}
		kept = append(kept, w)
	}
	clear(ws[len(kept):])
	if len(kept) == 0 {
		delete(st.pending, name)
	} else {
		st.pending[name] = kept
	}
}

func hasLabels(ls []wireLabel, want map[string]string) bool {
	for k, v := range want {
		found := false
		for _, l := range ls {
			if string(l.name) == k {
				found = string(l.value) == v
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

func anyMatches(w *sinkWatch, ss []wireSample) bool {
	for _, smp := range ss {
		if w.matches(smp.v) {
			return true
		}
	}
	return false
}

func (s *sink) serveStats(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	senders := make(map[string]*sinkSender, len(s.senders))
	for k, v := range s.senders {
		senders[k] = v
	}
	s.mu.Unlock()
	out := make(map[string]sinkStats, len(senders))
	for k, st := range senders {
		st.mu.Lock()
		out[k] = st.stats
		st.mu.Unlock()
	}
	writeJSON(w, out)
}

func (s *sink) serveAddWatch(w http.ResponseWriter, r *http.Request) {
	var ws []*sinkWatch
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(&ws); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	for _, x := range ws {
		if x == nil || x.ID == "" || x.Name == "" {
			http.Error(w, "a watch needs an id and a name", http.StatusBadRequest)
			return
		}
	}
	st := s.sender(r.PathValue("sender"))
	now := s.now().UnixNano()
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, x := range ws {
		x.Delivered, x.registered = 0, now
		st.watches = append(st.watches, x)
		st.pending[x.Name] = append(st.pending[x.Name], x)
	}
	w.WriteHeader(http.StatusNoContent)
}

// serveWatches answers the delivery time of each of the sender's watches by
// id, 0 for those not delivered yet.
func (s *sink) serveWatches(w http.ResponseWriter, r *http.Request) {
	st := s.sender(r.PathValue("sender"))
	st.mu.Lock()
	out := make(map[string]int64, len(st.watches))
	for _, x := range st.watches {
		out[x.ID] = x.Delivered
	}
	st.mu.Unlock()
	writeJSON(w, out)
}

// serveForget drops a sender: its series, counters and watches.
func (s *sink) serveForget(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	delete(s.senders, r.PathValue("sender"))
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// serveSink runs the sink on addr until ctx is done.
func serveSink(ctx context.Context, addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newSink().handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// sinkBuffers are one request's buffers, reused between requests.
type sinkBuffers struct {
	body bytes.Buffer
	pb   []byte
	req  decodedRequest
}

// decodedRequest is a request decoded without copying: labels point into the
// decompressed body, series index the arenas.
type decodedRequest struct {
	series                          []wireSeries
	labels                          []wireLabel
	samples                         []wireSample
	symbols                         [][]byte // 2.0
	refs                            []uint32 // 2.0: one series' label refs
	histograms, exemplars, metadata int
}

type wireSeries struct{ l0, l1, s0, s1 int }

type wireLabel struct{ name, value []byte }

type wireSample struct {
	v float64
	t int64
}

func (d *decodedRequest) reset() {
	d.series, d.labels, d.samples, d.symbols = d.series[:0], d.labels[:0], d.samples[:0], d.symbols[:0]
	d.histograms, d.exemplars, d.metadata = 0, 0, 0
}

// fields calls f with each field of a protobuf message; for a field of the
// length-delimited wire type, v is its bytes, and x its value otherwise.
func fields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		var v []byte
		var x uint64
		switch typ {
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := f(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

// wantType is the error of a known field of the wrong wire type.
func wantType(num protowire.Number, typ, want protowire.Type) error {
	if typ == want {
		return nil
	}
	return fmt.Errorf("field %d: wire type %d, want %d", num, typ, want)
}

// decodeV1 decodes a prometheus.WriteRequest.
func (d *decodedRequest) decodeV1(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1: // timeseries
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			return d.seriesV1(v)
		case 3: // metadata
			d.metadata++
			return wantType(num, typ, protowire.BytesType)
		}
		return nil
	})
}

// seriesV1 decodes a prometheus.TimeSeries.
func (d *decodedRequest) seriesV1(b []byte) error {
	ws := wireSeries{l0: len(d.labels), s0: len(d.samples)}
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num > 4 {
			return nil
		}
		if err := wantType(num, typ, protowire.BytesType); err != nil {
			return err
		}
		switch num {
		case 1:
			return d.labelV1(v)
		case 2:
			return d.sample(v, 1, 2)
		case 3:
			d.exemplars++
		case 4:
			d.histograms++
		}
		return nil
	})
	ws.l1, ws.s1 = len(d.labels), len(d.samples)
	d.series = append(d.series, ws)
	return err
}

// labelV1 decodes a prometheus.Label.
func (d *decodedRequest) labelV1(b []byte) error {
	var l wireLabel
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case 1:
			l.name = v
		case 2:
			l.value = v
		default:
			return nil
		}
		return wantType(num, typ, protowire.BytesType)
	})
	d.labels = append(d.labels, l)
	return err
}

// sample decodes a Sample of either version, whose value and timestamp have
// the given field numbers.
func (d *decodedRequest) sample(b []byte, valueField, tsField protowire.Number) error {
	var s wireSample
	err := fields(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		switch num {
		case valueField:
			s.v = math.Float64frombits(x)
			return wantType(num, typ, protowire.Fixed64Type)
		case tsField:
			s.t = int64(x)
			return wantType(num, typ, protowire.VarintType)
		}
		return nil
	})
	d.samples = append(d.samples, s)
	return err
}

// decodeV2 decodes an io.prometheus.write.v2.Request: its symbols first,
// wherever they are, then its series.
func (d *decodedRequest) decodeV2(b []byte) error {
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 4 {
			return nil
		}
		d.symbols = append(d.symbols, v)
		return wantType(num, typ, protowire.BytesType)
	})
	if err != nil {
		return err
	}
	if len(d.symbols) > 0 && len(d.symbols[0]) != 0 {
		return errors.New(`symbols do not start with ""`)
	}
	return fields(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 5 {
			return nil
		}
		if err := wantType(num, typ, protowire.BytesType); err != nil {
			return err
		}
		return d.seriesV2(v)
	})
}

// seriesV2 decodes an io.prometheus.write.v2.TimeSeries.
func (d *decodedRequest) seriesV2(b []byte) error {
	ws := wireSeries{l0: len(d.labels), s0: len(d.samples)}
	refs := d.refs[:0]
	err := fields(b, func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error {
		switch num {
		case 1: // labels_refs, packed or not
			var err error
			refs, err = appendRefs(refs, typ, v, x)
			return err
		case 2:
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			return d.sample(v, 1, 2)
		case 3:
			d.histograms++
			return wantType(num, typ, protowire.BytesType)
		case 4:
			d.exemplars++
			return wantType(num, typ, protowire.BytesType)
		case 5:
			d.metadata++
			if err := wantType(num, typ, protowire.BytesType); err != nil {
				return err
			}
			return d.checkMetadataV2(v)
		}
		return nil
	})
	d.refs = refs
	if err != nil {
		return err
	}
	if len(refs)%2 != 0 {
		return fmt.Errorf("odd number of label refs (%d)", len(refs))
	}
	for i := 0; i < len(refs); i += 2 {
		name, err := d.symbol(refs[i])
		if err != nil {
			return err
		}
		value, err := d.symbol(refs[i+1])
		if err != nil {
			return err
		}
		d.labels = append(d.labels, wireLabel{name, value})
	}
	ws.l1, ws.s1 = len(d.labels), len(d.samples)
	d.series = append(d.series, ws)
	return nil
}

// appendRefs appends the uint32 refs of one labels_refs field.
func appendRefs(refs []uint32, typ protowire.Type, v []byte, x uint64) ([]uint32, error) {
	if typ == protowire.VarintType {
		return append(refs, uint32(x)), nil
	}
	if typ != protowire.BytesType {
		return refs, fmt.Errorf("labels_refs: wire type %d", typ)
	}
	for len(v) > 0 {
		r, n := protowire.ConsumeVarint(v)
		if n < 0 {
			return refs, fmt.Errorf("labels_refs: %w", protowire.ParseError(n))
		}
		refs, v = append(refs, uint32(r)), v[n:]
	}
	return refs, nil
}

// checkMetadataV2 checks that a Metadata's help and unit refs are symbols.
func (d *decodedRequest) checkMetadataV2(b []byte) error {
	return fields(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		if num != 3 && num != 4 {
			return nil
		}
		if err := wantType(num, typ, protowire.VarintType); err != nil {
			return err
		}
		_, err := d.symbol(uint32(x))
		return err
	})
}

func (d *decodedRequest) symbol(ref uint32) ([]byte, error) {
	if int(ref) >= len(d.symbols) {
		return nil, fmt.Errorf("symbol ref %d out of %d symbols", ref, len(d.symbols))
	}
	return d.symbols[ref], nil
}

// sinkClient is the bench's side of the sink's HTTP endpoints.
type sinkClient struct{ url string }

func (c *sinkClient) writeURL(sender string) string {
	return c.url + "/" + url.PathEscape(sender) + "/api/v1/write"
}

// all returns every sender's counters.
func (c *sinkClient) all(ctx context.Context) (map[string]sinkStats, error) {
	var out map[string]sinkStats
	err := c.do(ctx, http.MethodGet, "/stats", nil, &out)
	return out, err
}

// stats returns one sender's counters (zero if it sent nothing).
func (c *sinkClient) stats(ctx context.Context, sender string) (sinkStats, error) {
	all, err := c.all(ctx)
	return all[sender], err
}

func (c *sinkClient) watch(ctx context.Context, sender string, ws []*sinkWatch) error {
	return c.do(ctx, http.MethodPost, "/watches/"+url.PathEscape(sender), ws, nil)
}

// delivered returns when each of the sender's watches was delivered, in
// Unix nanoseconds (0: not yet).
func (c *sinkClient) delivered(ctx context.Context, sender string) (map[string]int64, error) {
	var out map[string]int64
	err := c.do(ctx, http.MethodGet, "/watches/"+url.PathEscape(sender), nil, &out)
	return out, err
}

func (c *sinkClient) forget(ctx context.Context, sender string) error {
	return c.do(ctx, http.MethodDelete, "/senders/"+url.PathEscape(sender), nil, nil)
}

// do sends in (JSON, if not nil) and decodes the answer into out (if not nil).
func (c *sinkClient) do(ctx context.Context, method, path string, in, out any) error {
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, method, c.url+path, &body)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("sink %s %s: %s", method, path, resp.Status)
	}
	if out == nil {
		return nil
	}
	return json.NewDecoder(resp.Body).Decode(out)
}
