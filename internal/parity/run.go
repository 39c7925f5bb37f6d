package parity

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Options configures Run.
type Options struct {
	// KSMURL is KSM's metrics endpoint, e.g. http://127.0.0.1:8080/metrics.
	KSMURL string
	// PrometheusURL is the base URL of Prometheus's HTTP API, e.g. http://127.0.0.1:9090.
	PrometheusURL string
	// Tolerance is how far apart the values of a time-valued family may be.
	Tolerance time.Duration
	// Lookback, when above zero, overrides Prometheus's lookback delta.
	Lookback time.Duration
	// Tries is the most comparisons Run makes (at least one); Interval the
	// pause between two.
	Tries    int
	Interval time.Duration
	// Client is the HTTP client; nil means one with a 30 s timeout.
	Client *http.Client
	// IgnoreLabels are dropped from Prometheus's series before they are
	// compared: the labels a scrape or a push adds and KSM's exposition
	// lacks, such as job and instance.
	IgnoreLabels []string
}

// Run compares KSM with Prometheus until a comparison finds full parity or
// Tries comparisons were made, and returns the last report. Each comparison
// scrapes KSM, then queries Prometheus, so that objects that change (lease
// renewals, node heartbeats) get another chance to agree. An error is
// returned only when the last try could not scrape or query.
func Run(ctx context.Context, o Options) (Report, error) {
	client := o.Client
	if client == nil {
		client = &http.Client{Timeout: 30 * time.Second}
	}
	tries := max(o.Tries, 1)
	var (
		r   Report
		err error
	)
	for i := 1; i <= tries; i++ {
		if i > 1 {
			t := time.NewTimer(o.Interval)
			select {
			case <-ctx.Done():
				t.Stop()
				return r, fmt.Errorf("compare: %w", ctx.Err())
			case <-t.C:
			}
		}
		r, err = compareOnce(ctx, client, o)
		r.Tries = i
		if err == nil && r.OK() {
			return r, nil
		}
	}
	return r, err
}

// compareOnce scrapes KSM, queries Prometheus for the same resources and compares.
func compareOnce(ctx context.Context, client *http.Client, o Options) (Report, error) {
	e, err := ScrapeKSM(ctx, client, o.KSMURL)
	if err != nil {
		return Report{}, err
	}
	q, err := ScopeQuery(e)
	if err != nil {
		return Report{}, fmt.Errorf("scrape %s: %w", o.KSMURL, err)
	}
	prom, err := QueryPrometheus(ctx, client, o.PrometheusURL, q, o.Lookback)
	if err != nil {
		return Report{}, err
	}
	if len(o.IgnoreLabels) > 0 {
		for i := range prom {
			prom[i].Labels = slices.DeleteFunc(prom[i].Labels, func(l Label) bool { return slices.Contains(o.IgnoreLabels, l.Name) })
		}
	}
	return Compare(e, prom, o.Tolerance), nil
}
