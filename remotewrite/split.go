package remotewrite

import (
	"context"
	"errors"
	"math/bits"
	"net/http"

	"github.com/kube-state-push/kube-state-push/series"
)

// split is what sending one request again in halves has done so far.
//
// A request answered 413 Request Entity Too Large is sent again in halves,
// recursively, as often as it takes (at most one request per sample and
// halving); a single sample answered 413 is dropped, counted.
//
// A request refused with another 4xx may hold samples the receiver would take:
// Mimir and Cortex store the valid series of a 1.0 request and answer 400
// naming one bad series; Thanos refuses the whole request with 409. So a
// refused request of more than one sample is sent again in halves, recursively,
// until the refused samples are isolated, within budget extra requests;
// samples already stored are sent again, which those receivers accept as
// duplicates (same timestamp, same value). What is still refused when the
// budget is spent is dropped, counted. The first half goes, with its own
// halves, before the second, so each series keeps its order.
type split struct {
	budget   int   // extra requests bisecting may still send
	bisected int   // refused pieces sent again in halves
	sent     int   // extra requests bisecting sent
	dropped  int64 // samples of refused pieces dropped, after bisecting
	spent    bool  // a bisectable piece was dropped for want of budget
	first    error // the refusal that started bisecting
}

// bisectBudget is the number of extra requests bisecting a refused request
// of n samples may send: four per halving, enough to isolate two refused
// samples (each takes two requests per halving).
func bisectBudget(n int) int { return 4 * bits.Len(uint(n)) }

// deliver sends ss with store and deals with its refusal: a 413 or a
// bisectable refusal sends it again in halves, anything else drops it,
// counted.
func (q *Queue) deliver(ctx context.Context, sh *shard, ss []series.Sample, sp *split) {
	a := q.store(ctx, sh, ss)
	if a == nil {
		return
	}
	ss = a.ss
	switch {
	case isStatus(a.err, http.StatusRequestEntityTooLarge) && len(ss) > 1:
		q.metrics.requests.WithLabelValues("split").Inc()
		if n, ok := q.limiter.allow("413"); ok {
			q.logger.Warn("Receiver answered 413 Request Entity Too Large; sending the request again in halves",
				"samples", len(ss), "err", a.err, "suppressed", n)
		}
	case bisectable(a) && sp.budget >= 2:
		q.metrics.requests.WithLabelValues("split").Inc()
		sp.budget -= 2
		sp.sent += 2
		sp.bisected++
		if sp.first == nil {
			sp.first = a.err
		}
	default:
		if sp.bisected > 0 {
			sp.dropped += int64(len(ss))
			sp.spent = sp.spent || bisectable(a)
		}
		q.refused(ss, a.msg, a.stats, a.err)
		return
	}
	h := len(ss) / 2
	q.deliver(ctx, sh, ss[:h], sp)
	q.deliver(ctx, sh, ss[h:], sp)
}

// bisectable reports whether the refused request a may hold samples the
// receiver takes, so that sending it again in halves may get them in: a
// request of more than one sample refused with a 4xx that can be about its
// content. Not a 413 (split by size, see deliver), nor a 429 (a rate limit,
// refused with retry_on_http_429: false), nor the 4xx that refuse any request
// (401, 403 and 407 for credentials, 404 and 405 for a wrong URL, 415 for the
// message), nor a 2.0 refusal with Samples-Written: a 2.0 receiver writes what
// it can of a request it refuses and says how much (refused counts the rest),
// so what it refused it would refuse again. A 2.0 receiver that says it wrote
// the whole request it refused is bisected like a 1.0 one (see partialWrite).
func bisectable(a *attempt) bool {
	if len(a.ss) < 2 {
		return false
	}
	if _, ok := partialWrite(a.msg, a.stats, a.ss); ok {
		return false
	}
	var serr *StatusError
	if !errors.As(a.err, &serr) || serr.Code/100 != 4 {
		return false
	}
	switch serr.Code {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusProxyAuthRequired,
		http.StatusNotFound, http.StatusMethodNotAllowed,
		http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType, http.StatusTooManyRequests:
		return false
	}
	return true
}

// bisected logs, rate-limited, what bisecting a refused request found.
func (q *Queue) bisected(sp *split) {
	if n, ok := q.limiter.allow("bisect"); ok {
		q.logger.Warn("Receiver refused a request; sent it again in halves to deliver the samples it takes",
			"dropped", sp.dropped, "extra_requests", sp.sent, "budget_spent", sp.spent,
			"err", sp.first, "suppressed", n)
	}
}
