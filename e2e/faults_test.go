package e2e

import (
	"fmt"
	"slices"
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
