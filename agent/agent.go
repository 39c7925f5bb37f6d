package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	ksp "github.com/kube-state-push/kube-state-push/collectors"
	"github.com/kube-state-push/kube-state-push/ha"
	"github.com/kube-state-push/kube-state-push/rwconfig"
	"github.com/kube-state-push/kube-state-push/series"
	"github.com/kube-state-push/kube-state-push/snapshot"
	"github.com/kube-state-push/kube-state-push/wal"
	"github.com/kube-state-push/kube-state-push/walpipe"
)

// openWAL opens --wal-dir and the pipeline that sends from it to every
// endpoint.
func openWAL(cfg *Config, endpoints []*endpoint, reg prometheus.Registerer, logger *slog.Logger) (*walpipe.Pipeline, error) {
	w, err := wal.Open(cfg.WALDir, wal.Options{Registerer: reg, Logger: logger.With("component", "wal")})
	if err != nil {
		return nil, fmt.Errorf("--wal-dir: %w", err)
	}
	eps := make([]walpipe.Endpoint, len(endpoints))
	for i, ep := range endpoints {
		eps[i] = walpipe.Endpoint{Name: ep.name, Cursor: ep.cursor, Queue: ep.queue}
	}
	return walpipe.New(w, walpipe.Options{Dir: cfg.WALDir, MaxSize: cfg.WALMaxSize,
		CompactResolution: cfg.WALCompactResolution, SyncInterval: cfg.WALSyncInterval}, eps, reg, logger)
}

// The WAL's writer is one of the batcher's.
var _ BatchWriter = (*walpipe.Sink)(nil)

// runOnce runs one generation of the pipeline until ctx is done. It builds
// the pipeline in the order the data flows, from the apiserver to the
// receivers' queues and back up: the client and the shard assignment, the
// remote-write endpoints, the sink in front of them (WAL, queue or fan-out),
// the HA gate, the batcher and the snapshot, then one reflector per
// resource and namespace.
func runOnce(ctx context.Context, cfg Config, rm *reloadMetrics) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	resources, err := cfg.validate()
	if err != nil {
		return err
	}
	opts, err := generatorOptions(&cfg, resources)
	if err != nil {
		return err
	}
	rwEndpoints, err := endpoints(&cfg)
	if err != nil {
		return err
	}
	received := newReceivedBytes()
	client, dyn, err := connect(ctx, &cfg, received, logger)
	if err != nil {
		return err
	}
	assign, stsName, err := initialAssignment(ctx, &cfg, client)
	if err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	rm.register(reg)
	reg.MustRegister(received)
	eps, err := buildEndpoints(ctx, &cfg, rwEndpoints, reg, logger)
	if err != nil {
		return err
	}
	out, err := buildSink(&cfg, eps, reg, logger)
	if err != nil {
		return err
	}
	if out.wal != nil {
		defer out.wal.Close()
	}
	elector, kick, err := startHA(&cfg, client, assign, &out, eps, reg, logger)
	if err != nil {
		return err
	}
	b := newBatcher(out.writer, cfg.FlushInterval, cfg.MaxSamplesPerSend, cfg.MaxPendingSamples)
	m := newMetrics(reg, b)
	snap := snapshot.New(b, snapshot.NewMetrics(reg))
	a := &agent{cfg: cfg, logger: logger, snap: snap, batcher: b, endpoints: eps, fanout: out.fan, elector: elector, kick: kick, metrics: m, wal: out.wal,
		assign: assign, shardMetrics: newShardMetrics(reg), reshard: make(chan struct{}, 1)}
	a.restore()
	a.startSharding(client, stsName)
	a.reflectors = startReflectors(&cfg, client, resources, opts, snap, m, logger)
	if a.crs, err = newCustomResources(&cfg, dyn, snap, m, reg, logger); err != nil {
		return err
	}
	logStarting(ctx, &cfg, rwEndpoints, len(resources), len(a.reflectors), logger)
	return a.run(ctx, reg)
}

// connect returns the apiserver's client, once the apiserver answers, and
// sends client-go's logs to the agent's logger; with custom resources, also
// the dynamic client (JSON) they are watched through. Both count the bytes
// they receive in received.
func connect(ctx context.Context, cfg *Config, received prometheus.Counter, logger *slog.Logger) (kubernetes.Interface, dynamic.Interface, error) {
	restCfg, err := restConfig(cfg.Kubeconfig, cfg.Version)
	if err != nil {
		return nil, nil, err
	}
	countReceived(restCfg, received)
	client, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return nil, nil, &ConfigError{Err: fmt.Errorf("kubernetes client: %w", err)}
	}
	var dyn dynamic.Interface
	if cfg.customResources != nil {
		if dyn, err = dynamic.NewForConfig(restCfg); err != nil {
			return nil, nil, &ConfigError{Err: fmt.Errorf("dynamic client: %w", err)}
		}
	}
	if err := checkAPIServer(ctx, client, restCfg.Host); err != nil {
		return nil, nil, err
	}
	klog.SetSlogLogger(logger.With("component", "client-go"))
	return client, dyn, nil
}

// initialAssignment returns the shard assignment to start with: the flags',
// or with --pod the pod's ordinal among its StatefulSet's replicas, and that
// StatefulSet.
func initialAssignment(ctx context.Context, cfg *Config, client kubernetes.Interface) (assignment, string, error) {
	if cfg.Pod == "" {
		return assignment{shard: cfg.Shard, total: cfg.TotalShards, byRange: cfg.ServerSideSharding}, "", nil
	}
	sts, assign, err := autoShard(ctx, client, cfg.PodNamespace, cfg.Pod)
	assign.byRange = cfg.ServerSideSharding
	return assign, sts, err
}

// buildEndpoints returns the queue of every remote-write endpoint.
func buildEndpoints(ctx context.Context, cfg *Config, rwEndpoints []rwconfig.Endpoint, reg prometheus.Registerer,
	logger *slog.Logger) ([]*endpoint, error) {
	external := externalLabels(cfg)
	var eps []*endpoint
	for _, ep := range rwEndpoints {
		e, err := newEndpoint(ctx, ep, external, cfg.Version, reg, logger)
		if err != nil {
			return nil, err
		}
		eps = append(eps, e)
	}
	return eps, nil
}

// sink is what the batcher writes to, and what runs behind it.
type sink struct {
	writer BatchWriter
	wal    *walpipe.Pipeline // with --wal-dir
	fan    *fanout           // several endpoints without a WAL
}

// buildSink returns the writer in front of the queues: the WAL with
// --wal-dir, else the one queue, else a fan-out to every queue.
func buildSink(cfg *Config, eps []*endpoint, reg prometheus.Registerer, logger *slog.Logger) (sink, error) {
	if cfg.WALDir != "" {
		ws, err := openWAL(cfg, eps, reg, logger)
		if err != nil {
			return sink{}, err
		}
		return sink{writer: ws.Sink(), wal: ws}, nil
	}
	logger.Warn("No --wal-dir: samples not yet sent are kept in memory only, and lost on restart")
	if len(eps) == 1 {
		return sink{writer: eps[0].queue}, nil
	}
	fan := newFanout(eps, reg, logger)
	return sink{writer: fan, fan: fan}, nil
}

// startHA puts, with --ha-mode=leader, the leader gate in front of out's
// writer and the WAL's senders, and returns the elector (run once the
// initial lists are applied) and the channel on which a new leader asks for a
// resend. Without it, it returns no elector and a channel nobody signals.
func startHA(cfg *Config, client kubernetes.Interface, assign assignment, out *sink, eps []*endpoint,
	reg prometheus.Registerer, logger *slog.Logger) (*ha.Elector, chan struct{}, error) {
	kick := make(chan struct{}, 1)
	if cfg.haMode() != ha.ModeLeader {
		return nil, kick, nil
	}
	gate := newLeaderGate(out.writer, reg)
	out.writer = gate
	hc := cfg.HA
	hc.Registerer = reg
	if cfg.sharded() {
		// The replicas of one shard compete for that shard's Lease.
		hc.LeaseName = ha.ShardLeaseName(hc.LeaseName, assign.shard)
	}
	hc.OnStartedLeading = func(t *ha.Term) {
		gate.term.Store(t)
		select { // a new leader resends every live series at once
		case kick <- struct{}{}:
		default:
		}
	}
	hc.OnStoppedLeading = func() {
		gate.term.Store(nil)
		// What was queued as leader must not land after the new leader's
		// samples: drop it, counted (reason not_leader).
		for _, ep := range eps {
			ep.queue.Discard("not_leader")
		}
	}
	elector, err := ha.New(client, hc, logger.With("component", "ha"))
	if err != nil {
		return nil, nil, &ConfigError{Err: fmt.Errorf("--ha-mode=leader: %w", err)}
	}
	if out.wal != nil {
		// The WAL backlog passes the same gate: skipped while standby, and
		// what predates a term that does not continue this replica's is
		// never sent over the newer samples of another replica.
		out.wal.SetAdmit(gate.admit)
	}
	return elector, kick, nil
}

// restore gives the snapshot what the WAL knew from before this start, and
// records the assignment in the WAL. When the assignment changed since the
// WAL was written, a series of the previous run that no object produces may
// have moved to another shard rather than ended: none is ended then.
func (a *agent) restore() {
	if a.wal == nil {
		return
	}
	prev, prevShard := a.wal.TakeRestored()
	a.snap.Restore(prev)
	if prevShard != "" && prevShard != a.assign.String() || prevShard == "" && a.assign.sharded() && len(prev) > 0 {
		a.logger.Warn("The shard assignment changed since the WAL was written: series of objects deleted meanwhile are not ended (they go stale after 5 minutes)",
			"before", prevShard, "now", a.assign.String())
		a.snap.KeepRestored()
	}
	a.wal.SetShard(a.assign.String())
}

// startSharding publishes the assignment and, with --pod, holds the first
// list for the handover and follows the StatefulSet's replicas.
func (a *agent) startSharding(client kubernetes.Interface, stsName string) {
	a.shardMetrics.set(a.assign)
	if a.cfg.Pod != "" {
		// A new pod's objects come from other shards: hold them for the handover.
		a.holdUntil = time.Now().Add(a.cfg.ShardHandoverDelay)
		a.snap.SetShard(a.assign.owns, a.holdUntil.UnixMilli())
		ord, byRange := a.assign.shard, a.assign.byRange
		a.stsWatch = watchStatefulSet(client, a.cfg.PodNamespace, stsName, func(n int) {
			a.wantShard(assignment{shard: ord, total: n, byRange: byRange})
		})
	}
	if a.assign.sharded() {
		logShard(a.logger, "Sharding", a.assign, a.cfg.ShardHandoverDelay)
	} else if a.cfg.ServerSideSharding && a.cfg.Pod == "" {
		a.logger.Info("--server-side-sharding has no effect without sharding (--total-shards 1)")
	}
}

// startReflectors returns, per resource and namespace watched, the maker of
// its reflector for an assignment (runWatches makes them again on a
// reshard), with the set each feeds in the snapshot.
func startReflectors(cfg *Config, client kubernetes.Interface, resources []ksp.Resource, opts func(ksp.Resource) ksp.Options,
	snap *snapshot.Snapshot, m *metrics, logger *slog.Logger) []func(assignment) *cache.Reflector {
	var out []func(assignment) *cache.Reflector
	namespaces, fieldSelector := watchNamespaces(cfg)
	for _, r := range resources {
		watched, selector := []string{metav1.NamespaceAll}, ""
		if r.Namespaced() {
			watched, selector = namespaces, fieldSelector
		}
		gen := r.NewGenerator(opts(r))
		expo := snapshot.NewExposition(gen)
		srv := newServerSharding(r.Name(), m, logger)
		for _, ns := range watched {
			store := newReflectorStore(snap, r, m, logger)
			snap.DescribeSet(store.set, expo)
			lw := wrapListWatch(r.ListWatch(client, ns), m, logger, r.Name(), selector, cfg.UseAPIServerCache)
			name := r.Name()
			if ns != "" {
				name += "/" + ns
			}
			out = append(out, func(as assignment) *cache.Reflector {
				return newObjectReflector(shardListWatch(lw, as, srv), client, gen, store,
					cache.ReflectorOptions{Name: name, TypeDescription: r.Name()})
			})
		}
	}
	return out
}

// logStarting warns of receivers that cannot be reached, then logs what runs.
func logStarting(ctx context.Context, cfg *Config, rwEndpoints []rwconfig.Endpoint, resources, watches int, logger *slog.Logger) {
	for _, ep := range rwEndpoints {
		warnIfUnreachable(ctx, ep.URL, logger.With("endpoint", ep.Name))
	}
	shown := make([]string, len(rwEndpoints))
	for i, ep := range rwEndpoints {
		shown[i] = ep.String()
	}
	logger.Info("Starting", "version", cfg.Version, "resources", resources, "watches", watches,
		"remote_write", shown, "external_labels", series.FromPairs(externalLabels(cfg)).String())
}

type agent struct {
	cfg        Config
	logger     *slog.Logger
	snap       *snapshot.Snapshot
	batcher    *batcher
	endpoints  []*endpoint
	fanout     *fanout // several endpoints without a WAL
	metrics    *metrics
	reflectors []func(assignment) *cache.Reflector
	crs        *customResources  // nil without a custom resource state config
	wal        *walpipe.Pipeline // nil without --wal-dir
	elector    *ha.Elector       // nil unless --ha-mode=leader
	kick       chan struct{}     // asks for a resend now
	ready      atomic.Bool

	// Sharding: the assignment the watches run with, the one wanted (the
	// StatefulSet's replicas changed; reshard is signalled), and the end of
	// the current handover.
	assign       assignment
	shardMu      sync.Mutex
	wanted       *assignment
	reshard      chan struct{}
	holdUntil    time.Time
	stsWatch     *statefulSetWatch // nil without --pod
	shardMetrics *shardMetrics
}

func (a *agent) run(parent context.Context, reg *prometheus.Registry) error {
	srv, err := a.listenTelemetry(reg)
	if err != nil {
		return err
	}
	metricsSrv, err := a.listenMetrics()
	if err != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(parent), 3*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
		return err
	}
	// A failure of the pipeline itself (the WAL cannot be written) stops the
	// agent like a signal does, and Run returns it: a restart reopens and
	// repairs the WAL.
	ctx, fail := context.WithCancelCause(parent)
	defer fail(nil)

	// watchCtx ends the watches, the resends and the batcher's ticks; sendCtx
	// ends the queue, after the flush deadline.
	watchCtx, stopWatching := context.WithCancel(ctx)
	defer stopWatching()
	sendCtx, stopSending := context.WithCancel(context.WithoutCancel(ctx))
	defer stopSending()

	var sendWG, batchWG, watchWG sync.WaitGroup
	for _, ep := range a.endpoints {
		sendWG.Go(func() { _ = ep.queue.Run(sendCtx) })
	}
	if a.fanout != nil {
		sendWG.Go(func() { a.fanout.run(sendCtx) })
	}
	if a.wal != nil {
		sendWG.Go(func() { a.wal.Run(sendCtx) })
	}
	batchWG.Go(func() {
		if err := a.batcher.Run(sendCtx); err != nil && sendCtx.Err() == nil {
			a.logger.Error("Handing samples on failed; stopping", "err", err)
			fail(err)
		}
	})
	watchWG.Go(func() { a.runWatches(watchCtx, sendCtx) })
	if a.stsWatch != nil {
		watchWG.Go(func() { a.stsWatch.run(watchCtx) })
	}
	watchWG.Go(func() { a.resendLoop(watchCtx, sendCtx) })
	watchWG.Go(func() { a.unbornLoop(watchCtx) })
	electCtx, stopElecting := context.WithCancel(context.WithoutCancel(ctx))
	defer stopElecting()
	var electWG sync.WaitGroup
	watchWG.Go(func() { a.waitReady(watchCtx, sendCtx, electCtx, &electWG) })

	<-ctx.Done()
	a.logger.Info("Shutting down: stopping watches and flushing pending samples", "deadline", a.cfg.FlushDeadline)
	a.ready.Store(false)
	// The deadline counts from here: a hand-off blocked on a full queue (the
	// receiver down) or a full WAL device must not hold the shutdown past it.
	flushCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.FlushDeadline)
	defer cancel()
	stopAtDeadline := context.AfterFunc(flushCtx, stopSending)
	a.batcher.Close()
	stopWatching()
	watchWG.Wait()
	batchWG.Wait()

	err = a.batcher.Sync(flushCtx, flushCtx)
	stopAtDeadline()
	// Hand over leadership only once what was produced as leader is sent.
	stopElecting()
	electWG.Wait()
	if err != nil && a.wal != nil {
		a.logger.Warn("Flush deadline reached; samples not yet sent stay in the WAL for the next start", "err", err)
	} else if err != nil {
		a.logger.Warn("Flush deadline reached; dropping samples not yet sent", "err", err)
	}
	stopSending()
	sendWG.Wait()
	if a.wal == nil {
		a.countDropped()
	}

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 3*time.Second)
	defer cancel()
	_ = srv.Shutdown(shutdownCtx)
	if metricsSrv != nil {
		_ = metricsSrv.Shutdown(shutdownCtx)
	}
	a.logger.Info("Stopped")
	if err := context.Cause(ctx); err != nil && parent.Err() == nil {
		return err
	}
	return nil
}

// countDropped counts and logs, once the queues have stopped, the samples
// that were not sent by the flush deadline: in a request cut short or still
// in a queue (both counted as dropped for "shutdown"), or not yet handed to a
// queue (in the batcher, or in an endpoint's intake with several endpoints).
// Without a WAL they are lost.
func (a *agent) countDropped() {
	var dropped int64
	for _, ep := range a.endpoints {
		ep.queue.Discard("shutdown")
		dropped += ep.queue.Dropped("shutdown")
	}
	unqueued := a.batcher.Pending()
	if a.fanout != nil {
		unqueued += a.fanout.discard()
	}
	if dropped > 0 || unqueued > 0 {
		a.logger.Warn("Dropped samples not sent by the flush deadline (no --wal-dir)",
			"dropped", dropped, "not_queued", unqueued, "endpoints", len(a.endpoints))
	}
}

// waitReady marks the agent ready once every initial list is applied and all
// samples produced so far are delivered.
func (a *agent) waitReady(ctx, sendCtx, electCtx context.Context, electWG *sync.WaitGroup) {
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	for !a.snap.Synced() {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
	if n := a.snap.EndVanished(); n > 0 {
		a.logger.Info("Ended the series of objects deleted while the agent was down", "series", n)
	}
	if a.elector != nil {
		// A replica campaigns only with its whole state, and a standby is ready
		// without a push of its own.
		electWG.Go(func() {
			if err := a.elector.Run(electCtx); err != nil {
				a.logger.Error("Leader election stopped", "err", err)
			}
		})
		freeStartupMemory()
		a.ready.Store(true)
		a.metrics.ready.Set(1)
		a.logger.Info("Ready: initial lists applied; campaigning for leadership", "identity", a.elector.Identity())
		return
	}
	a.logger.Info("Initial lists applied; waiting for the first full push")
	if err := a.batcher.Sync(sendCtx, ctx); err != nil {
		return
	}
	freeStartupMemory()
	a.ready.Store(true)
	a.metrics.ready.Set(1)
	a.logger.Info("Ready: first full push delivered")
}

// freeStartupMemory gives back to the OS the memory of the start-up burst: the
// initial lists and the first push of every series, in flight at once. The
// runtime would return it only over minutes.
func freeStartupMemory() { debug.FreeOSMemory() }

// unbornLoop sends the new workloads whose wait is over (Snapshot.ReleaseUnborn).
func (a *agent) unbornLoop(ctx context.Context) {
	t := time.NewTicker(snapshot.ReleaseUnbornEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			a.snap.ReleaseUnborn()
		}
	}
}

// resendLoop re-sends every live series each resend interval. A periodic
// round is spread over half the interval (Snapshot.ResendSpread), so that
// changes never queue behind the whole snapshot; a resend asked for through
// kick (a new leader's first) is sent at once, cutting a round short.
//
// A push of every series at once (the initial lists, or a kicked resend) is
// followed by the first spread round half an interval later, not a whole
// one: a series at the end of the round is then re-sent within one interval
// of that push, not one and a half.
func (a *agent) resendLoop(ctx, sendCtx context.Context) {
	every := a.cfg.ResendInterval
	next := time.Now().Add(every / 2) // the initial lists are pushed from now on
	t := time.NewTimer(time.Until(next))
	defer t.Stop()
	full := false // a kick cut the last round short: resend everything at once
	for {
		if !full {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			case <-a.kick:
				full = true
			}
		}
		wasFull := full
		full = a.resend(ctx, sendCtx, full)
		next = nextRound(next, time.Now(), every, wasFull)
		t.Reset(time.Until(next))
	}
}

// nextRound returns when the spread round after one begun at prev (or after a
// push of every series at once that ended at now, when full) starts: an
// interval after prev, or half of one after a full push. A round that starts
// late does not make the next ones late.
func nextRound(prev, now time.Time, every time.Duration, full bool) time.Time {
	if full {
		return now.Add(every / 2)
	}
	if next := prev.Add(every); next.After(now) {
		return next
	}
	return now // the round overran a whole interval: the next one at once
}

// resend runs one resend, whole and at once or as a spread round, and reports
// whether a kick cut the round short. In the WAL, markers bracket a complete
// resend so that a restart knows which series were live.
func (a *agent) resend(ctx, sendCtx context.Context, full bool) (kicked bool) {
	send := func() {
		if full {
			a.snap.Resend()
		} else {
			kicked = a.resendRound(ctx)
		}
	}
	if a.wal == nil {
		send()
		return kicked
	}
	if err := a.batcher.flush(sendCtx); err != nil {
		return false
	}
	a.wal.ResendBegin()
	send()
	if ctx.Err() != nil || kicked {
		return kicked
	}
	if err := a.batcher.flush(sendCtx); err != nil {
		return false
	}
	a.wal.ResendEnd()
	return false
}

// resendRound runs one spread resend and reports whether a kick cut it short.
func (a *agent) resendRound(ctx context.Context) (kicked bool) {
	round, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-a.kick:
			kicked = true
			cancel()
		case <-round.Done():
		}
	}()
	a.snap.ResendSpread(round, a.cfg.ResendInterval/2)
	cancel()
	<-done
	return kicked
}

func (a *agent) listenTelemetry(reg *prometheus.Registry) (*http.Server, error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	if a.cfg.EnablePprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		msg, code := "ok", http.StatusOK
		switch {
		case a.ready.Load():
		case !a.snap.Synced():
			msg, code = "waiting for the initial list of every resource", http.StatusServiceUnavailable
		default:
			msg, code = "waiting for the first full push to the receiver", http.StatusServiceUnavailable
		}
		if a.wal != nil {
			msg += "\n" + a.wal.Status()
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		_, _ = w.Write([]byte(msg + "\n"))
	})
	ln, err := net.Listen("tcp", a.cfg.TelemetryAddress)
	if err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("--telemetry-address: %w", err)}
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.logger.Error("Telemetry server stopped", "err", err)
		}
	}()
	a.logger.Info("Serving telemetry", "address", ln.Addr().String())
	return srv, nil
}

// restConfig returns the client configuration for the apiserver: from the
// kubeconfig file, or in-cluster without one; protobuf, uncompressed.
func restConfig(kubeconfig, version string) (*rest.Config, error) {
	var c *rest.Config
	var err error
	if kubeconfig == "" {
		if c, err = rest.InClusterConfig(); err != nil {
			return nil, &ConfigError{Err: fmt.Errorf("no --kubeconfig given and not running in a cluster: %w", err)}
		}
	} else if c, err = clientcmd.BuildConfigFromFlags("", kubeconfig); err != nil {
		return nil, &ConfigError{Err: fmt.Errorf("--kubeconfig %s: %w", kubeconfig, err)}
	}
	c.UserAgent = userAgent(version)
	c.ContentType = "application/vnd.kubernetes.protobuf"
	c.AcceptContentTypes = "application/vnd.kubernetes.protobuf,application/json"
	// The apiserver would gzip lists and watch streams; inflating every watch
	// event cost the agent a fifth of its CPU under churn (bench/ profiles),
	// and the agent runs beside the apiserver, where bandwidth is no limit.
	c.DisableCompression = true
	return c, nil
}

// checkAPIServer fails fast, with the cause, when the apiserver cannot be reached.
func checkAPIServer(ctx context.Context, c kubernetes.Interface, host string) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := c.Discovery().RESTClient().Get().AbsPath("/version").Do(ctx).Raw(); err != nil {
		return fmt.Errorf("cannot reach the apiserver at %s: %w", host, err)
	}
	return nil
}

// warnIfUnreachable logs one clear line when the receiver's host cannot be
// dialled. The agent still starts: samples wait in the queue until it answers.
func warnIfUnreachable(ctx context.Context, rawURL string, logger *slog.Logger) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return
	}
	host := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(u.Hostname(), port)
	}
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		logger.Error("Remote-write receiver unreachable; samples will wait and be retried", "host", host, "err", err)
		return
	}
	_ = conn.Close()
}

func userAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "kube-state-push/" + version
}

// generatorOptions returns, per resource, what its generator emits.
func generatorOptions(c *Config, enabled []ksp.Resource) (func(ksp.Resource) ksp.Options, error) {
	filter, err := familyFilter(c)
	if err != nil {
		return nil, err
	}
	labels, err := resolveAllowList("--metric-labels-allowlist", c.LabelsAllowlist, enabled)
	if err != nil {
		return nil, err
	}
	annotations, err := resolveAllowList("--metric-annotations-allowlist", c.AnnotationsAllowlist, enabled)
	if err != nil {
		return nil, err
	}
	copied, err := resolveAllowList("--series-labels", c.SeriesLabels, enabled)
	if err != nil {
		return nil, err
	}
	return func(r ksp.Resource) ksp.Options {
		return ksp.Options{AllowLabels: labels[r.Name()], AllowAnnotations: annotations[r.Name()], SeriesLabels: copied[r.Name()], Family: filter}
	}, nil
}

// externalLabels returns the labels added to every series that lacks them:
// external_labels; with --ha-mode=replica-labels, the cluster and replica
// labels; and the job and instance labels (--job, --instance). The first of
// these wins on a repeated name.
func externalLabels(cfg *Config) []series.Label {
	external := cfg.RemoteWrite.ExternalLabels
	if cfg.haMode() == ha.ModeReplicaLabels {
		rl, _ := ha.ReplicaLabels(cfg.HAReplica) // checked by validate
		external = mergeLabels(external, rl)
	}
	var target []series.Label
	if cfg.Instance != "" {
		target = append(target, series.Label{Name: "instance", Value: cfg.Instance})
	}
	if cfg.Job != "" {
		target = append(target, series.Label{Name: "job", Value: cfg.Job})
	}
	return mergeLabels(external, target)
}

// mergeLabels returns a and b sorted by name; a's value wins on a repeated name.
func mergeLabels(a, b []series.Label) []series.Label {
	out := slices.Clone(a)
	for _, l := range b {
		if !slices.ContainsFunc(out, func(x series.Label) bool { return x.Name == l.Name }) {
			out = append(out, l)
		}
	}
	slices.SortFunc(out, func(x, y series.Label) int { return strings.Compare(x.Name, y.Name) })
	return out
}
