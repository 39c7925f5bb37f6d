package remotewrite

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/kube-state-push/kube-state-push/series"
)

// familySet holds the names of the families the queue has sent samples of,
// for Remote-Write 1.0 metadata, which Prometheus sends in separate requests
// (WriteRequest field 3) rather than with the series as 2.0 does.
type familySet struct {
	mu    sync.Mutex
	names []string
	known map[string]struct{}
	sent  int  // names[:sent] have been handed to the sender
	all   bool // the next send carries every name
	wake  chan struct{}
}

func newFamilySet() *familySet {
	return &familySet{known: map[string]struct{}{}, wake: make(chan struct{}, 1)}
}

// add records name and wakes the sender when it is new.
func (f *familySet) add(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.known[name]; ok {
		return
	}
	f.known[name] = struct{}{}
	f.names = append(f.names, name)
	f.signal()
}

// sendAll asks the sender to send every name now (after a fallback to 1.0).
func (f *familySet) sendAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.all = true
	f.signal()
}

func (f *familySet) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// take returns the names to send: every one when all is set or asked for,
// otherwise those not sent yet.
func (f *familySet) take(all bool) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	from := f.sent
	if all || f.all {
		from, f.all = 0, false
	}
	f.sent = len(f.names)
	return slices.Clone(f.names[from:])
}

// noteFamilies reports the families of ss the shard has not reported yet.
// Runs of one family cost one comparison per sample.
func (q *Queue) noteFamilies(sh *shard, ss []series.Sample) {
	if q.families == nil {
		return
	}
	for _, s := range ss {
		name := s.Labels.Name()
		if name == sh.lastName {
			continue
		}
		sh.lastName = name
		if _, ok := sh.seen[name]; ok || name == "" {
			continue
		}
		sh.seen[name] = struct{}{}
		q.families.add(name)
	}
}

// runMetadata sends 1.0 metadata: a family as soon as its first samples were
// handed to a shard, and every family each MetadataSendInterval. While the
// queue sends 2.0 it sends nothing, since 2.0 carries metadata per series.
func (q *Queue) runMetadata(ctx context.Context) {
	t := time.NewTicker(q.cfg.MetadataSendInterval)
	defer t.Stop()
	enc := newEncoder(nil) // metadata only
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			all = true
		case <-q.families.wake:
		}
		if q.ProtobufMessage() != MessageV1 {
			continue
		}
		md := q.metadataOf(q.families.take(all))
		for len(md) > 0 && ctx.Err() == nil {
			n := min(len(md), q.cfg.MaxMetadataPerSend)
			q.sendMetadata(ctx, enc, md[:n])
			md = md[n:]
		}
	}
}

// metadataOf looks names up, leaving out those the MetadataFunc does not know.
func (q *Queue) metadataOf(names []string) []prompb.MetricMetadata {
	md := make([]prompb.MetricMetadata, 0, len(names))
	for _, name := range names {
		if typ, help, unit, ok := q.cfg.Metadata(name); ok {
			md = append(md, prompb.MetricMetadata{
				Type: metricTypeV1(typ), MetricFamilyName: name, Help: help, Unit: unit,
			})
		}
	}
	return md
}

// sendMetadata delivers one 1.0 metadata request, retrying what is worth
// retrying, until it is accepted, refused for good, or ctx is done. A request
// answered 413 is sent again in halves; a single family answered 413 is
// dropped, counted.
func (q *Queue) sendMetadata(ctx context.Context, enc *encoder, md []prompb.MetricMetadata) {
	body, err := enc.encodeMetadata(md)
	if err != nil {
		q.metrics.metadataDrop.Add(float64(len(md)))
		q.logger.Error("Dropped metadata that could not be encoded", "families", len(md), "err", err)
		return
	}
	bo := newBackoff(q.cfg)
	for {
		_, err := q.sender.Store(ctx, body, MessageV1)
		if err == nil {
			q.metrics.metadataSent.Add(float64(len(md)))
			return
		}
		if ctx.Err() != nil {
			return
		}
		var rerr *RecoverableError
		if isStatus(err, http.StatusRequestEntityTooLarge) && len(md) > 1 {
			if n, ok := q.limiter.allow("metadata-413"); ok {
				q.logger.Warn("Receiver answered 413 Request Entity Too Large to metadata; sending it again in halves",
					"families", len(md), "err", err, "suppressed", n)
			}
			h := len(md) / 2
			q.sendMetadata(ctx, enc, md[:h])
			q.sendMetadata(ctx, enc, md[h:])
			return
		}
		if !errors.As(err, &rerr) {
			q.metrics.metadataDrop.Add(float64(len(md)))
			if n, ok := q.limiter.allow("metadata-drop"); ok {
				q.logger.Error("Receiver refused metadata; dropped it", "families", len(md), "err", err, "suppressed", n)
			}
			return
		}
		if !q.wait(ctx, bo, rerr, "metadata-retry", "Failed to send metadata, retrying", "families", len(md)) {
			return
		}
	}
}
