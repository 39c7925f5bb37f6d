package snapshot

import "github.com/kube-state-push/kube-state-push/series"

// The snapshot's side of a shard handover: the agent decides when the
// assignment changes and how long the handover lasts (agent/sharding.go states
// the rule); the snapshot drops the objects that leave, holds those that
// arrive, and releases them when the handover ends.

// SetShard makes the snapshot keep only the objects owns reports for (the
// new shard assignment). Objects it does not own are handed over: each of
// their series gets one last sample now, with its current value, and the
// objects are dropped without a staleness marker. Objects that arrive before
// holdUntil (Unix ms) are held. It returns the last samples of the
// handed-over series.
func (s *Snapshot) SetShard(owns func(uid string) bool, holdUntil int64) []series.Sample {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var last []series.Sample
	for _, set := range s.sets {
		for uid, o := range set.objects {
			if owns(uid) {
				continue
			}
			if !o.silent() { // a held object was never sent from here
				for i := range o.series {
					ls := &o.series[i]
					s.emitLocked(o.base, ls, ls.value, now, s.startOf(o, ls))
					last = append(last, s.buf[len(s.buf)-1])
				}
			}
			for i := range o.series {
				s.extras.release(o.series[i].extra)
			}
			s.forgetLocked(set, uid)
			if len(s.buf) >= flushSamples {
				s.flushLocked()
			}
		}
	}
	s.flushLocked()
	s.holdUntil = max(s.holdUntil, holdUntil)
	return last
}

// ReleaseHeld ends the series of held objects that ended during the
// handover, then sends the series of the held objects, stamped now, and
// returns how many objects it released.
func (s *Snapshot) ReleaseHeld() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now, n := s.now(), 0
	if len(s.heldEnded) > 0 {
		for i := range s.heldEnded {
			s.endLocked(s.heldEnded[i].base, &s.heldEnded[i].ls, now)
		}
		clear(s.heldEnded)
		s.heldEnded = s.heldEnded[:0]
		// A held object that starts one of these series again (deleted and
		// created again under the same name) follows its marker.
		now++
	}
	for _, set := range s.sets {
		for _, o := range set.objects {
			if !o.held {
				continue
			}
			o.held = false
			n++
			if o.unborn == 0 {
				s.resendObjectLocked(o, now)
			}
		}
	}
	s.flushLocked()
	return n
}

// KeepRestored makes the series the WAL knew from before this start not
// live: nothing ends them. The agent calls it when the shard assignment
// changed while it was down, as it cannot tell then a deleted object from one
// that moved to another shard.
func (s *Snapshot) KeepRestored() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.restored {
		p.Live = false
	}
}
