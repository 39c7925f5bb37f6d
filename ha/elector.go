package ha

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

// ErrLeadershipLost is the cause of a term's context once the term has ended.
var ErrLeadershipLost = errors.New("leadership lost")

// Elector campaigns for a Lease with client-go's leader election and tells
// whether this replica leads. Leadership comes in terms: a term starts with
// a successful acquisition of the Lease and ends, on this replica's clock,
// RenewDeadline after the start of the last successful renewal, or earlier
// when the Lease is released or Run returns. Standbys take over only about
// LeaseDuration after they last saw the Lease renewed, so terms of different
// replicas do not overlap (see the package documentation for the margins).
type Elector struct {
	cfg     Config
	client  kubernetes.Interface
	logger  *slog.Logger
	metrics *metrics

	running atomic.Bool
	kick    chan struct{} // wakes the watchdog after a renewal
	// otherHolder is signalled when the Lease is read naming another replica.
	otherHolder chan struct{}

	transMu sync.Mutex // serialises transitions and their callbacks

	mu         sync.RWMutex
	term       *Term     // nil while not leading
	validUntil time.Time // end of the current term unless renewed
	changed    chan struct{}
	seq        uint64
	observed   string // holder of the Lease when last read

	// onTermEnd, if set (by tests), gets the start and end of every term.
	onTermEnd func(start, end time.Time)
}

// Term is one uninterrupted period of leadership of this replica.
type Term struct {
	e         *Elector
	seq       uint64
	start     time.Time
	continues bool
	ctx       context.Context
	cancel    context.CancelCauseFunc
}

// Start returns when the term started, on this replica's wall clock. Samples
// stamped before it must not be sent in this term unless Continues: they were
// made while another replica may have been leading.
func (t *Term) Start() time.Time { return t.start }

// Continues reports whether no other replica has led since this replica last
// did: the Lease still named this identity when the term began (this replica
// restarted, or renewed after a lapse). Only then may samples this replica
// stamped before Start, such as its WAL backlog, still be sent: no newer
// samples of those series have reached the receiver from another replica.
func (t *Term) Continues() bool { return t.continues }

// Seq returns the term's number, counted from 1 on this replica.
func (t *Term) Seq() uint64 { return t.seq }

// Active reports whether the term is still running. It is exact at the time of
// the call, so check it right before handing anything on to be sent.
func (t *Term) Active() bool {
	t.e.mu.RLock()
	defer t.e.mu.RUnlock()
	return t.e.term == t && time.Now().Before(t.e.validUntil)
}

// Context returns a context that is cancelled, with cause ErrLeadershipLost,
// when the term ends. It wakes up whoever waits on the term; it may be done a
// scheduling delay after Active turned false.
func (t *Term) Context() context.Context { return t.ctx }

// New returns an Elector for cfg, with the defaults applied. It returns an error
// wrapping ErrInvalidConfig when cfg is invalid. It starts nothing: call Run.
// A nil logger discards.
func New(client kubernetes.Interface, cfg Config, logger *slog.Logger) (*Elector, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if client == nil {
		return nil, fmt.Errorf("%w: no Kubernetes client", ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	return &Elector{
		cfg:         cfg,
		client:      client,
		logger:      logger.With("lease", cfg.LeaseNamespace+"/"+cfg.LeaseName, "identity", cfg.Identity),
		metrics:     m,
		kick:        make(chan struct{}, 1),
		otherHolder: make(chan struct{}, 1),
		changed:     make(chan struct{}),
	}, nil
}

// Identity returns the identity this replica campaigns with.
func (e *Elector) Identity() string { return e.cfg.Identity }

// IsLeader reports whether this replica leads now.
func (e *Elector) IsLeader() bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.term != nil && time.Now().Before(e.validUntil)
}

// Leader returns the holder of the Lease when this replica last read it, or ""
// (informational: logs, status pages).
func (e *Elector) Leader() string {
	e.mu.RLock()
	defer e.mu.RUnlock()
	return e.observed
}

// WaitLeader blocks until this replica leads and returns the current term, or
// returns ctx's error. The term may already be over when the caller looks at
// it: check Term.Active before acting on it.
func (e *Elector) WaitLeader(ctx context.Context) (*Term, error) {
	for {
		e.mu.RLock()
		t, ok, changed := e.term, e.term != nil && time.Now().Before(e.validUntil), e.changed
		e.mu.RUnlock()
		if ok {
			return t, nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-changed:
		}
	}
}

// Run campaigns for the Lease until ctx is done, campaigning again after every
// lost term, and returns nil then; it returns an error only when it cannot run
// at all (called twice). It blocks, and every goroutine it starts has ended
// when it returns; the term, if any, has ended too.
//
// Unless KeepLeaseOnCancel is set, cancelling ctx releases the Lease so that a
// standby takes over at once. Cancel it only after this replica has stopped
// sending: the term ends before the release is written, but what is already
// in flight keeps going.
func (e *Elector) Run(ctx context.Context) error {
	if !e.running.CompareAndSwap(false, true) {
		return errors.New("ha: Elector.Run called more than once")
	}
	// client-go logs through klog.FromContext, which finds this logger.
	ctx = logr.NewContextWithSlogLogger(ctx, e.logger.With("component", "leader-election"))

	var wg sync.WaitGroup
	watchCtx, stopWatch := context.WithCancel(ctx)
	wg.Go(func() { e.watchdog(watchCtx) })
	defer func() {
		stopWatch()
		wg.Wait()
		e.endTerm("stopped", false)
	}()

	e.logger.Info("Campaigning for the leader Lease", "lease_duration", e.cfg.LeaseDuration,
		"renew_deadline", e.cfg.RenewDeadline, "retry_period", e.cfg.RetryPeriod)
	if _, err := leaderelection.NewLeaderElector(e.electionConfig()); err != nil {
		return fmt.Errorf("leader election: %w", err)
	}
	for {
		// Standby: watch the Lease until this replica holds it.
		if e.await(ctx) != nil {
			return nil // ctx is done
		}
		// Leader: client-go's elector renews the Lease, and releases it when
		// ctx is cancelled.
		e.renew(ctx)
		if ctx.Err() != nil {
			return nil // the deferred endTerm ends the term
		}
		e.endTerm("lease not renewed", false)
	}
}

// renew runs client-go's elector on a Lease this replica holds, until a
// renewal fails, ctx is done, or the elector finds another replica holding
// the Lease while this one does not lead (it would then wait as a standby by
// client-go's polling, which await does better).
func (e *Elector) renew(ctx context.Context) {
	le, err := leaderelection.NewLeaderElector(e.electionConfig())
	if err != nil {
		return // cannot happen: Run checked the same config
	}
	select { // a sighting from before this replica held the Lease
	case <-e.otherHolder:
	default:
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel() // before wg.Wait
	wg.Go(func() {
		for {
			select {
			case <-ctx.Done():
				return
			case <-e.otherHolder:
				if !e.IsLeader() {
					cancel()
					return
				}
			}
		}
	})
	le.Run(ctx)
}

func (e *Elector) electionConfig() leaderelection.LeaderElectionConfig {
	lock := &trackingLock{
		Interface: &resourcelock.LeaseLock{
			LeaseMeta:  metav1.ObjectMeta{Name: e.cfg.LeaseName, Namespace: e.cfg.LeaseNamespace},
			Client:     e.client.CoordinationV1(),
			LockConfig: resourcelock.ResourceLockConfig{Identity: e.cfg.Identity},
		},
		e: e,
	}
	return leaderelection.LeaderElectionConfig{
		Lock:            lock,
		Name:            e.cfg.LeaseNamespace + "/" + e.cfg.LeaseName,
		LeaseDuration:   e.cfg.LeaseDuration,
		RenewDeadline:   e.cfg.RenewDeadline,
		RetryPeriod:     e.cfg.RetryPeriod,
		ReleaseOnCancel: !e.cfg.KeepLeaseOnCancel,
		// Terms are tracked through the lock (trackingLock), on this goroutine;
		// client-go calls these on goroutines of its own, and too late.
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(context.Context) {},
			OnStoppedLeading: func() {},
		},
	}
}

// renewed records a successful acquisition or renewal whose request started
// at start: this replica leads until start+RenewDeadline. prevHolder is the
// holder the Lease named before the write.
func (e *Elector) renewed(start time.Time, prevHolder string) {
	until := start.Add(e.cfg.RenewDeadline)
	e.transMu.Lock()
	defer e.transMu.Unlock()
	e.mu.Lock()
	if e.term != nil {
		if until.After(e.validUntil) {
			e.validUntil = until
		}
		e.mu.Unlock()
		e.wakeWatchdog()
		return
	}
	now := time.Now()
	if !now.Before(until) {
		// The request took longer than the renew deadline: the term would be
		// over already. The next renewal starts it.
		e.mu.Unlock()
		e.logger.Warn("Acquired the Lease too slowly to lead; waiting for the next renewal", "took", now.Sub(start))
		return
	}
	e.seq++
	ctx, cancel := context.WithCancelCause(context.Background())
	t := &Term{e: e, seq: e.seq, start: now, continues: prevHolder == e.cfg.Identity, ctx: ctx, cancel: cancel}
	e.term, e.validUntil, e.observed = t, until, e.cfg.Identity
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()

	e.metrics.leading.Set(1)
	e.metrics.terms.Inc()
	e.logger.Info("Leading: this replica sends", "term", t.seq, "continues", t.continues)
	if e.cfg.OnStartedLeading != nil {
		e.cfg.OnStartedLeading(t)
	}
	e.wakeWatchdog()
}

// endTerm ends the current term, if any. With onlyIfExpired, only a term whose
// renew deadline has passed is ended.
func (e *Elector) endTerm(reason string, onlyIfExpired bool) {
	e.transMu.Lock()
	defer e.transMu.Unlock()
	e.mu.Lock()
	t := e.term
	now := time.Now()
	if t == nil || (onlyIfExpired && now.Before(e.validUntil)) {
		e.mu.Unlock()
		return
	}
	end := now
	if e.validUntil.Before(end) {
		end = e.validUntil
	}
	e.term = nil
	close(e.changed)
	e.changed = make(chan struct{})
	e.mu.Unlock()

	t.cancel(ErrLeadershipLost)
	e.metrics.leading.Set(0)
	e.logger.Info("Stopped leading: this replica no longer sends", "term", t.seq, "reason", reason)
	if e.cfg.OnStoppedLeading != nil {
		e.cfg.OnStoppedLeading()
	}
	if e.onTermEnd != nil {
		e.onTermEnd(t.start, end)
	}
}

// observe records the holder read from the Lease.
func (e *Elector) observe(holder string) {
	e.mu.Lock()
	prev := e.observed
	e.observed = holder
	e.mu.Unlock()
	if holder != "" && holder != e.cfg.Identity {
		select {
		case e.otherHolder <- struct{}{}:
		default:
		}
	}
	if holder != prev && holder != e.cfg.Identity {
		if holder == "" {
			e.logger.Info("The Lease is free")
		} else {
			e.logger.Info("Another replica leads", "leader", holder)
		}
	}
}

func (e *Elector) wakeWatchdog() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

// watchdog ends the term once its renew deadline has passed without a
// renewal. client-go itself gives up only later (it retries for RenewDeadline
// after its last RetryPeriod wait, then releases), and IsLeader is exact
// anyway; the watchdog makes the term's context and OnStoppedLeading follow
// promptly.
func (e *Elector) watchdog(ctx context.Context) {
	t := time.NewTimer(time.Hour)
	t.Stop()
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-e.kick:
		case <-t.C:
		}
		e.mu.RLock()
		leading, until := e.term != nil, e.validUntil
		e.mu.RUnlock()
		if !leading {
			t.Stop()
			continue
		}
		if d := time.Until(until); d > 0 {
			t.Reset(d)
			continue
		}
		e.endTerm("lease not renewed within the renew deadline", true)
	}
}

type metrics struct {
	leading prometheus.Gauge
	terms   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		leading: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "kube_state_push_ha_leading",
			Help: "1 while this replica holds the leader Lease and sends, 0 otherwise.",
		}),
		terms: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "kube_state_push_ha_terms_total",
			Help: "Terms of leadership this replica has started.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.leading, m.terms} {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("register leader-election metrics: %w", err)
		}
	}
	return m, nil
}
