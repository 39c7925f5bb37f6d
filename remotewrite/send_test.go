package remotewrite

import (
	"testing"
	"time"
)

// Jitter only lengthens a wait: no retry comes before min_backoff or after
// max_backoff, each wait is at least its exponential interval, and the waits
// are spread, not all equal.
func TestBackoffFloorAndCap(t *testing.T) {
	const (
		minB  = 30 * time.Millisecond
		maxB  = 5 * time.Second
		draws = 2000
		steps = 16 // 30ms * 1.5^15 is past max_backoff: the cap is reached
	)
	cfg := withDefaults(QueueConfig{MinBackoff: minB, MaxBackoff: maxB})
	firsts := map[time.Duration]bool{}
	var lowest, highest time.Duration = maxB, 0
	for range draws {
		bo := newBackoff(cfg)
		interval := minB
		for step := range steps {
			w := bo.NextBackOff()
			if w < minB || w > maxB {
				t.Fatalf("step %d: wait %v outside [%v, %v]", step, w, minB, maxB)
			}
			if w < interval {
				t.Fatalf("step %d: wait %v shorter than its interval %v", step, w, interval)
			}
			if hi := min(time.Duration(float64(interval)*1.5), maxB); w > hi {
				t.Fatalf("step %d: wait %v longer than interval*1.5 = %v", step, w, hi)
			}
			if step == 0 {
				firsts[w] = true
				lowest, highest = min(lowest, w), max(highest, w)
			}
			interval = min(time.Duration(float64(interval)*1.5), maxB)
		}
	}
	if len(firsts) < draws/2 {
		t.Errorf("%d distinct first waits in %d draws: no jitter", len(firsts), draws)
	}
	// Uniform over [30ms, 45ms]: 2000 draws cover most of it.
	if highest-lowest < 10*time.Millisecond {
		t.Errorf("first waits span only %v..%v", lowest, highest)
	}
}

// A max_backoff below min_backoff is raised to it: min_backoff stays a floor
// and no wait exceeds the cap.
func TestBackoffMaxBelowMin(t *testing.T) {
	cfg := withDefaults(QueueConfig{MinBackoff: 200 * time.Millisecond, MaxBackoff: 50 * time.Millisecond})
	bo := newBackoff(cfg)
	for step := range 5 {
		if w := bo.NextBackOff(); w != 200*time.Millisecond {
			t.Errorf("step %d: wait %v, want 200ms", step, w)
		}
	}
}
