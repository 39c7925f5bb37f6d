package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/kube-state-push/kube-state-push/customresource"
)

// fieldErrors counts and logs the per-object errors of custom resources: a
// field that does not match the config (a string where a number is wanted, a
// missing path without nilIsZero, ...). They never stop anything: the object
// gets the series KSM gives it.
//
// KSM logs each at the klog verbosity of its metric's errorLogV (the
// resource's when the metric's is 0), at error level, on every add and
// update. The agent has levels, not verbosities: an error of errorLogV 0 is
// logged at warn, any other at debug, since errorLogV > 0 is how a KSM
// config says the errors are expected and not to be seen by default. Every
// error is counted in kube_state_push_custom_resource_errors_total{resource,
// metric}; the log is rate-limited to one line per resource and metric every
// fieldErrorLogEvery, with the number of errors left out since the last one.
type fieldErrors struct {
	counter *prometheus.CounterVec
	logger  *slog.Logger
	now     func() time.Time

	mu   sync.Mutex
	last map[[2]string]*errorLogState
}

type errorLogState struct {
	at         time.Time
	suppressed int
}

// fieldErrorLogEvery is the least time between two log lines of the errors of
// one resource and metric.
const fieldErrorLogEvery = time.Minute

func newFieldErrors(reg prometheus.Registerer, logger *slog.Logger) *fieldErrors {
	e := &fieldErrors{
		counter: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "kube_state_push_custom_resource_errors_total",
			Help: "Fields of custom objects that did not match the custom resource state config (logged as kube-state-metrics does, rate-limited), by resource (group/version/plural) and metric family.",
		}, []string{"resource", "metric"}),
		logger: logger,
		now:    time.Now,
		last:   map[[2]string]*errorLogState{},
	}
	if reg != nil {
		reg.MustRegister(e.counter)
	}
	return e
}

// report returns the generator's Options.OnError for the resource.
func (e *fieldErrors) report(resource string) func(gvk, metric string, err error) {
	return func(_, metric string, err error) {
		e.counter.WithLabelValues(resource, metric).Inc()
		level := slog.LevelWarn
		if fe, ok := errors.AsType[*customresource.FieldError](err); ok && fe.V > 0 {
			level = slog.LevelDebug
		}
		e.log(level, "Custom object field does not match the config", resource, metric, err)
	}
}

// panicked returns what a safeGenerator calls on a panic.
func (e *fieldErrors) panicked(resource string) func(any) {
	return func(p any) {
		e.counter.WithLabelValues(resource, "").Inc()
		e.log(slog.LevelError, "Generating the series of a custom object failed; object dropped", resource, "", fmt.Errorf("panic: %v", p))
	}
}

func (e *fieldErrors) log(level slog.Level, msg, resource, metric string, err error) {
	if !e.logger.Enabled(context.Background(), level) {
		return
	}
	key := [2]string{resource, metric}
	now := e.now()
	e.mu.Lock()
	st := e.last[key]
	if st != nil && now.Sub(st.at) < fieldErrorLogEvery {
		st.suppressed++
		e.mu.Unlock()
		return
	}
	suppressed := 0
	if st == nil {
		st = &errorLogState{}
		e.last[key] = st
	}
	suppressed, st.at, st.suppressed = st.suppressed, now, 0
	e.mu.Unlock()
	e.logger.Log(context.Background(), level, msg, "resource", resource, "metric", metric, "err", err, "suppressed_since_last", suppressed)
}
