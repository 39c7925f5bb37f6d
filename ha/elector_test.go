package ha

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
)

const leaseKey = "monitoring/kube-state-push"

// fastConfig is the shortest election Config allows: a standby takes over a
// Lease not renewed for two seconds (the renew deadline must be a second
// shorter than the lease duration, see Config.Validate).
func fastConfig(id string) Config {
	return Config{
		LeaseName: "kube-state-push", LeaseNamespace: "monitoring", Identity: id,
		LeaseDuration: 2 * time.Second, RenewDeadline: 800 * time.Millisecond, RetryPeriod: 200 * time.Millisecond,
	}
}

// replica is one Elector running in a test, with what it reported.
type replica struct {
	id     string
	e      *Elector
	cancel context.CancelFunc
	done   chan error

	mu     sync.Mutex
	events []string // "start" and "stop", in the order of the callbacks
	terms  []*Term
}

// startReplica runs an Elector for cfg against store until the test ends.
func startReplica(t *testing.T, store *leaseStore, log *termLog, cfg Config) *replica {
	t.Helper()
	r := &replica{id: cfg.Identity, done: make(chan error, 1)}
	cfg.OnStartedLeading = func(term *Term) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, "start")
		r.terms = append(r.terms, term)
	}
	cfg.OnStoppedLeading = func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.events = append(r.events, "stop")
	}
	e, err := New(store.client(cfg.Identity), cfg, testLogger(t).With("replica", cfg.Identity))
	if err != nil {
		t.Fatal(err)
	}
	e.onTermEnd = func(start, end time.Time) { log.add(cfg.Identity, start, end) }
	r.e = e
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- e.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels the replica's Run and waits for it to return.
func (r *replica) stop(t *testing.T) {
	t.Helper()
	r.cancel()
	select {
	case err, ok := <-r.done:
		if ok && err != nil {
			t.Errorf("%s: Run: %v", r.id, err)
		}
		if ok {
			close(r.done)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("%s: Run did not return within 30s of cancel", r.id)
	}
	if r.e.IsLeader() {
		t.Errorf("%s: IsLeader after Run returned", r.id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, ev := range r.events {
		if want := [...]string{"start", "stop"}[i%2]; ev != want {
			t.Errorf("%s: callbacks %v do not alternate start, stop", r.id, r.events)
			break
		}
	}
	if len(r.events)%2 != 0 {
		t.Errorf("%s: callbacks %v: a term did not end with Run", r.id, r.events)
	}
}

func (r *replica) lastTerm() *Term {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.terms) == 0 {
		return nil
	}
	return r.terms[len(r.terms)-1]
}

// soleLeader returns the one replica that leads, or nil if none or several do.
func soleLeader(rs ...*replica) *replica {
	var leader *replica
	for _, r := range rs {
		if r.e.IsLeader() {
			if leader != nil {
				return nil
			}
			leader = r
		}
	}
	return leader
}

func other(r, a, b *replica) *replica {
	if r == a {
		return b
	}
	return a
}

// newPair starts two replicas on one Lease, checks that their terms never
// overlap when the test ends, and returns once exactly one leads.
func newPair(t *testing.T, cfg func(id string) Config) (store *leaseStore, leader, standby *replica) {
	t.Helper()
	store, log := newLeaseStore(), &termLog{}
	t.Cleanup(func() { log.check(t) }) // runs after the replicas have stopped
	a := startReplica(t, store, log, cfg("a"))
	b := startReplica(t, store, log, cfg("b"))
	eventually(t, 20*time.Second, "exactly one replica leads", func() bool { return soleLeader(a, b) != nil })
	leader = soleLeader(a, b)
	return store, leader, other(leader, a, b)
}

func TestOneLeaderAtATime(t *testing.T) {
	store, leader, standby := newPair(t, fastConfig)

	eventually(t, 10*time.Second, "the Lease names the leader and the standby has seen it", func() bool {
		return store.holder(leaseKey) == leader.id && standby.e.Leader() == leader.id
	})
	// A standby waits; WaitLeader returns with its context.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if term, err := standby.e.WaitLeader(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("standby's WaitLeader = %v, %v; want the context's deadline", term, err)
	}
	// Let several lease durations pass: the leader keeps renewing, and the
	// term log (checked at the end) shows the replicas never both led.
	time.Sleep(3 * time.Second)
	if standby.lastTerm() != nil && leader.lastTerm() == nil {
		t.Errorf("the standby led, the leader never did")
	}
}

func TestWaitLeaderReturnsTheTerm(t *testing.T) {
	_, leader, _ := newPair(t, fastConfig)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	term, err := leader.e.WaitLeader(ctx)
	if err != nil {
		t.Fatalf("leader's WaitLeader: %v", err)
	}
	if term.Seq() < 1 || term.Start().IsZero() || term.Start().After(time.Now()) {
		t.Errorf("term %d starts %s", term.Seq(), term.Start())
	}
	if !term.Active() && leader.e.IsLeader() {
		t.Errorf("term not active while its replica leads")
	}
	if term.Context().Err() != nil && term.Active() {
		t.Errorf("term's context done while the term is active")
	}
}

// Cancelling the leader's Run releases the Lease: the standby takes over at
// once, not after the lease duration (5s here).
func TestReleaseHandsOverAtOnce(t *testing.T) {
	cfg := func(id string) Config {
		c := fastConfig(id)
		c.LeaseDuration, c.RenewDeadline, c.RetryPeriod = 5*time.Second, 3*time.Second, 200*time.Millisecond
		return c
	}
	store, leader, standby := newPair(t, cfg)
	eventually(t, 10*time.Second, "the leader reports its term", func() bool { return leader.lastTerm() != nil })
	term := leader.lastTerm()

	released := time.Now()
	leader.stop(t)
	if term.Active() {
		t.Errorf("the old leader's term is still active after Run returned")
	}
	if err := context.Cause(term.Context()); !errors.Is(err, ErrLeadershipLost) {
		t.Errorf("old term's context cause = %v, want ErrLeadershipLost", err)
	}
	eventually(t, 20*time.Second, "the standby leads and reports its term", func() bool {
		return standby.e.IsLeader() && standby.lastTerm() != nil
	})
	if took := time.Since(released); took >= 5*time.Second {
		t.Errorf("takeover after release took %s, not less than the lease duration 5s", took)
	}
	if h := store.holder(leaseKey); h != standby.id {
		t.Errorf("Lease held by %q, want %q", h, standby.id)
	}
	if got := standby.lastTerm(); got == nil || !got.Start().After(released) {
		t.Errorf("the new term does not start after the release")
	}
}

// A leader that stops renewing without releasing (killed) is replaced once the
// lease duration has passed since its last renewal, not earlier.
// A leader that dies without releasing the Lease is replaced LeaseDuration
// after its last renewal: never sooner (terms would overlap), and later only
// by the time the standby takes to see the renewal and write the Lease.
func TestKilledLeaderIsReplacedAfterLeaseDuration(t *testing.T) {
	cfg := func(id string) Config {
		c := fastConfig(id)
		c.RetryPeriod = 500 * time.Millisecond // renewals well apart
		c.KeepLeaseOnCancel = true
		return c
	}
	store, leader, standby := newPair(t, cfg)
	eventually(t, 10*time.Second, "the leader renews", func() bool { return leader.lastTerm() != nil })
	time.Sleep(1200 * time.Millisecond) // a few renewals
	killed := time.Now()
	leader.stop(t)
	// The last renewal started RenewDeadline before the end of the validity
	// it granted.
	leader.e.mu.RLock()
	lastRenewal := leader.e.validUntil.Add(-leader.e.cfg.RenewDeadline)
	leader.e.mu.RUnlock()
	if h := store.holder(leaseKey); h != leader.id {
		t.Fatalf("Lease held by %q after the kill, want it still held by %q", h, leader.id)
	}

	eventually(t, 20*time.Second, "the standby leads and reports its term", func() bool {
		return standby.e.IsLeader() && standby.lastTerm() != nil
	})
	term := standby.lastTerm()
	lease := 2 * time.Second
	after := term.Start().Sub(lastRenewal)
	t.Logf("standby took over %s after the kill, %s after the last renewal started (lease %s)",
		term.Start().Sub(killed), after, lease)
	if after < lease {
		t.Errorf("standby took over %s after the old leader's last renewal, before the lease duration", after)
	}
	// The takeover follows the expiry at once; a retry period is room for
	// scheduling on a loaded machine.
	if slack := cfg("b").RetryPeriod; after > lease+slack {
		t.Errorf("standby took over %s after the old leader's last renewal, more than the lease duration + %s", after, slack)
	}
	if h := store.holder(leaseKey); h != standby.id {
		t.Errorf("Lease held by %q, want %q", h, standby.id)
	}
	if term.Continues() {
		t.Errorf("the standby's term continues the old leader's")
	}
}

// A standby whose watch delivers nothing still never takes over from a live
// leader (its write carries the version it read, which the renewals changed),
// and still replaces a dead one, only later.
func TestStandbyWithASilentWatch(t *testing.T) {
	cfg := func(id string) Config {
		c := fastConfig(id)
		c.KeepLeaseOnCancel = true
		return c
	}
	store, leader, standby := newPair(t, cfg)
	store.setDeaf(true)
	term := func() *Term {
		eventually(t, 10*time.Second, "the leader reports its term", func() bool { return leader.lastTerm() != nil })
		return leader.lastTerm()
	}()
	time.Sleep(3 * 2 * time.Second) // three lease durations
	if !term.Active() || standby.e.IsLeader() {
		t.Fatalf("the standby took over from a live leader (leader active %v, standby leads %v)", term.Active(), standby.e.IsLeader())
	}
	leader.stop(t)
	eventually(t, 20*time.Second, "the standby takes over from the dead leader", standby.e.IsLeader)
}

// A replica restarted under the same identity (the pod name) takes its own
// Lease back at once, and its term continues the previous one: nobody else led
// in between, so its WAL backlog may still be sent.
func TestRestartedReplicaTakesItsLeaseBack(t *testing.T) {
	cfg := fastConfig("a")
	cfg.LeaseDuration, cfg.RenewDeadline = 5*time.Second, 3*time.Second
	cfg.KeepLeaseOnCancel = true
	store, log := newLeaseStore(), &termLog{}
	t.Cleanup(func() { log.check(t) })

	first := startReplica(t, store, log, cfg)
	eventually(t, 20*time.Second, "the first run leads", func() bool { return first.lastTerm() != nil })
	if first.lastTerm().Continues() {
		t.Errorf("the first term, on a new Lease, continues")
	}
	first.stop(t)

	restarted := time.Now()
	second := startReplica(t, store, log, cfg)
	eventually(t, 20*time.Second, "the restarted replica leads", func() bool { return second.lastTerm() != nil })
	if took := time.Since(restarted); took >= cfg.LeaseDuration {
		t.Errorf("the restarted replica waited %s for its own Lease", took)
	}
	if !second.lastTerm().Continues() {
		t.Errorf("the restarted replica's term does not continue its previous one")
	}
}

// A leader cut off from the apiserver stops leading by itself within the renew
// deadline, the standby takes over, and the old leader, reconnected, campaigns
// again and takes over when the new one goes.
func TestLeaderCutOffStepsDownAndCampaignsAgain(t *testing.T) {
	store, leader, standby := newPair(t, fastConfig)
	eventually(t, 10*time.Second, "the leader reports its term", func() bool { return leader.lastTerm() != nil })
	term := leader.lastTerm()

	store.setDown(leader.id, true)
	cut := time.Now()
	select {
	case <-term.Context().Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the cut-off leader's term did not end")
	}
	if took := time.Since(cut); took > 10*time.Second {
		t.Errorf("the cut-off leader stepped down after %s", took)
	}
	if leader.e.IsLeader() {
		t.Errorf("the cut-off leader still leads after its term ended")
	}
	eventually(t, 20*time.Second, "the standby takes over", standby.e.IsLeader)

	store.setDown(leader.id, false)
	eventually(t, 20*time.Second, "the old leader sees the new one", func() bool { return leader.e.Leader() == standby.id })
	standby.stop(t) // releases
	eventually(t, 20*time.Second, "the old leader starts a new term", func() bool {
		got := leader.lastTerm()
		return got != term && got.Seq() > term.Seq() && got.Active()
	})
	if leader.lastTerm().Continues() {
		t.Errorf("the old leader's new term continues its old one, though the other replica led in between")
	}
}

func TestRunTwice(t *testing.T) {
	e, err := New(newLeaseStore().client("a"), fastConfig("a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := e.Run(ctx); err != nil {
		t.Errorf("Run with a cancelled context = %v", err)
	}
	if err := e.Run(ctx); err == nil || !strings.Contains(err.Error(), "more than once") {
		t.Errorf("second Run = %v, want an error", err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	cfg := fastConfig("a")
	cfg.Registerer = reg
	store, log := newLeaseStore(), &termLog{}
	t.Cleanup(func() { log.check(t) })
	r := startReplica(t, store, log, cfg)
	eventually(t, 20*time.Second, "the only replica leads", r.e.IsLeader)
	eventually(t, 10*time.Second, "kube_state_push_ha_leading is 1 and a term counted", func() bool {
		return gauge(t, reg, "kube_state_push_ha_leading") == 1 && gauge(t, reg, "kube_state_push_ha_terms_total") >= 1
	})
	// Registering twice is an error, not a panic.
	if _, err := New(store.client("b"), cfg, nil); err == nil {
		t.Errorf("New with already registered metrics: no error")
	}
}

// gauge returns the value of the metric name (a gauge or counter) in reg.
func gauge(t *testing.T, reg prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		m := mf.GetMetric()[0]
		if g := m.GetGauge(); g != nil {
			return g.GetValue()
		}
		return m.GetCounter().GetValue()
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// stubLock is a resourcelock.Interface that records writes.
type stubLock struct {
	holder  string
	updates []string
}

func (s *stubLock) Get(context.Context) (*resourcelock.LeaderElectionRecord, []byte, error) {
	return &resourcelock.LeaderElectionRecord{HolderIdentity: s.holder}, []byte(s.holder), nil
}

func (s *stubLock) Create(context.Context, resourcelock.LeaderElectionRecord) error { return nil }

func (s *stubLock) Update(_ context.Context, r resourcelock.LeaderElectionRecord) error {
	s.updates = append(s.updates, r.HolderIdentity)
	return nil
}

func (s *stubLock) RecordEvent(string) {}
func (s *stubLock) Identity() string   { return "a" }
func (s *stubLock) Describe() string   { return "monitoring/kube-state-push" }

// client-go releases from the record it last observed; the lock must not blank
// a Lease that the read just before shows held by another replica.
func TestReleaseNeverBlanksAnotherHoldersLease(t *testing.T) {
	e, err := New(newLeaseStore().client("a"), fastConfig("a"), nil)
	if err != nil {
		t.Fatal(err)
	}
	inner := &stubLock{holder: "b"}
	l := &trackingLock{Interface: inner, e: e}
	if _, _, err := l.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(context.Background(), resourcelock.LeaderElectionRecord{}); err == nil {
		t.Errorf("release of a Lease held by b: no error")
	}
	if len(inner.updates) != 0 {
		t.Errorf("release written: %q", inner.updates)
	}

	inner.holder = "a"
	if _, _, err := l.Get(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := l.Update(context.Background(), resourcelock.LeaderElectionRecord{}); err != nil {
		t.Errorf("release of our own Lease: %v", err)
	}
	if len(inner.updates) != 1 {
		t.Errorf("release not written: %q", inner.updates)
	}
}
