package e2e

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestResendCadenceAcrossOutage keeps the receiver down over several resend
// rounds (and the queue's retries and backoff), kills the agent with SIGKILL in
// the middle of the outage and starts it again on the same WAL, then checks in
// Prometheus, over the whole window, that every stable series was re-sent
// every resend interval: no longer gap (but across the agent's own restart),
// and no storm of extra samples either.
func TestResendCadenceAcrossOutage(t *testing.T) {
	// The longer interval shows a round that starts late: its spread (half the
	// interval) is well above the 2 s of slack.
	for _, every := range []time.Duration{resendInterval, 20 * time.Second} {
		t.Run(every.String(), func(t *testing.T) { testResendCadence(t, every) })
	}
}

func testResendCadence(t *testing.T, every time.Duration) {
	ns := fmt.Sprintf("e2e-cadence-%d", int(every.Seconds()))
	createNamespace(t, ns)
	createDeployment(t, ns, "steady", 1)
	waitAvailable(t, ns, "steady", 1)
	createPendingPod(t, ns, "waits")
	stable := []string{
		fmt.Sprintf(`kube_namespace_created{namespace=%q}`, ns),
		fmt.Sprintf(`kube_deployment_spec_replicas{namespace=%q,deployment="steady"}`, ns),
		fmt.Sprintf(`kube_deployment_created{namespace=%q,deployment="steady"}`, ns),
		fmt.Sprintf(`kube_pod_created{namespace=%q,pod="waits"}`, ns),
		fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="waits",phase="Pending"}`, ns),
	}
	// The outage covers several rounds and more than the queue's longest
	// backoff (5 s) and its retries.
	outage := max(4*every, 40*time.Second)
	dir := t.TempDir()
	flags := []string{"--wal-dir", dir, "--resend-interval", every.String()}

	begin := time.Now()
	first := startAgent(t, flags...)
	// Past the start-up push and the first rounds, then the outage.
	time.Sleep(2 * every)
	receiver(t, "stop")
	stopped := time.Now()
	t.Cleanup(func() { receiver(t, "start") }) // a no-op when running
	time.Sleep(outage / 2)
	first.kill9(t)
	killed := time.Now()
	second := launchAgent(t, flags...)
	relaunched := time.Now()
	time.Sleep(time.Until(stopped.Add(outage)))
	receiver(t, "start")
	second.waitReady(t)
	waitDrained(t, second, 2*time.Minute)
	// One more round after the drain, so that the window ends on the cadence.
	time.Sleep(every + 2*time.Second)
	end := time.Now()

	// What the restart may cost: the series' last sample before the kill is
	// at most an interval (+2 s) old, and the restarted agent pushes every
	// live series once its initial lists are applied, which on a loaded
	// machine takes up to restartStart after the launch.
	const restartStart = 10 * time.Second
	slack := 2 * time.Second
	restartBound := every + slack + relaunched.Sub(killed) + restartStart
	for _, q := range stable {
		ts, err := queryRaw(q, end.Sub(begin)+time.Second)
		if err != nil {
			t.Errorf("%s: %v", q, err)
			continue
		}
		ts = slices.DeleteFunc(ts, func(x time.Time) bool { return x.Before(begin) })
		if len(ts) < 2 {
			t.Errorf("%s: %d samples in the window", q, len(ts))
			continue
		}
		// The first sample of the restarted agent.
		restarted := slices.IndexFunc(ts, func(x time.Time) bool { return !x.Before(killed) })
		var maxGap, restartGap time.Duration
		var before, after int // samples before the kill and after the relaunch
		for i, x := range ts {
			if x.Before(killed) {
				before++
			} else {
				after++
			}
			if i == 0 {
				continue
			}
			gap := x.Sub(ts[i-1])
			if ts[i-1].Before(killed) && !x.Before(killed) {
				restartGap = gap
				if gap > restartBound {
					t.Errorf("%s: gap of %v across the restart (%s → %s), want at most %v", q, gap.Round(time.Millisecond),
						ts[i-1].Format("15:04:05.000"), x.Format("15:04:05.000"), restartBound)
				}
				continue
			}
			maxGap = max(maxGap, gap)
			if gap > every+slack {
				t.Errorf("%s: gap of %v (%s → %s; outage from %s), want at most %v + %v", q, gap.Round(time.Millisecond),
					ts[i-1].Format("15:04:05.000"), x.Format("15:04:05.000"), stopped.Format("15:04:05.000"), every, slack)
			}
			// The first round after a start-up push comes half an interval
			// after the loop started, which may be soon after a slow list.
			if gap < every/2-slack/2 && i-1 != 0 && i-1 != restarted {
				t.Errorf("%s: gap of only %v (%s → %s), want at least half of %v", q, gap.Round(time.Millisecond),
					ts[i-1].Format("15:04:05.000"), x.Format("15:04:05.000"), every)
			}
		}
		// No resend storm: one sample per interval in each run of the agent, plus
		// its start-up push and the first round half an interval after it.
		if limit := int(killed.Sub(begin)/every) + 2; before > limit {
			t.Errorf("%s: %d samples in the %v before the kill, want at most %d", q, before, killed.Sub(begin).Round(time.Second), limit)
		}
		if limit := int(end.Sub(relaunched)/every) + 2; after > limit {
			t.Errorf("%s: %d samples in the %v after the relaunch, want at most %d", q, after, end.Sub(relaunched).Round(time.Second), limit)
		}
		// And none missing: the outage is in the history.
		if want := int(end.Sub(begin)/every) - 2 - int(restartBound/every); before+after < want {
			t.Errorf("%s: %d samples in %v, want at least %d", q, before+after, end.Sub(begin).Round(time.Second), want)
		}
		t.Logf("%s: %d samples over %v (%d before the kill, %d after), longest gap %v, across the restart %v (bound %v)",
			q, len(ts), end.Sub(begin).Round(time.Second), before, after, maxGap.Round(time.Millisecond),
			restartGap.Round(time.Millisecond), restartBound.Round(time.Millisecond))
	}
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := second.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
}

// asRoot runs a command as root: directly when the test is root, else
// through sudo -n. It reports false when neither is possible.
func asRoot(args ...string) ([]byte, error) {
	if os.Geteuid() != 0 {
		args = append([]string{"sudo", "-n"}, args...)
	}
	return exec.Command(args[0], args[1:]...).CombinedOutput()
}

// pollTelemetry requests /readyz and /metrics every 200 ms with a short
// client timeout until stop is closed, and returns what failed and the
// slowest answer.
func pollTelemetry(a *agentProc, stop chan struct{}) (done func() (failures []string, slowest time.Duration)) {
	c := &http.Client{Timeout: 2 * time.Second}
	var mu sync.Mutex
	var fails []string
	var slow time.Duration
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			for _, path := range []string{"/readyz", "/metrics"} {
				start := time.Now()
				resp, err := c.Get("http://" + a.telemetry + path)
				took := time.Since(start)
				mu.Lock()
				slow = max(slow, took)
				if err != nil {
					fails = append(fails, fmt.Sprintf("%s %s: %v", start.Format("15:04:05.000"), path, err))
				} else {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				mu.Unlock()
			}
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Millisecond):
			}
		}
	}()
	return func() ([]string, time.Duration) {
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return fails, slow
	}
}

// TestWALDiskFull fills the WAL's device (a small tmpfs) while the receiver
// is down: the agent says so once, holds new samples back (counted) instead
// of stopping or dropping them, keeps answering /readyz and /metrics, and
// resumes by itself once there is space again; everything changed before is
// then delivered at its time, and the WAL reopens without a repair.
func TestWALDiskFull(t *testing.T) {
	mnt := t.TempDir()
	if out, err := asRoot("mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", mnt); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root or sudo -n): %v %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := asRoot("umount", mnt); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
	ns := "e2e-diskfull"
	createNamespace(t, ns)
	createPendingPod(t, ns, "changes")
	walDir := filepath.Join(mnt, "wal")
	a := startAgent(t, "--wal-dir", walDir)
	stop := make(chan struct{})
	telemetry := pollTelemetry(a, stop)

	before := time.Now() // the agent is ready: its first push is delivered
	receiver(t, "stop")
	t.Cleanup(func() { receiver(t, "start") })
	// A change before the device fills, made durable in the WAL.
	appended := a.metric("kube_state_push_wal_records_appended_total")
	running := patchPhase(t, ns, "changes", "Running")
	eventually(t, 10*time.Second, "the change appended to the WAL", func() error {
		if v := a.metric("kube_state_push_wal_records_appended_total"); v <= appended {
			return fmt.Errorf("%v records appended", v)
		}
		return nil
	})
	time.Sleep(time.Second) // past the change's own batch

	// Fill the device.
	filler := filepath.Join(mnt, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 1<<20)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("fill: %v", err)
			}
			break
		}
	}
	f.Close()
	full := time.Now()
	eventually(t, 20*time.Second, "the agent reports the full device", func() error {
		if v := a.metric("kube_state_push_wal_no_space "); v != 1 {
			return fmt.Errorf("kube_state_push_wal_no_space %v", v)
		}
		return nil
	})
	detected := time.Since(full)
	// A change while the device is full: held back, not lost.
	createPendingPod(t, ns, "during")
	during := time.Now()
	// Several resend rounds and retries with the device full.
	time.Sleep(5 * resendInterval)
	select {
	case err := <-a.done:
		t.Fatalf("agent exited with the device full: %v", err)
	default:
	}
	refusals := a.metric("kube_state_push_wal_no_space_refusals_total")
	heldBack := a.metric("kube_state_push_wal_held_back_samples_total")
	if refusals < 3 || heldBack <= 0 {
		t.Errorf("with the device full: %v refusals, %v samples held back; want some of both", refusals, heldBack)
	}
	if n := strings.Count(a.out.String(), "WAL device full"); n != 1 {
		t.Errorf("the full device was logged %d times, want once", n)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	freed := time.Now()
	eventually(t, 20*time.Second, "the agent resumes", func() error {
		if v := a.metric("kube_state_push_wal_no_space "); v != 0 {
			return fmt.Errorf("kube_state_push_wal_no_space %v", v)
		}
		if !strings.Contains(a.out.String(), "WAL device has space again") {
			return fmt.Errorf("no log line of the resumption")
		}
		return nil
	})
	resumed := time.Since(freed)
	receiver(t, "start")
	waitDrained(t, a, 2*time.Minute)
	close(stop)
	fails, slowest := telemetry()
	if len(fails) > 0 {
		t.Errorf("/readyz or /metrics did not answer within 2s %d times: %v", len(fails), fails)
	}

	checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="changes",phase="Running"}`, ns), before, 0)
	checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="changes",phase="Running"}`, ns), running.Add(3*time.Second), 1)
	eventually(t, 10*time.Second, "the pod created with the device full", func() error {
		return queryValue(fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="during",phase="Pending"}`, ns), 1)
	})
	// Held back in memory, it kept the time it was seen at.
	checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="during",phase="Pending"}`, ns), during.Add(3*time.Second), 1)
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	for _, m := range []string{"kube_state_push_remote_write_samples_dropped_total", "kube_state_push_wal_dropped_samples_total"} {
		if v := a.metric(m); v != 0 {
			t.Errorf("%s %v", m, v)
		}
	}

	// The log is whole: it reopens without a repair.
	a.stop(t)
	b := startAgent(t, "--wal-dir", walDir)
	if v := b.metric("kube_state_push_wal_repairs"); v != 0 || strings.Contains(b.out.String(), "WAL repaired") {
		t.Errorf("the WAL was repaired at reopen (%v segments cut)", v)
	}
	t.Logf("full device seen after %v, resumed %v after space came back; %v refusals, %v samples held back; slowest /readyz or /metrics %v",
		detected.Round(time.Millisecond), resumed.Round(time.Millisecond), refusals, heldBack, slowest.Round(time.Millisecond))
}

// flushDeadline is the agent's default --flush-deadline.
const flushDeadline = 10 * time.Second

// TestSIGTERMDuringOutage sends SIGTERM to an agent whose receiver has been
// down for a while: it exits within --flush-deadline (the default), with
// --wal-dir keeping what it did not send for the next start, and without it
// saying what it dropped.
func TestSIGTERMDuringOutage(t *testing.T) {
	for _, withWAL := range []bool{true, false} {
		t.Run(fmt.Sprintf("wal=%v", withWAL), func(t *testing.T) { testSIGTERMDuringOutage(t, withWAL) })
	}
}

func testSIGTERMDuringOutage(t *testing.T, withWAL bool) {
	ns := fmt.Sprintf("e2e-sigterm-%v", withWAL)
	createNamespace(t, ns)
	createPendingPod(t, ns, "changes")
	// A small queue, which the resends fill while the receiver is down: the
	// batcher (without a WAL) or the WAL's sender then waits to hand samples
	// on when the signal comes.
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("remote_write:\n  - name: default\n    url: %s/api/v1/write\n"+
		"    queue_config: {capacity: 200, max_samples_per_send: 100, min_shards: 1, max_shards: 1}\n", env.promURL)), 0o600); err != nil {
		t.Fatal(err)
	}
	flags := []string{"--config", cfg}
	if withWAL {
		flags = append(flags, "--wal-dir", t.TempDir())
	}
	a := startAgent(t, flags...)
	before := time.Now() // the agent is ready: its first push is delivered
	receiver(t, "stop")
	t.Cleanup(func() { receiver(t, "start") })
	running := patchPhase(t, ns, "changes", "Running")
	// Long enough for the queue to retry and back off (5 s at most), over
	// several resend rounds.
	time.Sleep(4 * resendInterval)

	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	var exitErr error
	select {
	case exitErr = <-a.done:
	case <-time.After(flushDeadline + 30*time.Second):
		t.Fatalf("agent still running %v after SIGTERM", time.Since(signalled).Round(time.Millisecond))
	}
	took := time.Since(signalled)
	// It keeps sending until the deadline (the receiver is down), then stops:
	// the telemetry servers get up to 3 s to close, and the machine is loaded.
	if lo, hi := flushDeadline-time.Second, flushDeadline+5*time.Second; took < lo || took > hi {
		t.Errorf("exited %v after SIGTERM, want %v..%v (--flush-deadline %v)", took.Round(time.Millisecond), lo, hi, flushDeadline)
	}
	if exitErr != nil {
		t.Errorf("exit: %v", exitErr)
	}
	out := a.out.String()
	t.Logf("exited %v after SIGTERM", took.Round(time.Millisecond))

	if !withWAL {
		i := strings.Index(out, "Dropped samples not sent by the flush deadline")
		if i < 0 {
			t.Fatalf("no log line of the samples dropped")
		}
		line, _, _ := strings.Cut(out[i:], "\n")
		t.Logf("%s", line)
		if strings.Contains(line, "dropped=0 ") {
			t.Errorf("want samples counted as dropped: %s", line)
		}
		return
	}
	if !strings.Contains(out, "samples not yet sent stay in the WAL") {
		t.Errorf("no log line of what stays in the WAL")
	}
	// The next start sends what was not sent, at its time.
	b := launchAgent(t, flags...)
	receiver(t, "start")
	b.waitReady(t)
	waitDrained(t, b, 2*time.Minute)
	checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="changes",phase="Running"}`, ns), before, 0)
	checkAt(t, fmt.Sprintf(`kube_pod_status_phase{namespace=%q,pod="changes",phase="Running"}`, ns), running.Add(3*time.Second), 1)
	if v := receiverRejected(t); v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
}

// TestLongOutageWithoutWAL keeps the receiver down, without a WAL, while
// resends every second fill what the agent may hold in memory: the samples
// waiting never pass --max-pending-samples and the queue's capacity, the heap
// stops growing once they are reached, the time the watches wait is counted,
// /readyz and /metrics answer throughout, and when the receiver is back every
// pod's current state is pushed, changes made while the watches waited
// included, with nothing rejected.
func TestLongOutageWithoutWAL(t *testing.T) {
	ns := "e2e-longoutage"
	createNamespace(t, ns)
	for i := range 3 {
		createPendingPod(t, ns, fmt.Sprintf("p-%d", i))
	}
	const maxPending, capacity, perSend = 5000, 1000, 500
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("remote_write:\n  - name: default\n    url: %s/api/v1/write\n"+
		"    queue_config: {capacity: %d, max_samples_per_send: %d, min_shards: 1, max_shards: 1}\n", env.promURL, capacity, perSend)), 0o600); err != nil {
		t.Fatal(err)
	}
	rejected := receiverRejected(t)
	a := startAgent(t, "--config", cfg, "--resend-interval", "1s", "--max-pending-samples", fmt.Sprint(maxPending))
	stop := make(chan struct{})
	telemetry := pollTelemetry(a, stop)
	series := a.metric("kube_state_push_snapshot_series")

	receiver(t, "stop")
	t.Cleanup(func() { receiver(t, "start") })
	down := time.Now()
	var heapFull, heapMax, pendingMax, queueMax float64
	sample := func() {
		pendingMax = max(pendingMax, a.metric("kube_state_push_pending_samples"))
		queueMax = max(queueMax, a.metric(`kube_state_push_remote_write_pending_samples{endpoint="default"}`))
		heapMax = max(heapMax, a.metric("go_memstats_heap_inuse_bytes"))
	}
	full := eventually(t, 2*time.Minute, "pending samples at --max-pending-samples", func() error {
		sample()
		if v := a.metric("kube_state_push_pending_wait_seconds_total"); v == 0 {
			return fmt.Errorf("%v pending, the watches have not waited yet", a.metric("kube_state_push_pending_samples"))
		}
		return nil
	})
	heapFull, heapMax = heapMax, 0
	// While the watches wait: changes the agent sees only after the outage.
	patchPhase(t, ns, "p-0", "Running")
	deletePod(t, ns, "p-1")
	createPendingPod(t, ns, "p-3")
	for range 30 { // 30 s at the cap, sampled every second
		time.Sleep(time.Second)
		sample()
	}
	waited := a.metric("kube_state_push_pending_wait_seconds_total")

	receiver(t, "start")
	back := time.Now()
	settle := eventually(t, 2*time.Minute, "every pod's current state pushed", func() error {
		if _, err := podsMatchAPI(ns); err != nil {
			return err
		}
		return noPodSeries(ns, []string{"p-1"})
	})
	close(stop)
	fails, slowest := telemetry()

	if pendingMax > maxPending {
		t.Errorf("%v samples pending, over --max-pending-samples %d", pendingMax, maxPending)
	}
	// The queue's shard holds its capacity and the request it is sending.
	if queueMax > capacity+perSend {
		t.Errorf("%v samples in the queue, over its capacity %d and one request of %d", queueMax, capacity, perSend)
	}
	// Once full, nothing more is held: the heap stays where it was, up to
	// the collector's slack.
	if heapMax > heapFull+16<<20 {
		t.Errorf("heap in use grew from %.1f MiB when full to %.1f MiB during the outage", heapFull/(1<<20), heapMax/(1<<20))
	}
	if waited < 20 {
		t.Errorf("the watches waited %.1f s in 30 s at the cap, want most of it counted", waited)
	}
	if len(fails) > 0 {
		t.Errorf("/readyz or /metrics did not answer within 2s %d times: %v", len(fails), fails)
	}
	if v := receiverRejected(t) - rejected; v != 0 {
		t.Errorf("receiver rejected %v samples or requests", v)
	}
	if v := a.metric("kube_state_push_remote_write_samples_dropped_total"); v != 0 {
		t.Errorf("agent dropped %v samples", v)
	}
	t.Logf("%v series resent every second; cap reached %v after the receiver stopped (pending at most %v, queue %v); heap in use %.1f MiB when full, at most %.1f MiB in the next 30 s; watches waited %.1f s; current state pushed %v after the receiver came back (outage %v); slowest /readyz or /metrics %v",
		series, full.Round(time.Millisecond), pendingMax, queueMax, heapFull/(1<<20), heapMax/(1<<20), waited,
		settle.Round(time.Millisecond), back.Sub(down).Round(time.Second), slowest.Round(time.Millisecond))
}
