package remotewrite

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/golang/snappy"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/kube-state-push/kube-state-push/series"
)

// send delivers one request's samples, retrying what is worth retrying. When
// the receiver does not take a 2.0 request, the queue falls back to 1.0 and
// the same samples are sent again as 1.0 at once, before the shard goes on to
// later samples, so per-series order holds and nothing is lost in the switch.
// A request answered 413, or refused for some of its samples, is sent again
// in halves (see split).
func (q *Queue) send(ctx context.Context, sh *shard, ss []series.Sample) {
	q.noteFamilies(sh, ss)
	sp := &split{budget: bisectBudget(len(ss))}
	q.deliver(ctx, sh, ss, sp)
	if sp.bisected > 0 {
		q.bisected(sp)
	}
}

// attempt is how a request that was not delivered ended.
type attempt struct {
	ss    []series.Sample // what was last sent: the samples less the too old
	msg   ProtobufMessage
	stats WriteStats
	err   error
}

// store sends ss until the receiver takes it, retrying what is worth
// retrying, and accounts for the samples it delivers or drops: those older
// than SampleAgeLimit before each try, and all of them when encoding fails or
// ctx ends. It returns nil then, and otherwise the refusal (a 4xx, or a 429
// with DropOn429), which the caller accounts for.
func (q *Queue) store(ctx context.Context, sh *shard, ss []series.Sample) *attempt {
	bo := newBackoff(q.cfg)
	var (
		body    []byte
		encoded ProtobufMessage
	)
	for {
		if ctx.Err() != nil {
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(ss)))
			return nil
		}
		if kept := q.dropOld(ss); len(kept) != len(ss) {
			ss, body = kept, nil
		}
		if len(ss) == 0 {
			return nil
		}
		msg := q.ProtobufMessage()
		if body == nil || msg != encoded {
			var err error
			if body, err = sh.encode(msg, ss); err != nil {
				q.metrics.samplesDropped.WithLabelValues("encode").Add(float64(len(ss)))
				q.logger.Error("Dropped samples that could not be encoded", "samples", len(ss), "err", err)
				return nil
			}
			encoded = msg
		}
		start := time.Now()
		stats, err := q.sender.Store(ctx, body, msg)
		took := time.Since(start)
		q.metrics.sendDuration.Observe(took.Seconds())
		if err == nil {
			q.stats.sent.Add(int64(len(ss)))
			q.stats.sentTime.Add(took.Nanoseconds())
			q.delivered(ss, len(body), msg, stats)
			return nil
		}
		q.logFailedRequest(msg, body, err)
		if ctx.Err() != nil {
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(ss)))
			return nil
		}
		var uerr *UnsupportedMessageError
		if msg == MessageV2 && errors.As(err, &uerr) {
			q.metrics.requests.WithLabelValues("fallback").Inc()
			q.fallBack(err)
			continue
		}
		var rerr *RecoverableError
		if !errors.As(err, &rerr) || q.cfg.DropOn429 && isStatus(err, http.StatusTooManyRequests) {
			return &attempt{ss: ss, msg: msg, stats: stats, err: err}
		}
		q.metrics.requests.WithLabelValues("retried").Inc()
		q.stats.failures.Add(1)
		if !q.wait(ctx, bo, rerr, "retry", "Failed to send samples, retrying", "samples", len(ss)) {
			q.metrics.samplesDropped.WithLabelValues("shutdown").Add(float64(len(ss)))
			return nil
		}
	}
}

// dropOld removes from ss, in place, the samples older than SampleAgeLimit
// (queue_config.sample_age_limit), counted as dropped for too_old, and
// returns the rest.
func (q *Queue) dropOld(ss []series.Sample) []series.Sample {
	if q.cfg.SampleAgeLimit <= 0 {
		return ss
	}
	limit := time.Now().Add(-q.cfg.SampleAgeLimit).UnixMilli()
	oldest := int64(math.MaxInt64)
	n := len(ss)
	ss = slices.DeleteFunc(ss, func(s series.Sample) bool {
		if s.T < limit {
			oldest = min(oldest, s.T)
			return true
		}
		return false
	})
	if dropped := n - len(ss); dropped > 0 {
		q.metrics.samplesDropped.WithLabelValues("too_old").Add(float64(dropped))
		if k, ok := q.limiter.allow("too-old"); ok {
			q.logger.Warn("Dropped samples older than sample_age_limit instead of sending them",
				"samples", dropped, "sample_age_limit", q.cfg.SampleAgeLimit,
				"oldest", time.UnixMilli(oldest).UTC().Format(time.RFC3339Nano), "suppressed", k)
		}
	}
	return ss
}

// logFailedRequest logs a 2.0 request the receiver did not take, whole, at
// debug level, when failed_request_logging asks for it: what Prometheus does
// with the option (it logs only 2.0 requests, each failed try).
func (q *Queue) logFailedRequest(msg ProtobufMessage, body []byte, err error) {
	if !q.cfg.FailedRequestLogging || msg != MessageV2 || !q.logger.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	var req writev2.Request
	pb, derr := snappy.Decode(nil, body)
	if derr == nil {
		derr = req.Unmarshal(pb)
	}
	if derr != nil {
		q.logger.Debug("Failed to send remote write v2 request", "err", err, "decode_err", derr)
		return
	}
	q.logger.Debug("Failed to send remote write v2 request", "req", &req, "err", err)
}

// encode encodes ss as msg with the shard's encoder for it.
func (sh *shard) encode(msg ProtobufMessage, ss []series.Sample) ([]byte, error) {
	if msg == MessageV2 && sh.enc2 != nil {
		return sh.enc2.encode(ss)
	}
	return sh.enc.encode(ss)
}

// delivered accounts for a request the receiver accepted. A 2.0 receiver that
// answers 2xx must have written everything (it answers 4xx or 5xx to a partial
// write), so a lower Samples-Written is a receiver fault: retrying a 2xx is not
// allowed, so the difference is counted as unconfirmed and logged.
func (q *Queue) delivered(ss []series.Sample, bytes int, msg ProtobufMessage, stats WriteStats) {
	q.metrics.requests.WithLabelValues("success").Inc()
	q.metrics.samplesSent.Add(float64(len(ss)))
	q.metrics.bytesSent.Add(float64(bytes))
	now := time.Now().UnixMilli()
	for _, s := range ss {
		q.metrics.lag.Observe(float64(now-s.T) / 1000)
	}
	if msg != MessageV2 || stats.Samples == int64(len(ss)) {
		return
	}
	sent := encodable(ss)
	if stats.Samples == sent {
		return
	}
	if missing := sent - stats.Samples; missing > 0 {
		q.metrics.unconfirmed.Add(float64(missing))
	}
	if n, ok := q.limiter.allow("written"); ok {
		q.logger.Warn("Receiver answered 2xx but reports a different number of samples written",
			"sent", sent, "written", stats.Samples, "suppressed", n)
	}
}

// refused accounts for a request refused for good (4xx). A 2.0 receiver
// writes what it can of a request it refuses and says how much, so only the
// rest is counted as dropped.
func (q *Queue) refused(ss []series.Sample, msg ProtobufMessage, stats WriteStats, err error) {
	code := "other"
	var serr *StatusError
	if errors.As(err, &serr) {
		code = fmt.Sprint(serr.Code)
	}
	dropped, written := int64(len(ss)), int64(0)
	if n, ok := partialWrite(msg, stats, ss); ok {
		written = n
		dropped -= written
		q.metrics.samplesSent.Add(float64(written))
	}
	q.metrics.requests.WithLabelValues("dropped").Inc()
	q.metrics.samplesDropped.WithLabelValues("http_" + code).Add(float64(dropped))
	if n, ok := q.limiter.allow("drop"); ok {
		q.logger.Error("Receiver refused samples; dropped them", "samples", dropped, "written", written, "err", err, "suppressed", n)
	}
}

// partialWrite returns how many samples of a refused request a 2.0 receiver
// says it wrote, and whether that can be believed: it reported a number, and
// one lower than what the request held. A receiver that refuses a request yet
// says it wrote all of it (Mimir does, when it refuses one series and stores
// the rest) has not told which were refused.
func partialWrite(msg ProtobufMessage, stats WriteStats, ss []series.Sample) (int64, bool) {
	if msg != MessageV2 || !stats.Confirmed || stats.Samples >= encodable(ss) {
		return 0, false
	}
	return stats.Samples, true
}

// fallBack switches the queue to 1.0 for the rest of the process, once.
func (q *Queue) fallBack(err error) {
	if !q.fellBack.CompareAndSwap(false, true) {
		return
	}
	q.metrics.setMessage(MessageV1)
	q.logger.Warn("Receiver does not accept Remote-Write 2.0; sending 1.0 from now on", "err", err)
	if q.families != nil {
		q.families.sendAll()
	}
}

// encodable counts the samples an encoder puts in a request.
func encodable(ss []series.Sample) int64 {
	var n int64
	for _, s := range ss {
		if !s.Labels.IsEmpty() {
			n++
		}
	}
	return n
}

// backoffJitter is how much longer than the exponential interval a wait may
// be drawn: up to half of it again.
const backoffJitter = 0.5

// newBackoff returns the waits between retries: an exponential interval from
// MinBackoff to MaxBackoff, lengthened by a random part of up to
// backoffJitter of it, capped at MaxBackoff. So MinBackoff is a floor (the
// first retry never comes sooner) and shards that failed together do not all
// retry at once.
func newBackoff(cfg QueueConfig) backoff.BackOff {
	return &jitteredBackoff{
		exp: backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(cfg.MinBackoff),
			backoff.WithMaxInterval(cfg.MaxBackoff),
			backoff.WithRandomizationFactor(0),
			backoff.WithMaxElapsedTime(0),
		),
		max:    cfg.MaxBackoff,
		factor: backoffJitter,
		rand:   rand.Float64,
	}
}

// jitteredBackoff draws each wait in [interval, min(interval*(1+factor), max)]
// for the next interval of exp, which has no randomization of its own.
type jitteredBackoff struct {
	exp    *backoff.ExponentialBackOff
	max    time.Duration
	factor float64
	rand   func() float64 // in [0, 1)
}

func (b *jitteredBackoff) NextBackOff() time.Duration {
	interval := b.exp.NextBackOff()
	hi := min(time.Duration(float64(interval)*(1+b.factor)), b.max)
	if hi <= interval {
		return interval
	}
	return interval + time.Duration(b.rand()*float64(hi-interval))
}

func (b *jitteredBackoff) Reset() { b.exp.Reset() }

// wait sleeps before the next retry: the next backoff, or longer when the
// receiver asked for it with Retry-After. It logs msg, rate-limited under key,
// and reports false when ctx ended first.
func (q *Queue) wait(ctx context.Context, bo backoff.BackOff, rerr *RecoverableError, key, msg string, args ...any) bool {
	wait := bo.NextBackOff()
	if rerr.RetryAfter > wait {
		wait = rerr.RetryAfter
	}
	if n, ok := q.limiter.allow(key); ok {
		q.logger.Warn(msg, append(args, "err", rerr, "backoff", wait, "suppressed", n)...)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// logLimiter lets one log line per key through per interval and counts the rest.
type logLimiter struct {
	mu         sync.Mutex
	interval   time.Duration
	last       map[string]time.Time
	suppressed map[string]int
}

func newLogLimiter(interval time.Duration) *logLimiter {
	return &logLimiter{interval: interval, last: map[string]time.Time{}, suppressed: map[string]int{}}
}

// allow reports whether a line for key may be logged now, and how many were
// suppressed since the last one.
func (l *logLimiter) allow(key string) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	if now.Sub(l.last[key]) < l.interval {
		l.suppressed[key]++
		return 0, false
	}
	l.last[key] = now
	n := l.suppressed[key]
	l.suppressed[key] = 0
	return n, true
}

// isStatus reports whether err carries the HTTP status code.
func isStatus(err error, code int) bool {
	var serr *StatusError
	return errors.As(err, &serr) && serr.Code == code
}
